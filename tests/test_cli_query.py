"""The query commands run for real (`python -m crawler`): output a user reads, clean errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest

from crawler.cli import cli
from tests.configs import archive_table, write_config
from tests.crawling import run_cli
from tests.factories import later
from tests.query_support import Built, build, filler

URL = "https://ledger.example/2024/05/01/flood/"


@pytest.fixture
def archive(sqlite_url: str, tmp_path: Path) -> tuple[Built, Path]:
    b = build(sqlite_url, tmp_path)
    b.add(URL, "Flood defence approved", "The wall rises two metres.\n\n" + filler(1))
    b.add(
        URL, "Flood defence approved", "The wall rises three metres.\n\n" + filler(1), at=later(5)
    )
    b.add(
        "https://courier.example/b.html", "Bridge shut", "Cracks.\n\n" + filler(2), site="courier"
    )
    b.warc.close()
    config = write_config(tmp_path, archive_table(tmp_path, sqlite_url))
    return b, config


def test_search_prints_a_table_and_json(archive: tuple[Built, Path]) -> None:
    _, config = archive
    table = run_cli("search", '"three metres"', config=config).stdout
    assert "Flood defence approved" in table and "[three metres]" in table
    hits = json.loads(run_cli("search", "wall", "--format", "json", config=config).stdout)
    assert [h["id"] for h in hits] == [1] and hits[0]["canonical_url"] == URL
    rows = list(csv.DictReader(io.StringIO(run_cli("search", "cracks", "--format", "csv",
                                                      config=config).stdout)))  # fmt: skip
    assert rows[0]["site"] == "courier"


def test_show_lists_every_version(archive: tuple[Built, Path]) -> None:
    _, config = archive
    out = run_cli("show", URL, config=config).stdout
    assert "versions: 2" in out and "  v1  " in out and "  v2  " in out
    data = json.loads(run_cli("show", "1", "--format", "json", config=config).stdout)
    assert data["versions"] == 2 and [v["n"] for v in data["history"]] == [1, 2]


def test_diff_without_a_terminal_is_word_diff_text(archive: tuple[Built, Path]) -> None:
    _, config = archive
    out = run_cli("diff", "1", "--from", "1", "--to", "2", config=config).stdout
    assert "[-two-]{+three+}" in out and "\x1b[" not in out


def test_export_jsonl_to_a_file_and_warc_to_stdout(
    archive: tuple[Built, Path], tmp_path: Path
) -> None:
    _, config = archive
    target = tmp_path / "out.jsonl"
    proc = run_cli("export", "--format", "jsonl", "-o", str(target), config=config)
    assert "exported 2 articles" in proc.stderr
    assert len(target.read_text().splitlines()) == 2
    cdxj = run_cli("export", "--format", "cdxj", "-o", "-", config=config).stdout
    assert len(cdxj.splitlines()) == 3


def test_stats_and_reextract_dry_run(archive: tuple[Built, Path]) -> None:
    _, config = archive
    stats = json.loads(run_cli("stats", "--format", "json", config=config).stdout)
    assert {s["site"]: (s["articles"], s["versions"]) for s in stats} == {
        "courier": (1, 1),
        "ledger": (1, 2),
    }
    out = run_cli("reextract", "--dry-run", "--workers", "1", config=config)
    assert "dry run: nothing written" in out.stdout and "captures processed: 3" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", 'wall "three'], "error: unbalanced quote"),
        (["search", "wall", "--since", "yesterday-ish"], "error: bad date 'yesterday-ish'"),
        (["show", "42"], "error: no article '42' in the archive"),
        (["diff", "1", "--to", "9"], "error: article 1 has versions 1..2, not 9"),
        (["reextract", "--option", "fast_mode=1"], "error: unknown extraction option"),
    ],
)
def test_user_mistakes_are_one_line_on_stderr(
    archive: tuple[Built, Path], args: list[str], message: str
) -> None:
    _, config = archive
    proc = run_cli(*args, config=config, check=False)
    assert proc.returncode != 0
    assert proc.stderr.startswith(message), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_every_query_command_has_help_with_an_example() -> None:
    for name in ("search", "show", "diff", "export", "reextract", "stats"):
        command = cli.commands[name]
        with click.Context(command) as ctx:
            assert "Example:" in command.get_help(ctx), name
