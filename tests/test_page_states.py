"""classify's marker searches: the first marker of each list, in the list's order, that the
lower-cased page holds, as a plain scan for each marker finds it."""

from __future__ import annotations

from itertools import combinations

import pytest

from crawler.extraction import page_states
from tests.conftest import dev_page_files, dev_page_text

_SEARCHES = {
    "paywall": (page_states._PAYWALL_MARKERS, page_states._PAYWALL_SEARCH),
    "challenge": (page_states._CHALLENGE_MARKERS, page_states._CHALLENGE_SEARCH),
    "weak-challenge": (page_states._WEAK_CHALLENGE_MARKERS, page_states._WEAK_CHALLENGE_SEARCH),
}


def _plain(markers: tuple[str, ...], text: str) -> str | None:
    return next((marker for marker in markers if marker in text), None)


def _texts(markers: tuple[str, ...]) -> list[str]:
    texts = ["", "<html><body><p>nothing to see</p></body></html>", "subscri", "cf captcha"]
    for marker in markers:
        # Alone, at the very start and end (a hit of its shared part at offset 0), cut short.
        texts += [marker, f"<p>{marker}</p>", marker[:-1], marker[1:], f"x{marker[:-1]}"]
    for first, second in combinations(markers, 2):
        # Two markers: the one earlier in the list names the reason, wherever it is.
        texts += [f"{second} ... {first}", f"{first}{second}", f"{second[:3]}{first}"]
    # Many hits of a shared part before the marker, and the markers overlapping each other.
    texts.append("subscribe " * 50 + "subscribers only")
    texts.append("subscribe to continue reading with a subscription")
    texts.append("to read the full to read the full story")
    return texts


@pytest.mark.parametrize("name", _SEARCHES)
def test_marker_search_finds_the_first_marker_a_plain_scan_finds(name: str) -> None:
    markers, search = _SEARCHES[name]
    for text in _texts(markers):
        assert search.first(text) == _plain(markers, text), text


def test_marker_searches_answer_as_plain_scans_on_every_dev_page() -> None:
    for path in dev_page_files("article-extraction-benchmark", "article-metadata"):
        lowered = dev_page_text(path).lower()
        for markers, search in _SEARCHES.values():
            assert search.first(lowered) == _plain(markers, lowered), path.name
