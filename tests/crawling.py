"""Helpers for tests that crawl the demo site with a real `newsarchive crawl` process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from crawler.demo_site import DemoServer, DemoSite

REPO = Path(__file__).resolve().parents[1]


@dataclass
class CrawlEnv:
    """A config file pointing at running demo sites, and the archive it writes."""

    directory: Path
    db_url: str
    config: Path
    server: DemoServer
    sites: dict[str, DemoSite]

    @property
    def warc_dir(self) -> Path:
        return self.directory / "warc"


def write_config(
    directory: Path,
    db_url: str,
    server: DemoServer,
    sites: dict[str, DemoSite],
    *,
    max_pages: int = 2,
    extra_site: str = "",
    extra_archive: str = "",
) -> Path:
    """A newsarchive.toml for the demo sites; loopback, so no politeness delay."""
    lines = [
        "[archive]",
        f'database_url = "{db_url}"',
        f'warc_dir = "{(directory / "warc").as_posix()}"',
        'user_agent = "newsarchive-tests"',
        "download_delay = 0",
        "autothrottle = false",
        "concurrency_per_domain = 8",
        "extraction_workers = 2",
        extra_archive,
    ]
    for key, site in sites.items():
        starts = ", ".join(f'"{site.category_url(c)}"' for c in site.categories)
        lines += [
            "",
            "[[sites]]",
            f'key = "{key}"',
            f'name = "{site.name}"',
            f"start_urls = [{starts}]",
            f"max_pages = {max_pages}",
            f'allowed_domains = ["{server.url[key].split("://", 1)[1]}"]',
            extra_site,
        ]
    path = directory / "newsarchive.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(
    *args: str, config: Path | None = None, timeout: float = 180, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `python -m crawler [--config CFG] ARGS` in a real process."""
    cmd = [sys.executable, "-m", "crawler"]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += list(args)
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr[-4000:]}"
        )
    return proc
