"""storage.query: one article by id or URL, its versions, word diffs, stats, dates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import query
from storage.db import Archive
from storage.errors import NotFound, QueryError
from storage.models import CrawlRun
from tests.factories import later
from tests.query_support import Built, build, filler

URL = "https://ledger.example/2024/05/01/flood/"
ORIGINAL = "The harbour wall will be raised by two metres, the council said.\n\n" + filler(1)
EDITED = "The harbour wall will be raised by three metres, the council said.\n\n" + filler(1)


@pytest.fixture
def edited(db_url: str, tmp_path: Path) -> Built:
    b = build(db_url, tmp_path)
    b.add(URL, "Council approves flood defence", ORIGINAL)
    b.add(URL + "?utm_source=x", "Council approves flood defence", ORIGINAL, at=later(1))
    b.add(URL, "Council approves bigger flood defence", EDITED, at=later(6))
    return b


def test_edited_article_has_two_versions_and_its_history(edited: Built) -> None:
    with Archive(edited.url, readonly=True) as a, a.session() as s:
        article, versions = query.article_history(s, 1)
    assert article["versions"] == 2 and article["version"] == 2
    assert [v.n for v in versions] == [1, 2]
    assert versions[0].last_seen_at == later(1)  # the unchanged re-fetch only moved this
    assert "three metres" in (versions[1].text or "")
    assert versions[1].change_kind == "both"


def test_diff_shows_the_edited_words(edited: Built) -> None:
    with Archive(edited.url, readonly=True) as a, a.session() as s:
        d = query.diff(s, 1)
    text = d.unified()
    assert "[-two-]{+three+}" in text
    assert "{+bigger +}" in text or "{+bigger+}" in text
    assert "@@ ¶1 @@" in text and "@@ ¶2 @@" not in text  # unchanged paragraphs are left out


def test_article_found_by_id_or_any_url_variant(edited: Built) -> None:
    with Archive(edited.url, readonly=True) as a, a.session() as s:
        by_id = query.get_article(s, "1")
        by_variant = query.get_article(s, URL + "?utm_source=x")
        by_fragment = query.get_article(s, URL + "#top")
    assert by_id == by_variant == by_fragment


def test_article_json_has_the_documented_fields(edited: Built) -> None:
    with Archive(edited.url, readonly=True) as a, a.session() as s:
        art = query.get_article(s, 1)
    assert set(art) >= {
        "id", "site", "url", "canonical_url", "title", "authors", "published_at",
        "modified_at", "language", "categories", "tags", "text", "version", "versions",
        "first_seen_at", "last_seen_at", "cluster_id",
    }  # fmt: skip
    assert art["title"] == "Council approves bigger flood defence"
    assert art["authors"] == ["Ada Lovelace"] and art["categories"] == ["Local"]
    assert datetime.fromisoformat(art["published_at"]).utcoffset() is not None


@pytest.mark.parametrize("ref", ["999", "https://nowhere.example/a", "not an article"])
def test_unknown_article_is_a_clear_error(edited: Built, ref: str) -> None:
    with (
        Archive(edited.url, readonly=True) as a,
        a.session() as s,
        pytest.raises((NotFound, QueryError)) as info,
    ):
        query.get_article(s, ref)
    assert ref in str(info.value)


def test_diff_of_a_version_that_does_not_exist(edited: Built) -> None:
    with (
        Archive(edited.url, readonly=True) as a,
        a.session() as s,
        pytest.raises(QueryError, match=r"versions 1\.\.2, not 5"),
    ):
        query.diff(s, 1, 1, 5)


def test_iter_articles_streams_current_or_every_version(edited: Built) -> None:
    edited.add("https://ledger.example/other/", "Other", filler(2))
    with Archive(edited.url, readonly=True) as a, a.session() as s:
        current = list(query.iter_articles(s))
        every = list(query.iter_articles(s, all_versions=True))
        ledger_only = list(query.iter_articles(s, query.Filters(site="courier")))
    assert [r["id"] for r in current] == [1, 2]
    assert [(r["id"], r["version"]) for r in every] == [(1, 1), (1, 2), (2, 1)]
    assert "two metres" in every[0]["text"] and "three metres" in every[1]["text"]
    assert ledger_only == []


def test_stats_flag_a_run_whose_pages_lost_their_bodies(db_url: str, tmp_path: Path) -> None:
    from storage import ingest
    from storage.records import PageState
    from tests.factories import capture, extracted

    with Archive(db_url) as a, a.session() as s:
        for run in (1, 2, 3):
            row = CrawlRun(site="ledger", started_at=later(run), status="ok", stats={})
            s.add(row)
            s.flush()
            for i in range(4):
                cap = capture(f"https://ledger.example/{run}/{i}", at=later(run), site="ledger")
                cap = type(cap)(**{**_fields(cap), "crawl_run_id": row.id})
                # Run 3: the site changed its layout, the extractor finds no text any more.
                ex = extracted(f"t{run}{i}", filler(run * 10 + i))
                if run == 3:
                    ex = type(ex)(extractor_id="test/1", state=PageState.ARTICLE, title="t")
                ingest.record(s, cap, ex)
    with Archive(db_url, readonly=True) as a, a.session() as s:
        (site,) = query.stats(s, last_runs=3)
    assert site.articles == 8 and site.versions == 8
    assert [r["health"]["empty_body"] for r in site.runs] == [1.0, 0.0, 0.0]
    assert any("empty body 100%" in w for w in site.warnings)


def _fields(obj: object) -> dict[str, object]:
    return {k: getattr(obj, k) for k in obj.__slots__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2024-05-06", False, datetime(2024, 5, 6, tzinfo=UTC)),
        ("2024-05-06", True, datetime(2024, 5, 7, tzinfo=UTC)),
        ("2024-12", True, datetime(2025, 1, 1, tzinfo=UTC)),
        ("2024-05-06T10:00:00+02:00", False, datetime(2024, 5, 6, 8, tzinfo=UTC)),
    ],
)
def test_dates_users_type(text: str, end: bool, expected: datetime) -> None:
    assert query.parse_when(text, end=end) == expected


def test_bad_date_names_the_accepted_forms() -> None:
    with pytest.raises(QueryError, match="bad date '05/06/2024': use YYYY-MM-DD"):
        query.parse_when("05/06/2024")
