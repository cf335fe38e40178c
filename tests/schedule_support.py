"""Helpers for the scheduler tests: configs pointing at the demo site, daemons, log waits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.demo_site import DemoRequest, DemoServer, Page, make_sites, serve
from tests import configs
from tests.configs import archive_table

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def demo_server() -> Iterator[DemoServer]:
    """The small demo Ledger (2 categories x 6 articles) on loopback."""
    ledger, _courier = make_sites(categories=2, articles_per_category=6, page_size=6)
    with serve(ledger) as server:
        yield server


def add_slow_route(server: DemoServer, prefix: str = "/slow/", seconds: float = 30.0) -> Any:
    """A category page that answers only after `seconds`; returns an Event that releases it."""
    release = threading.Event()

    def slow(_request: DemoRequest) -> Page:
        release.wait(seconds)
        return Page(200, b"<html><body><p>late</p></body></html>")

    server.add_route(prefix, slow)
    return release


def site_table(key: str, starts: list[str], **extra: Any) -> dict[str, Any]:
    """One [[sites]] table."""
    return {"key": key, "start_urls": list(starts), **extra}


def write_config(directory: Path, db_url: str, sites: list[dict[str, Any]]) -> Path:
    """newsarchive.toml with the loopback-speed [archive] settings and these site tables."""
    return configs.write_config(
        directory, archive_table(directory, db_url, extraction_workers=1), sites
    )


def cli(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `newsarchive --config CONFIG ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )


class Daemon:
    """A `newsarchive schedule run` process logging to a file."""

    def __init__(self, config: Path, log: Path, *args: str) -> None:
        self.log = log
        self._out = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "--config", str(config), "schedule", "run", *args],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def text(self) -> str:
        """Everything logged so far."""
        return self.log.read_text(encoding="utf-8")

    def wait_for(self, pattern: str, timeout: float = 60, count: int = 1) -> list[re.Match[str]]:
        """Wait until `pattern` matched `count` times in the log; fail with the log otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            found = list(re.finditer(pattern, self.text()))
            if len(found) >= count:
                return found
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{pattern!r} x{count} not in the log (exit {self.proc.poll()}):\n{self.text()}"
                )
            time.sleep(0.2)

    def signal(self, sig: int) -> None:
        """Send a signal to the daemon."""
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait for the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        """SIGKILL, as a crash would (its crawl subprocess lives on, in its own session)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._out.close()


def wait_until(check: Callable[[], Any], timeout: float = 60, interval: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        time.sleep(interval)
