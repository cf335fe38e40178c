"""Passwords out of anything shown to a user: messages, logs, `stats`."""

from __future__ import annotations

import re

# scheme://user:password@host -> scheme://user:***@host. Greedy up to the last "@" on the
# token: a password holding "@" or "/" is still hidden whole (over-hiding is the safe side).
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"]*):[^\s'\"]*@")


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by ``***``."""
    return _USERINFO.sub(r"\1:***@", text)
