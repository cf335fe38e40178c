"""Decoded page text -> the lxml tree that trafilatura and the metadata rules both read.

`parse_html` is trafilatura's `load_html` for a decoded page (the same repairs, parser
settings, fallbacks and rejection test), with one difference that changes no result:
lxml.html's parser picks each element's Python class by calling a Python method
(HtmlElementClassLookup.lookup) every time lxml hands an element to Python, thousands of
times per page in trafilatura and in our rules. This parser gives the same classes (form,
input, select, textarea and label elements their own, every other element HtmlElement)
through lxml's C-level namespace lookup.
"""

from __future__ import annotations

import logging

from lxml.etree import ElementDefaultClassLookup, ElementNamespaceClassLookup
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    fromstring,
)

from crawler import internals

log = logging.getLogger(__name__)


def _parser() -> HTMLParser:
    # trafilatura.utils.HTML_PARSER's settings.
    parser = HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
    lookup = ElementNamespaceClassLookup(
        ElementDefaultClassLookup(
            element=HtmlElement,
            comment=HtmlComment,
            pi=HtmlProcessingInstruction,
            entity=HtmlEntity,
        )
    )
    by_tag = lookup.get_namespace(None)
    for tag, cls in internals.html_element_classes().items():
        by_tag[tag] = cls
    parser.set_element_class_lookup(lookup)
    return parser


_PARSER = _parser()


def _from_bytes(text: str) -> HtmlElement | None:
    try:
        tree: HtmlElement = fromstring(text.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception as exc:  # lxml's errors on odd input are many; the caller reports None
        log.debug("lxml could not parse the page as bytes: %s", exc)
        return None
    return tree


def parse_html(text: str) -> HtmlElement | None:
    """The page's tree, or None when it is not HTML (as trafilatura's load_html decides)."""
    beginning = text[:50].lower()
    dubious = "html" not in beginning
    text = internals.repair_html(text, beginning)
    tree: HtmlElement | None = None
    from_bytes = False
    try:
        tree = fromstring(text, parser=_PARSER)
    except ValueError:  # a str with an encoding declaration: lxml wants bytes
        tree, from_bytes = _from_bytes(text), True
    except Exception as exc:
        log.debug("lxml could not parse the page: %s", exc)
    if (tree is None or len(tree) < 1) and not from_bytes:
        tree = _from_bytes(text)
    if tree is not None and dubious and len(tree) < 2:
        return None  # a fragment or not HTML at all
    return tree


def find_body(tree: HtmlElement) -> HtmlElement | None:
    """`tree.find(".//body")`: the first <body> below the root, in document order.

    The iterator behind lxml's find() looks ahead for a next match once it has found one,
    a walk of the whole page (0.13 ms a page on the dev set); the body is the root's second
    child on almost every page, found here after a walk of <head> alone (0.02 ms).
    """
    for child in tree:
        if child.tag == "body":
            return child
        # A body inside an earlier child comes first in document order.
        if (body := next(child.iter("body"), None)) is not None:
            return body
    return None
