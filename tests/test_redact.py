"""Passwords in database and frontier URLs never reach the screen or the logs."""

from __future__ import annotations

import logging

import pytest

from crawler.config import ConfigError, load_config
from storage.redact import redact, redact_logs


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql+psycopg://u:pw@db/x", "postgresql+psycopg://u:***@db/x"),
        ("at 'redis://:pw@127.0.0.1:6379/0' now", "at 'redis://:***@127.0.0.1:6379/0' now"),
        ("postgresql://u:p@ss/w@h/db", "postgresql://u:***@h/db"),
        ("sqlite:///archive.db", "sqlite:///archive.db"),
        ("redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0"),
    ],
)
def test_redact_hides_only_the_password(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_log_records_have_passwords_hidden(caplog: pytest.LogCaptureFixture) -> None:
    redact_logs()
    with caplog.at_level(logging.INFO):
        logging.getLogger("newsarchive.test").info("frontier %s", "redis://:hunter2@h:1/0")
    assert "hunter2" not in caplog.text and "redis://:***@h:1/0" in caplog.text


def test_a_config_error_about_a_url_hides_its_password() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(database_url="postgresql://u:hunter2@h:port/db")
    assert "hunter2" not in str(err.value) and "u:***@h" in str(err.value)
