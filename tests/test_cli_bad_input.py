"""Every bad input from issue 13 through the real `newsarchive` CLI: one line, no traceback.

Each case runs `python -m crawler ...` in its own process and checks what a user sees:
exactly one line on stderr, a non-zero exit, no "Traceback", no password, and that nothing
was created or overwritten. A local server on 127.0.0.1 drops connections or speaks garbage.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.crawling import run_cli
from tests.query_support import build, filler

SECRET = "s3cretpw"


@dataclass
class World:
    """A small archive, its config, and a broken HTTP server that logs what it was asked."""

    dir: Path
    config: Path
    db: Path
    warc_dir: Path
    port: int
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _broken_server(requests: list[str]) -> tuple[socket.socket, int]:
    """/drop: hang up without answering; anything else: bytes that are not HTTP."""
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                requests.append(line)
                if " /drop " not in line:
                    conn.sendall(b"\x00\x1b[31mNOT HTTP\xff\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("bad-input")
    db = root / "archive.db"
    built = build(f"sqlite:///{db}", root)
    built.add("https://ledger.example/budget/", "Budget approved", "The council budget passed.")
    for i in range(30):  # enough output (> a pipe buffer) for the broken-pipe test
        built.add(f"https://ledger.example/{i}/", f"Story {i}", filler(i, words=400))
    built.warc.close()
    config = root / "newsarchive.toml"
    config.write_text(
        f'[archive]\ndatabase_url = "sqlite:///{db}"\nwarc_dir = "{(root / "warc").as_posix()}"\n'
    )
    requests: list[str] = []
    srv, port = _broken_server(requests)
    try:
        yield World(root, config, db, root / "warc", port, requests)
    finally:
        srv.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _config(world: World, toml: str) -> Path:
    path = world.dir / f"case-{hashlib.sha1(toml.encode()).hexdigest()[:8]}.toml"
    path.write_text(toml)
    return path


def _site(extra: str = "", key: str = "a") -> str:
    return f'[[sites]]\nkey = "{key}"\nstart_urls = ["http://127.0.0.1:9/"]\n{extra}\n'


def _newer_db(world: World) -> str:
    copy = world.dir / "newer.db"
    shutil.copy(world.db, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    return f"sqlite:///{copy}"


def _corrupt_warc_archive(world: World) -> Path:
    """A copy of the archive with garbage inside the gzip member of its first capture."""
    target = world.dir / "corrupt"
    if not target.exists():
        shutil.copytree(world.warc_dir, target / "warc")
        shutil.copy(world.db, target / "archive.db")
        with sqlite3.connect(target / "archive.db") as conn:
            name, offset = conn.execute(
                "SELECT warc_file, warc_offset FROM captures ORDER BY id LIMIT 1"
            ).fetchone()
        warc = target / "warc" / name
        data = bytearray(warc.read_bytes())
        data[offset + 30 : offset + 70] = b"\xff" * 40  # inside the deflate stream
        warc.write_bytes(bytes(data))
    return _config(
        world,
        f'[archive]\ndatabase_url = "sqlite:///{target / "archive.db"}"\n'
        f'warc_dir = "{(target / "warc").as_posix()}"\n',
    )


Args = Callable[[World], list[str]]
EXCLUDED = " ".join(f"-nope{i}" for i in range(100))

CASES: list[tuple[str, Args, str]] = [
    ("until-year-9999", lambda w: ["search", "budget", "--until", "9999"], "date out of range"),
    ("since-huge-age", lambda w: ["search", "x", "--since", "99999999999d"], "date out of range"),
    (
        "since-before-year-1",
        lambda w: ["search", "x", "--since", "0001-01-01T00:00:00+14:00"],
        "date out of range",
    ),
    ("huge-page", lambda w: ["search", "x", "--page", "99999999999999999999"], "--page"),
    ("huge-offset", lambda w: ["search", "x", "--offset", "99999999999999999999"], "--offset"),
    ("huge-id", lambda w: ["show", "99999999999999999999999"], "no article"),
    ("superscript-two", lambda w: ["show", "²"], "neither an article id nor a URL"),
    (
        "bad-article-pattern",
        lambda w: ["discover", "--article-pattern", "([", w.url("/never")],
        "--article-pattern",
    ),
    ("bad-url", lambda w: ["discover", "http://[bad/"], "not a valid URL"),
    ("bad-url-port", lambda w: ["discover", "http://127.0.0.1:99999/"], "Port out of range"),
    ("file-url", lambda w: ["discover", "file:///etc/passwd"], "not an http(s) URL"),
    ("server-hangs-up", lambda w: ["discover", w.url("/drop")], "cannot fetch"),
    ("server-speaks-garbage", lambda w: ["discover", w.url("/garbage")], "cannot fetch"),
    (
        "db-url-bad-port",
        lambda w: ["--db", f"postgresql://u:{SECRET}@h:notaport/db", "stats"],
        "bad port",
    ),
    ("unknown-driver", lambda w: ["--db", f"foo://u:{SECRET}@x", "stats"], "unsupported database"),
    ("unknown-dbapi-driver", lambda w: ["--db", "postgresql+nope://h/db", "stats"], "driver"),
    ("unknown-sqlite-driver", lambda w: ["--db", "sqlite+nope:///x.db", "db", "upgrade"], "driver"),
    (
        "unreachable-postgres",
        lambda w: ["--db", f"postgresql://u:{SECRET}@127.0.0.1:1/db", "stats"],
        "cannot open database",
    ),
    ("newer-schema", lambda w: ["--db", _newer_db(w), "stats"], "newer than this newsarchive"),
    (
        "config-huge-revisit",
        lambda w: ["--config", str(_config(w, _site('revisit = ["99999999999d"]'))), "stats"],
        "sites[0].revisit: too long",
    ),
    (
        "config-huge-time-limit",
        lambda w: ["--config", str(_config(w, _site('time_limit = "99999999999w"'))), "stats"],
        "sites[0].time_limit: too long",
    ),
    (
        "config-huge-schedule",
        lambda w: [
            "--config",
            str(_config(w, _site('schedule = "every 99999999999999 days"'))),
            "schedule",
            "list",
        ],
        "sites[0].schedule: too long",
    ),
    (
        "config-bad-cron",
        lambda w: [
            "--config",
            str(_config(w, _site() + _site('cron = "61 * * * *"', key="b"))),
            "schedule",
            "list",
        ],
        "sites[1].cron: bad cron '61 * * * *'",
    ),
    (
        "config-start-url-bad-port",
        lambda w: [
            "--config",
            str(_config(w, '[[sites]]\nkey = "a"\nstart_urls = ["http://h:70000/"]\n')),
            "stats",
        ],
        "sites[0].start_urls: not a valid URL",
    ),
    (
        "config-bad-article-pattern",
        lambda w: ["--config", str(_config(w, _site("article_pattern = '(['"))), "stats"],
        "sites[0].article_pattern",
    ),
    (
        "config-db-password",
        lambda w: [
            "--config",
            str(_config(w, f'[archive]\ndatabase_url = "postgresql://u:{SECRET}@h:x/db"\n')),
            "stats",
        ],
        "archive.database_url: invalid database URL",
    ),
    (
        "unreachable-frontier",
        lambda w: [
            "--config",
            str(
                _config(
                    w,
                    f'[archive]\ndatabase_url = "sqlite:///{w.dir / "frontier.db"}"\n'
                    f'frontier = "redis://:{SECRET}@127.0.0.1:1/0"\n' + _site(),
                )
            ),
            "crawl",
        ],
        "unreachable",
    ),
    (
        "corrupt-warc-member",
        lambda w: [
            "--config",
            str(_corrupt_warc_archive(w)),
            "export",
            "--format",
            "warc",
            "-o",
            str(w.dir / "out.warc.gz"),
        ],
        "skipped 1 whose WARC record is unreadable",
    ),
    (
        "huge-lease",
        lambda w: ["schedule", "run", "--lease-seconds", "1e308"],
        "--lease-seconds",
    ),
    ("export-empty-name", lambda w: ["export", "--format", "jsonl", "-o", ""], "-o needs"),
]


def _one_line_failure(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert SECRET not in proc.stderr + proc.stdout
    assert "\x1b" not in proc.stderr  # a hostile server's escape codes are not replayed


@pytest.mark.parametrize(("args", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_on_stderr(world: World, args: Args, needle: str) -> None:
    argv = args(world)
    proc = run_cli(*argv, config=None if "--config" in argv else world.config, check=False)
    _one_line_failure(proc, needle)


def test_an_invalid_article_pattern_is_refused_before_fetching(world: World) -> None:
    run_cli("discover", "--article-pattern", "([", world.url("/never"), check=False)
    assert not [r for r in world.requests if "/never" in r]


@pytest.mark.parametrize("command", ["search x", "show 1", "diff 1", "stats", "export"])
def test_a_read_on_a_mistyped_db_creates_nothing(world: World, command: str) -> None:
    typo = world.dir / "typo" / "archve.db"
    args = command.split() + (["--format", "jsonl", "-o", "-"] if command == "export" else [])
    proc = run_cli("--db", f"sqlite:///{typo}", *args, check=False)
    _one_line_failure(proc, f"no archive at {typo}")
    assert not typo.parent.exists()


@pytest.mark.parametrize("own", ["archive.db", "archive.db-wal", "warc/new.warc.gz", "link.db"])
def test_export_refuses_the_archives_own_files(world: World, own: str) -> None:
    link = world.dir / "link.db"
    if not link.is_symlink():
        link.symlink_to(world.db)
    before = _digest(world.db)
    proc = run_cli("export", "--format", "jsonl", "-o", str(world.dir / own), config=world.config,
                   check=False)  # fmt: skip
    _one_line_failure(proc, "part of the archive")
    assert _digest(world.db) == before
    assert not (world.warc_dir / "new.warc.gz").exists()
    assert run_cli("search", "budget", "--format", "jsonl", config=world.config).stdout


def test_export_replaces_an_existing_file_only_with_force(world: World) -> None:
    out = world.dir / "existing.jsonl"
    out.write_text("keep me\n")
    proc = run_cli("export", "--format", "jsonl", "-o", str(out), config=world.config, check=False)
    _one_line_failure(proc, "exists: use --force")
    assert out.read_text() == "keep me\n"
    run_cli("export", "--format", "jsonl", "-o", str(out), "--force", config=world.config)
    assert out.read_text().count("\n") == 31
    assert not [p for p in world.dir.iterdir() if p.name.endswith(".part")]


def test_export_writes_into_a_fifo_without_replacing_it(world: World) -> None:
    fifo = world.dir / "pipe"
    if not fifo.exists():
        import os

        os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    run_cli("export", "--format", "jsonl", "-o", str(fifo), config=world.config)
    reader.join(timeout=30)
    assert got and got[0].count(b"\n") == 31
    assert fifo.is_fifo()


def test_export_to_a_closed_pipe_exits_quietly(world: World) -> None:
    cmd = [sys.executable, "-m", "crawler", "--config", str(world.config)]
    proc = subprocess.Popen(
        [*cmd, "export", "--format", "jsonl", "-o", "-"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)  # like `| head -c 10`: read a little, then hang up
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "Broken pipe" not in stderr


def test_a_hundred_excluded_words_still_search(world: World) -> None:
    proc = run_cli("search", f"budget {EXCLUDED}", "--format", "jsonl", config=world.config)
    assert '"Budget approved"' in proc.stdout


@pytest.mark.parametrize(("language", "hits"), [("en", 31), ("e", 31), ("%", 0), ("_n", 0)])
def test_language_is_a_plain_prefix_not_a_like_pattern(
    world: World, language: str, hits: int
) -> None:
    out = run_cli("search", "the OR budget OR story", "--language", language, "--limit", "100",
                  "--format", "jsonl", config=world.config).stdout  # fmt: skip
    assert len(out.splitlines()) == hits
