"""The command line as a user sees it: help everywhere, one-line errors, discover, db upgrade."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from crawler.cli import cli
from crawler.demo_site import make_sites
from crawler.demo_site.pages import render_page
from tests.crawling import run_cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, (*prefix, name))
    return out


def test_every_command_has_help_with_a_docstring() -> None:
    names = _commands(cli)
    assert {("db", "upgrade"), ("crawl",), ("discover",), ("demo",)} <= set(names)
    for path in names:
        cmd: click.Command = cli
        for part in path:
            assert isinstance(cmd, click.Group)
            cmd = cmd.commands[part]
        assert cmd.help and len(cmd.help.strip()) > 20, f"{' '.join(path)} needs help text"


def test_help_runs() -> None:
    out = run_cli("--help").stdout
    assert "crawl" in out and "db" in out


def test_db_upgrade_creates_then_reports_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first = run_cli("--db", url, "db", "upgrade").stdout
    second = run_cli("--db", url, "db", "upgrade").stdout
    assert "migrated empty database" in first
    assert "already at revision" in second


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--db", "mysql://x", "db", "upgrade"], "unsupported database URL"),
        (["--config", "/nonexistent/newsarchive.toml", "db", "upgrade"], "no such config file"),
        (["crawl", "nosuchsite"], "no site"),
        (["crawl", "--max-pages", "0"], "--max-pages"),
        (["discover"], "give a URL"),
    ],
)
def test_user_mistakes_get_one_line_and_no_traceback(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        '[[sites]]\nkey = "a"\nstart_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8"
    )
    proc = run_cli(*args, config=None if "--config" in args else config, check=False)
    assert proc.returncode != 0
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_discover_from_a_saved_page_prints_json(tmp_path: Path) -> None:
    ledger, _courier = make_sites(categories=2, articles_per_category=8, page_size=4)
    listing = ledger.listing(ledger.categories[0], 1)
    page = render_page(ledger, listing.url.split("/", 3)[3].join(["/", ""]), "")
    assert page is not None
    html = tmp_path / "page.html"
    html.write_bytes(page.body)
    out = run_cli("discover", "--html", str(html), "--url", listing.url, "--format", "json").stdout
    found = json.loads(out)
    assert [u.split("?")[0].split("#")[0] for u in found["article_links"]] == [
        a.url for a in listing.articles
    ]
    assert found["next_page"] == listing.next_url


def test_the_crawl_command_turns_the_collector_back_on_when_its_start_up_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crawl command runs its start-up with the garbage collector off: called in a
    process that goes on (an embedding program, a test), an error there must not leave it off."""
    import gc

    from crawler.cli import crawl as crawl_module

    def broken() -> None:
        raise OSError("no stderr")

    monkeypatch.setattr("crawler.pool.start_forkserver", lambda: None)
    monkeypatch.setattr(crawl_module, "_show_crawl_warnings", broken)
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[archive]\ndatabase_url = "sqlite:///{tmp_path / "a.db"}"\n'
        '[[sites]]\nkey = "a"\nstart_urls = ["http://127.0.0.1:9/"]\n',
        encoding="utf-8",
    )
    assert gc.isenabled()
    try:
        with pytest.raises(OSError, match="no stderr"):
            cli.main(["--config", str(config), "crawl"], standalone_mode=False)
        assert gc.isenabled()
    finally:
        gc.enable()  # for the tests that follow, whatever this one found
