"""The article body: trafilatura's text of a page whose tree the metadata rules are done with.

`trafilatura.bare_extraction` deep-copies a tree it is given (0.6 ms a page), because its
extraction prunes the tree in place (comment sections, infinite-scroll containers). Our
metadata rules read the tree before the body is extracted, so nothing needs it afterwards:
`consume` runs the same steps as bare_extraction on the tree itself. It mirrors
bare_extraction's body path for the options below (tests/test_library_adapters.py holds
its text equal to bare_extraction's on real pages); other options go to bare_extraction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trafilatura
from lxml.etree import strip_tags
from lxml.html import HtmlElement
from trafilatura.core import trafilatura_sequence
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt

# bare_extraction's keyword -> trafilatura.settings.Extractor's, as bare_extraction maps them.
_EXTRACTOR_ARGS = {
    "fast": "fast",
    "favor_precision": "precision",
    "favor_recall": "recall",
    "include_comments": "comments",
    "include_formatting": "formatting",
    "include_links": "links",
    "include_images": "images",
    "include_tables": "tables",
}
_PRECISION_RETRY_WORDS = 100
_RECALL_RETRY_WORDS = 30
_RETRY_GAIN = 3


def consume(tree: HtmlElement, url: str, options: dict[str, Any]) -> str | None:
    """`bare_extraction(tree, url=url, **options).text` (None when empty), extracted from
    `tree` itself, which it leaves pruned: the caller must not read `tree` afterwards."""
    if not options.keys() <= _EXTRACTOR_ARGS.keys():
        document = trafilatura.bare_extraction(tree, url=url, output_format="python", **options)
        return getattr(document, "text", None) or None
    settings = Extractor(
        output_format="python", url=url, **{_EXTRACTOR_ARGS[k]: v for k, v in options.items()}
    )
    try:
        body, text, _, comments = trafilatura_sequence(tree, settings, url)
        if settings.max_tree_size and len(body) > settings.max_tree_size:
            strip_tags(body, "hi")
            if len(body) > settings.max_tree_size:
                return None
        if len(text) < settings.min_output_size and len(comments) < settings.min_output_comm_size:
            return None
    except (TypeError, ValueError):  # bare_extraction's "discarding data"
        return None
    return xmltotxt(body, settings.formatting) or None


def body_text(
    tree: HtmlElement, parse_again: Callable[[], HtmlElement], url: str, base: dict[str, Any]
) -> str | None:
    """The article text of `tree` (consumed) with `base` options, retried in other modes
    on a fresh tree from `parse_again` when the first result is short."""
    text = consume(tree, url, base)
    n_words = len(text.split()) if text else 0
    if n_words < _RECALL_RETRY_WORDS:
        # A near-empty result (a one-line standfirst) on a page that has an article:
        # recall mode finds the body the other modes miss.
        options = {**base, "favor_precision": False, "favor_recall": True}
        retry_text = consume(parse_again(), url, options)
        if retry_text and len(retry_text.split()) > _RETRY_GAIN * max(n_words, 1):
            return retry_text
    if n_words < _PRECISION_RETRY_WORDS:
        # Precision mode sometimes keeps only a fragment of an article it cannot delimit;
        # balanced mode then finds the body (1 of the 181 benchmark pages, F1 0.965 -> 0.970).
        options = {**base, "favor_precision": False}
        balanced = consume(parse_again(), url, options)
        if balanced and len(balanced.split()) > _RETRY_GAIN * n_words:
            return balanced
    return text
