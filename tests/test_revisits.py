"""Revisits on a short ladder (1s, 2s) find an edit; the ladder moves on and then stops.

One scenario, module-wide (each step is a real `newsarchive crawl` process): archive the
Ledger, let the site edit some articles, run `crawl --only-revisits` twice as the ladder's
steps fall due, then once more when nothing is due.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from crawler.demo_site import LoggedRequest, make_sites, serve
from crawler.demo_site.world import DemoSite
from storage.db import Archive
from storage.models import Article, CrawlRun, UrlState
from tests.crawling import run_cli, write_config
from tests.fault_crawling import articles, aware, edit_config, last_run, url_states

LADDER = (timedelta(seconds=1), timedelta(seconds=2))
NOT_DUE = 2  # archived articles whose next check the test moves an hour ahead


@dataclass
class Step:
    """One crawl of the scenario: what was requested, the archive after it, its run row."""

    log: list[LoggedRequest]
    articles: dict[str, Article]
    states: dict[str, UrlState]
    run: CrawlRun
    stdout: str

    def fetched(self) -> set[str]:
        return {r.path.split("?")[0] for r in self.log}


@dataclass
class Scenario:
    """The Ledger and the archive through a first crawl and three revisit runs."""

    site: DemoSite
    first: Step
    revisit1: Step
    revisit2: Step
    idle: Step
    not_due: set[str] = field(default_factory=set)

    def path(self, url: str) -> str:
        return "/" + url.split("/", 3)[3]


def _wait_for_due(step: Step, skip: set[str]) -> None:
    """Sleep until every archived article's next check has come (10 s at most)."""
    pending = [
        aware(st.next_check_at)
        for url, st in step.states.items()
        if url in step.articles and url not in skip and st.next_check_at is not None
    ]
    if pending:
        wait = (max(pending) - datetime.now(UTC)).total_seconds()
        time.sleep(min(max(0.0, wait), 10.0) + 0.2)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("revisits")
    ledger, _ = make_sites(
        categories=2, articles_per_category=6, page_size=6, new_per_round=1, edits_per_round=3
    )
    with serve(ledger) as server:
        db_url = f"sqlite:///{tmp / 'archive.db'}"
        config = write_config(tmp, db_url, server, {"ledger": ledger}, max_pages=1)
        edit_config(config, "ledger", revisit='["1s", "2s"]')

        def step(*args: str) -> Step:
            server.clear_log()
            out = run_cli("crawl", "ledger", *args, config=config, timeout=120).stdout
            return Step(
                server.requests("ledger"),
                articles(db_url),
                url_states(db_url),
                last_run(db_url),
                out,
            )

        first = step()
        server.advance()  # round 1: some archived articles are edited
        edited = {a.url for a in ledger.edited_in_round(1)}
        # Two unedited articles are not due for an hour: the revisit run must leave them be.
        not_due = set(sorted(set(first.articles) - edited)[:NOT_DUE])
        with Archive(db_url) as archive, archive.session() as s:
            s.execute(
                update(UrlState)
                .where(UrlState.url.in_(not_due))
                .values(next_check_at=datetime.now(UTC) + timedelta(hours=1))
            )
        _wait_for_due(first, not_due)
        revisit1 = step("--only-revisits")
        _wait_for_due(revisit1, not_due)
        revisit2 = step("--only-revisits")
        idle = step("--only-revisits")
        yield Scenario(ledger, first, revisit1, revisit2, idle, not_due)


def _article_states(step: Step) -> dict[str, UrlState]:
    return {url: st for url, st in step.states.items() if url in step.articles}


def test_new_articles_get_the_first_ladder_step(scenario: Scenario) -> None:
    states = _article_states(scenario.first)
    assert set(states) == set(scenario.first.articles), "every new article has a url_state"
    for url, st in states.items():
        assert st.next_check_at is not None, url
        seen = aware(scenario.first.articles[url].first_seen_at)
        delay = aware(st.next_check_at) - seen
        assert LADDER[0] * 0.9 <= delay <= LADDER[0] + timedelta(seconds=5), (url, delay)


def test_revisit_finds_the_edits_as_version_2(scenario: Scenario) -> None:
    edited = {a.url for a in scenario.site.edited_in_round(1)} & set(scenario.first.articles)
    assert edited, "the site edited none of the archived articles: pick another seed"
    after = scenario.revisit1.articles
    assert {u for u, a in after.items() if a.current_version == 2} == edited
    assert all(after[u].current_version == 1 for u in set(after) - edited)
    for url in edited:
        assert after[url].title == next(a.title for a in scenario.site.articles() if a.url == url)
    assert scenario.revisit1.run.stats is not None
    assert scenario.revisit1.run.stats["articles"]["changed"] == len(edited)
    assert "changed" in scenario.revisit1.stdout


def test_only_due_articles_are_fetched_on_a_revisit_run(scenario: Scenario) -> None:
    fetched = scenario.revisit1.fetched()
    due = {scenario.path(u) for u in set(scenario.first.articles) - scenario.not_due}
    assert due <= fetched, f"due but not fetched: {due - fetched}"
    assert not {scenario.path(u) for u in scenario.not_due} & fetched
    new = {scenario.path(a.url) for a in scenario.site.new_in_round(1)}
    assert new and not new & fetched, "--only-revisits fetched a new (never archived) article"
    assert not [p for p in fetched if p.startswith("/category/")], "category pages were fetched"
    assert scenario.revisit1.run.stats is not None
    assert scenario.revisit1.run.stats["revisits_due"] == len(due)


def test_the_ladder_moves_on_then_stops(scenario: Scenario) -> None:
    first, second = _article_states(scenario.first), _article_states(scenario.revisit1)
    for url in set(first) - scenario.not_due:
        before, after = first[url].next_check_at, second[url].next_check_at
        assert before is not None and after is not None, f"{url}: ladder ended after one step"
        assert aware(after) > aware(before), f"{url}: next check did not move on"
    third = _article_states(scenario.revisit2)
    edited = {a.url for a in scenario.site.edited_in_round(1)}
    for url in set(first) - scenario.not_due - edited:
        assert third[url].next_check_at is None, f"{url}: still scheduled after the last step"
    for url in scenario.not_due:
        assert third[url].next_check_at is not None, "a not-due article lost its schedule"


def test_nothing_is_fetched_once_the_ladder_is_done(scenario: Scenario) -> None:
    finished = {
        scenario.path(u)
        for u, st in _article_states(scenario.revisit2).items()
        if st.next_check_at is None
    }
    assert finished
    assert not finished & scenario.idle.fetched()
    assert all(a.current_version <= 2 for a in scenario.idle.articles.values())
