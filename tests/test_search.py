"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector): phrases, filters, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Archive
from storage.errors import QueryError
from storage.search import Filters, search, to_fts5
from tests.factories import later
from tests.query_support import Built, build
from tests.query_support import filler as body


@pytest.fixture
def archive(db_url: str, tmp_path: Path) -> Built:
    b = build(db_url, tmp_path)
    b.add(
        "https://ledger.example/2024/05/01/flood/",
        "Council approves flood defence",
        "The harbour wall will be raised by two metres.\n\n" + body(1, 120),
        published=later(0),
        authors=("Grace Tanaka",),
    )
    b.add(
        "https://courier.example/news/bridge.html",
        "Bridge closed for repairs",
        "Engineers found cracks in the old river bridge.\n\n" + body(2, 120),
        site="courier",
        published=later(48),
        authors=("José Álvarez", "Mia Chen"),
        language="es",
    )
    b.add(
        "https://ledger.example/2024/05/03/budget/",
        "Budget vote delayed",
        "The harbour authority asked for more time before the vote.\n\n" + body(3, 120),
        published=later(96),
        authors=("Sam Roe",),
    )
    return b


def ids(url: str, query: str, filters: Filters | None = None, **kw: object) -> list[int]:
    with Archive(url, readonly=True) as a, a.session() as s:
        return [h.article_id for h in search(s, query, filters, **kw)]  # type: ignore[arg-type]


def test_phrase_from_body_finds_the_article(archive: Built) -> None:
    assert ids(archive.url, '"raised by two metres"') == [1]
    assert ids(archive.url, '"two raised metres"') == []  # a phrase, not a bag of words


def test_plain_words_must_all_match_and_or_widens(archive: Built) -> None:
    assert sorted(ids(archive.url, "harbour")) == [1, 3]
    assert ids(archive.url, "harbour vote") == [3]
    assert sorted(ids(archive.url, "cracks OR vote")) == [2, 3]
    assert ids(archive.url, "harbour -vote") == [1]


def test_filters_by_site_author_language_and_published_date(archive: Built) -> None:
    assert ids(archive.url, "harbour", Filters(site="courier")) == []
    assert ids(archive.url, "bridge", Filters(author="álvarez")) == [2]
    assert ids(archive.url, "harbour", Filters(author="tanaka")) == [1]
    assert ids(archive.url, "bridge", Filters(language="es")) == [2]
    assert ids(archive.url, "harbour", Filters(since=later(1))) == [3]
    assert ids(archive.url, "harbour", Filters(until=later(1))) == [1]


def test_sort_by_date_pages_newest_first(archive: Built) -> None:
    everything = "harbour OR bridge"
    assert ids(archive.url, everything, sort="date") == [3, 2, 1]
    assert ids(archive.url, everything, sort="date", limit=2, offset=2) == [1]


def test_title_words_rank_above_body_words(archive: Built) -> None:
    archive.add("https://ledger.example/x/", "Cracks everywhere", body(9, 120), published=later(5))
    assert ids(archive.url, "cracks")[0] == 4


def test_search_sees_only_the_current_version(archive: Built) -> None:
    archive.add(
        "https://ledger.example/2024/05/01/flood/",
        "Council approves flood defence",
        "The harbour wall will be raised by three metres.\n\n" + body(1, 120),
        at=later(5),
    )
    assert ids(archive.url, '"three metres"') == [1]
    assert ids(archive.url, '"two metres"') == []


@pytest.mark.parametrize("query", ['harbour "wall', '"', "-harbour", "   ", "OR", "-- ** !!"])
def test_bad_queries_raise_query_error(archive: Built, query: str) -> None:
    with pytest.raises(QueryError):
        ids(archive.url, query)


@pytest.mark.parametrize("query", ["harbour AND", "NOT harbour", "near(harbour", "a:b"])
def test_fts_operators_typed_by_users_are_plain_words(archive: Built, query: str) -> None:
    # No syntax error on either backend: AND, NOT, NEAR, column filters are words that must
    # match like any other, and no article has them.
    assert ids(archive.url, query) == []
    assert sorted(ids(archive.url, "harbour")) == [1, 3]


def test_a_trailing_star_is_not_a_prefix_query(archive: Built) -> None:
    assert sorted(ids(archive.url, "harbour*")) == [1, 3]
    assert ids(archive.url, "harb*") == []


def test_fts5_rewriting_quotes_every_term() -> None:
    assert to_fts5('flood "sea wall" OR dyke -storm') == (
        '("flood" AND ("sea wall" OR "dyke")) NOT "storm"'
    )


def test_a_hundred_excluded_words_neither_overflow_nor_change_the_hits(archive: Built) -> None:
    nothing = " ".join(f"-zzq{i}" for i in range(100))
    assert sorted(ids(archive.url, f"harbour {nothing}")) == [1, 3]
    assert ids(archive.url, f"harbour {nothing} -vote") == [1]


def test_language_wildcards_are_plain_characters(archive: Built) -> None:
    assert ids(archive.url, "harbour OR cracks", Filters(language="es")) == [2]
    assert ids(archive.url, "harbour OR cracks", Filters(language="%")) == []
    assert ids(archive.url, "harbour OR cracks", Filters(language="_s")) == []
