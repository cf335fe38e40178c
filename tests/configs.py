"""newsarchive.toml for tests and benchmarks, written from dicts by a TOML library.

One place that writes config files: values are always quoted and escaped right (Windows
paths, quotes in names), and a test states what it sets, not how TOML spells it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w

# Loopback servers answer at once: no politeness delay, parallel requests, two workers.
LOOPBACK_ARCHIVE: dict[str, Any] = {
    "user_agent": "newsarchive-tests",
    "download_delay": 0,
    "autothrottle": False,
    "concurrency_per_domain": 8,
    "extraction_workers": 2,
}


def archive_table(directory: Path, db_url: str, **values: Any) -> dict[str, Any]:
    """An [archive] table: the database, a warc/ folder in `directory`, loopback speed."""
    return {
        "database_url": db_url,
        "warc_dir": (directory / "warc").as_posix(),
        **LOOPBACK_ARCHIVE,
        **values,
    }


def toml_table(text: str) -> dict[str, Any]:
    """Keys given as TOML text (`extra_site='revisit = ["1h"]'`), as a dict."""
    return tomllib.loads(text) if text.strip() else {}


def write_config(
    path: Path, archive: Mapping[str, Any], sites: Sequence[Mapping[str, Any]] = ()
) -> Path:
    """Write newsarchive.toml at `path` (a file, or a folder to put it in); returns the file."""
    if path.suffix != ".toml":
        path.mkdir(parents=True, exist_ok=True)
        path = path / "newsarchive.toml"
    document: dict[str, Any] = {"archive": dict(archive)}
    if sites:
        document["sites"] = [dict(site) for site in sites]
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    return path


def read_config(path: Path) -> dict[str, Any]:
    """A config file as a dict (to change something and write it back)."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def site_of(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The [[sites]] table with this key."""
    for site in document.get("sites", []):
        if site.get("key") == key:
            table: dict[str, Any] = site
            return table
    raise AssertionError(f"no [[sites]] table with key {key!r}")


def rewrite(path: Path, document: Mapping[str, Any]) -> None:
    """Write a (changed) config document back to `path`."""
    write_config(path, document["archive"], document.get("sites", ()))
