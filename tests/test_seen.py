"""The packed set of seen URLs a crawl run keeps (crawler/seen.py)."""

from __future__ import annotations

import random
from pathlib import Path

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter

from crawler.seen import MIN_BUFFER, CompactDupeFilter, FingerprintSet


def test_fingerprint_set_agrees_with_a_python_set_across_merges() -> None:
    rng = random.Random(7)
    packed, reference = FingerprintSet(), set[int]()
    # Enough adds for several merges of the recent buffer into the packed array, with
    # repeats (a URL linked from many listing pages) and the extreme values.
    values = [rng.getrandbits(64) for _ in range(5 * MIN_BUFFER)] + [0, 2**64 - 1]
    for v in values + rng.sample(values, 2000):
        assert packed.add(v) == (v not in reference)
        reference.add(v)
    assert len(packed) == len(reference)
    assert all(v in packed for v in reference)
    absent = [rng.getrandbits(64) for _ in range(2000)]
    assert [v in packed for v in absent] == [v in reference for v in absent]
    # ~8 bytes per entry once merged, not the ~100+ of a set of ints.
    assert packed.nbytes() < 20 * len(packed)


def test_dupefilter_filters_the_same_request_and_not_others() -> None:
    dupefilter = CompactDupeFilter()
    first = Request("http://127.0.0.1:8000/2024/01/02/a-story/")
    assert not dupefilter.request_seen(first)
    # Same canonical request (fragment, query order): a duplicate.
    assert dupefilter.request_seen(Request("http://127.0.0.1:8000/2024/01/02/a-story/#top"))
    assert not dupefilter.request_seen(Request("http://127.0.0.1:8000/2024/01/02/b-story/"))
    assert not dupefilter.request_seen(Request(first.url, method="POST"))


def test_dupefilter_job_dir_file_survives_a_restart(tmp_path: Path) -> None:
    urls = [f"http://127.0.0.1:8000/story-{i}/" for i in range(50)]
    dupefilter = CompactDupeFilter(str(tmp_path))
    assert not any(dupefilter.request_seen(Request(u)) for u in urls)
    dupefilter.close("finished")
    # Scrapy's own file format: a stock RFPDupeFilter reads what ours wrote, and ours reads it.
    again = CompactDupeFilter(str(tmp_path))
    assert all(again.request_seen(Request(u)) for u in urls)
    assert not again.request_seen(Request("http://127.0.0.1:8000/new/"))
    again.close("finished")
    stock = RFPDupeFilter(str(tmp_path))
    assert all(stock.request_seen(Request(u)) for u in urls)
    stock.close("finished")
