"""The article-extraction benchmark (181 real pages) as used by the quality gate and benches."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

DATASET = "article-extraction-benchmark"
# The benchmark pages were fetched in November 2019: later dates on them are not future dates.
FETCHED_AT = datetime(2020, 1, 1, tzinfo=UTC)
_TOKEN = re.compile(r"\w+")


def dataset_dir() -> Path | None:
    """The benchmark directory: $NEWSARCHIVE_DATASETS/<name>, else ../shared/datasets/<name>."""
    roots = [
        os.environ.get("NEWSARCHIVE_DATASETS"),
        Path(__file__).parents[1].parent / "shared" / "datasets",
    ]
    for root in roots:
        if root and (Path(root) / DATASET / "ground-truth.json").is_file():
            return Path(root) / DATASET
    return None


def ground_truth(directory: Path) -> dict[str, dict[str, str]]:
    """{page id: {"articleBody": ..., "url": ...}}."""
    data: dict[str, dict[str, str]] = json.loads((directory / "ground-truth.json").read_text())
    return data


def page(directory: Path, page_id: str) -> bytes:
    """The stored HTML bytes of one page."""
    return gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes())


def token_f1(predicted: str | None, truth: str) -> float:
    """Bag-of-words F1 over lower-cased \\w+ tokens, as the benchmark's own evaluation."""
    pred, true = (
        Counter(_TOKEN.findall((predicted or "").lower())),
        Counter(_TOKEN.findall(truth.lower())),
    )
    overlap = sum((pred & true).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(true.values())
    return 2 * precision * recall / (precision + recall)
