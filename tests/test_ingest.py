"""ingest.record on real SQLite files and the local PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import Archive
from storage.ingest import record
from storage.models import Article, ArticleUrl, CaptureRow, Extraction, Version
from storage.records import Outcome, PageState
from storage.search import search
from tests.factories import T0, body, capture, extracted, later

URL = "https://news.example.com/2026/11/01/harbour-bridge-vote/"


def _count(archive: Archive, model: type) -> int:
    with archive.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_same_text_twice_makes_one_version(db_url: str) -> None:
    with Archive(db_url) as archive:
        with archive.session() as s:
            first = record(s, capture(URL), extracted("Bridge vote", body(1)))
        with archive.session() as s:
            again = record(s, capture(URL, at=later(6)), extracted("Bridge  vote", body(1)))
        assert (first.outcome, again.outcome) == (Outcome.NEW, Outcome.UNCHANGED)
        assert _count(archive, Version) == 1
        assert _count(archive, CaptureRow) == 2
        with archive.session() as s:
            art = s.scalars(select(Article)).one()
            version = s.scalars(select(Version)).one()
        assert art.first_seen_at == T0 and art.last_seen_at == later(6)
        assert art.last_changed_at == T0 and version.last_seen_at == later(6)


def test_changed_body_makes_version_two_with_diff_size(db_url: str) -> None:
    text = body(2)
    edited = (
        text.replace("council", "city council", 1)
        + "\n\nCorrection: an earlier version misnamed the bridge."
    )
    with Archive(db_url) as archive:
        with archive.session() as s:
            record(s, capture(URL), extracted("Bridge vote", text))
        with archive.session() as s:
            res = record(s, capture(URL, at=later(1)), extracted("Bridge vote", edited))
        assert res.outcome == Outcome.CHANGED and res.version == 2
        with archive.session() as s:
            v2 = s.scalars(select(Version).where(Version.n == 2)).one()
            art = s.scalars(select(Article)).one()
        assert v2.change_kind == "body"
        # The diff counts the characters of the words added: "city" + the correction line.
        added = "city" + "Correction: an earlier version misnamed the bridge.".replace(" ", "")
        assert v2.chars_added == len(added)
        assert v2.chars_removed == 0
        assert art.current_version == 2 and art.text and "Correction" in art.text


def test_title_only_edit_is_a_title_change(db_url: str) -> None:
    with Archive(db_url) as archive:
        with archive.session() as s:
            record(s, capture(URL), extracted("Bridge vote", body(3)))
            res = record(s, capture(URL, at=later(2)), extracted("Bridge vote delayed", body(3)))
            v2 = s.scalars(select(Version).where(Version.n == 2)).one()
        assert res.outcome == Outcome.CHANGED and v2.change_kind == "title"


def test_url_variants_land_on_one_article(db_url: str) -> None:
    canonical = URL
    variants = [
        (URL + "?utm_source=twitter&utm_medium=social", None),
        (URL + "?fbclid=IwAR0abc", None),
        (URL + "#comments", None),
        ("https://NEWS.Example.COM/2026/11/01/harbour-bridge-vote/", None),
        ("https://news.example.com/2026/11/01/harbour-bridge-vote/amp/", canonical),
    ]
    with Archive(db_url) as archive:
        for i, (url, declared) in enumerate(variants):
            with archive.session() as s:
                record(
                    s,
                    capture(url, at=later(i)),
                    extracted("Bridge vote", body(4), canonical=declared),
                )
        with archive.session() as s:
            articles = s.scalars(select(Article)).all()
            known = set(s.scalars(select(ArticleUrl.url)).all())
        assert [a.canonical_url for a in articles] == [canonical]
        assert articles[0].current_version == 1
        assert variants[4][0] in known and variants[0][0] in known


def test_wire_copy_on_another_site_shares_cluster(db_url: str) -> None:
    original = body(5, words=600)
    copy = "LONDON (Wire) - " + original + "\n\nReporting by Jane Roe; editing by Tom Poe."
    other = body(99, words=600)
    with Archive(db_url) as archive:
        with archive.session() as s:
            a = record(s, capture(URL), extracted("Bridge vote", original))
            b = record(
                s,
                capture(
                    "https://metro.example.org/news/bridge-vote-123.html",
                    site="site-b",
                    at=later(3),
                ),
                extracted("Bridge vote", copy),
            )
            c = record(
                s,
                capture(
                    "https://metro.example.org/news/other-456.html", site="site-b", at=later(4)
                ),
                extracted("Other", other),
            )
        with archive.session() as s:
            rows = {r.id: r for r in s.scalars(select(Article))}
        assert len(rows) == 3, "near-duplicates are clustered, never dropped"
        assert rows[a.article_id].cluster_id is not None
        assert rows[a.article_id].cluster_id == rows[b.article_id].cluster_id
        assert rows[c.article_id].cluster_id is None


def test_metered_paywall_lead_never_replaces_the_fuller_text(db_url: str) -> None:
    with Archive(db_url) as archive:
        with archive.session() as s:
            record(s, capture(URL), extracted("Bridge vote", body(6)))
            res = record(
                s,
                capture(URL, at=later(1)),
                extracted("Bridge vote", "Subscribe to read.", state=PageState.PAYWALLED),
            )
            again = record(s, capture(URL, at=later(2)), extracted("Bridge vote", body(6)))
            art = s.scalars(select(Article)).one()
            states = s.scalars(select(Extraction.state).order_by(Extraction.id)).all()
        assert res.outcome == again.outcome == Outcome.UNCHANGED
        assert art.current_version == 1 and art.status == "ok"
        assert art.text == body(6)
        assert states == ["article", "paywalled", "article"]
        assert _count(archive, Version) == 1


def test_paywalled_lead_is_archived_searchable_and_versioned(db_url: str) -> None:
    lead = "The harbour authority approved the bridge vote after a long night."
    with Archive(db_url) as archive:
        with archive.session() as s:
            first = record(
                s, capture(URL), extracted("Bridge vote", lead, state=PageState.PAYWALLED)
            )
            art = s.scalars(select(Article)).one()
            assert (first.outcome, art.status, art.current_version) == (Outcome.NEW, "paywalled", 1)
        with archive.session() as s:
            assert [h.article_id for h in search(s, "harbour authority")] == [art.id]
            # The full text served later (a metered paywall letting one read through) is fuller.
            full = record(s, capture(URL, at=later(1)), extracted("Bridge vote", lead + body(6)))
            assert full.outcome == Outcome.CHANGED and full.version == 2
            assert s.scalars(select(Article)).one().status == "ok"


def test_revisit_capture_moves_only_last_seen(db_url: str) -> None:
    with Archive(db_url) as archive:
        with archive.session() as s:
            record(s, capture(URL), extracted("Bridge vote", body(7)))
        with archive.session() as s:
            res = record(s, capture(URL, at=later(24), revisit=True), None)
        assert res.outcome == Outcome.UNCHANGED
        with archive.session() as s:
            art = s.scalars(select(Article)).one()
            rows = s.scalars(select(CaptureRow).order_by(CaptureRow.id)).all()
        assert art.last_seen_at == later(24) and art.last_changed_at == T0
        assert rows[1].record_kind == "revisit" and rows[1].revisit_of == rows[0].id


def test_a_copy_between_two_clusters_merges_them_whole(db_url: str) -> None:
    # Same wire story: A and A2 on day 0, B and B2 on day 8 (outside each other's window),
    # then C on day 4, near both groups: all five must end up under one cluster id.
    story = body(11, words=600)
    with Archive(db_url) as archive:
        with archive.session() as s:
            for i, (host, hours) in enumerate(
                [("a", 0), ("a2", 1), ("b", 8 * 24), ("b2", 8 * 24 + 1), ("c", 4 * 24)]
            ):
                url = f"https://{host}.example.org/news/story-{i}.html"
                record(s, capture(url, site=host, at=later(hours)), extracted("Story", story))
        with archive.session() as s:
            clusters = {
                a.canonical_url.split("//")[1].split(".")[0]: a.cluster_id
                for a in s.scalars(select(Article))
            }
    assert clusters["a"] == clusters["a2"] and clusters["b"] == clusters["b2"]
    assert len(set(clusters.values())) == 1 and None not in clusters.values()
