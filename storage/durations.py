"""Durations as users write them: "90s", "15m", "6h", "3d", "1w", and "every 30 minutes".

One parser for the config (revisit ladders, time limits, schedules), the scheduler's
options and the query side's ages (`--since 7d`).
"""

from __future__ import annotations

import re
from datetime import timedelta

# Anything longer is a typo, and would overflow datetime arithmetic later (year 9999).
MAX_DURATION = timedelta(days=3660)

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)
_EVERY = re.compile(
    r"^\s*every\s+(\d+)\s*(seconds?|minutes?|hours?|days?|weeks?|s|m|h|d|w)\s*$", re.IGNORECASE
)


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "15m", "1h", "3d", "1w" into a timedelta (at most MAX_DURATION)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 6h, 1d)")
    return _bounded(float(m.group(1)) * _UNIT_SECONDS[m.group(2)[0].lower()], text)


def parse_every(text: str) -> timedelta:
    """Parse a schedule like "every 30 minutes" into its interval."""
    m = _EVERY.match(text)
    if not m:
        raise ValueError(f"not a schedule: {text!r} (use e.g. 'every 30 minutes')")
    n = int(m.group(1))
    if n <= 0:
        raise ValueError(f"schedule interval must be positive: {text!r}")
    return _bounded(n * _UNIT_SECONDS[m.group(2)[0].lower()], text)


def _bounded(seconds: float, text: str) -> timedelta:
    if not 0 <= seconds <= MAX_DURATION.total_seconds():
        raise ValueError(f"too long: {text!r} (at most {MAX_DURATION.days}d)")
    return timedelta(seconds=seconds)
