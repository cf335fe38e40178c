"""Passwords out of anything shown to a user: messages, logs, `stats`."""

from __future__ import annotations

import logging
import re
from typing import Any

# scheme://user:password@host -> scheme://user:***@host. Greedy up to the last "@" on the
# token: a password holding "@" or "/" is still hidden whole (over-hiding is the safe side).
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"]*):[^\s'\"]*@")


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by ``***``."""
    return _USERINFO.sub(r"\1:***@", text)


_installed = False


def redact_logs() -> None:
    """From now on, every log record of this process has its URL passwords replaced.

    Done where records are made (the record factory), so it holds for every handler,
    including ones that libraries (Scrapy, APScheduler) add later.
    """
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return record
        if "://" in message:
            record.msg, record.args = redact(message), None
        return record

    logging.setLogRecordFactory(factory)
