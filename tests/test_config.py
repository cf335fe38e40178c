"""newsarchive.toml: parsed into typed objects; bad files get one line naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import ConfigError, load_config
from storage.durations import parse_duration, parse_every

GOOD = """
[archive]
database_url = "sqlite:///x.db"
warc_dir = "w"

[[sites]]
key = "example-news"
name = "Example News"
start_urls = ["https://news.example.com/category/general-news/"]
max_pages = 3
schedule = "every 30 minutes"
revisit = ["1h", "1d"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsarchive.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_becomes_typed_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSARCHIVE_DATABASE_URL", raising=False)
    config = load_config(_write(tmp_path, GOOD))
    site = config.site("example-news")
    assert config.archive.database_url == "sqlite:///x.db"
    assert site.max_pages == 3 and site.allowed_domains == ["example.com"]
    assert [d.total_seconds() for d in site.revisit_ladder] == [3600, 86400]
    assert parse_every(site.schedule or "").total_seconds() == 1800


def test_no_file_at_all_uses_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSARCHIVE_DATABASE_URL", raising=False)
    monkeypatch.delenv("NEWSARCHIVE_CONFIG", raising=False)
    config = load_config()
    assert config.archive.database_url == "sqlite:///archive.db"
    assert config.archive.warc_dir == "warc" and config.sites == []


def test_env_and_db_option_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, GOOD)
    monkeypatch.setenv("NEWSARCHIVE_DATABASE_URL", "sqlite:///env.db")
    assert load_config(path).archive.database_url == "sqlite:///env.db"
    url = "postgresql+psycopg://u@h/db"
    assert load_config(path, database_url=url).archive.database_url == url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[archive\n", "not valid TOML"),
        (GOOD.replace("max_pages = 3", "max_pages = 0"), "sites[0].max_pages"),
        (GOOD.replace('"1h", "1d"', '"1h", "soon"'), "sites[0].revisit"),
        (GOOD.replace("every 30 minutes", "hourly-ish"), "sites[0].schedule"),
        (GOOD.replace("https://news", "ftp://news"), "sites[0].start_urls"),
        (GOOD.replace("sqlite:///x.db", "mysql://x"), "archive.database_url"),
        (GOOD + "\n[archive2]\n", "archive2"),
        (GOOD + GOOD.split("[[sites]]")[1].join(["[[sites]]", ""]), "duplicate site key"),
    ],
)
def test_a_bad_file_gets_one_line_naming_file_key_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_a_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")


def test_durations() -> None:
    assert parse_duration("90s").total_seconds() == 90
    assert parse_duration("3d").total_seconds() == 3 * 86400
    with pytest.raises(ValueError):
        parse_duration("tomorrow")
