"""Is this page an article, a paywall teaser, a bot challenge, or something else?"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from lxml.cssselect import CSSSelector
from lxml.etree import XPath
from lxml.html import HtmlElement

from crawler.extraction.structured import PageData, ld_false, ld_texts, type_names
from storage.records import PageState

_CHALLENGE_TITLE = re.compile(
    r"^\s*(?:just a moment|attention required|access denied|access to this page has been denied"
    r"|please wait|checking your browser|verifying you are human|are you a robot|security check"
    r"|ddos-guard|one more step|pardon our interruption|request rejected|you have been blocked"
    r"|captcha|robot check|bot verification)",
    re.IGNORECASE,
)
# Anti-bot vendors' footprints. Several also appear on ordinary pages (Cloudflare injects its
# challenge script everywhere, comment forms carry reCAPTCHA), so they only count on short pages.
# Anti-bot vendors' footprints, on pages with little text of their own.
_CHALLENGE_MARKERS = (
    "cf-browser-verification", "cf_chl_opt", "cf-challenge", "_incapsula_resource",
    "incapsula incident id", "px-captcha", "captcha-delivery.com", "distil_r_captcha",
    "enable javascript and cookies to continue", "checking if the site connection is secure",
)  # fmt: skip
# Also on ordinary pages (Cloudflare injects its challenge script everywhere, comment and
# newsletter forms carry reCAPTCHA): they count only on a near-empty page with no article.
_WEAK_CHALLENGE_MARKERS = (
    "g-recaptcha", "h-captcha", "hcaptcha.com", "recaptcha/api", "challenge-platform",
    "access denied", "captcha",
)  # fmt: skip
_PAYWALL_MARKERS = (
    "subscribe to continue", "subscribe to read", "continue reading with a subscription",
    "to continue reading", "already a subscriber", "subscribers only", "for subscribers only",
    "exclusive to subscribers", "reserved for subscribers", "available to subscribers",
    "sign in to continue reading", "log in to continue reading", "register to continue reading",
    "become a member to", "to read the full article", "to read the full story",
    "unlock this article", "start your subscription", "subscribe now to read",
)  # fmt: skip


class _MarkerSearch:
    """The first of `markers`, in their order, that a text holds.

    A scan of a whole page costs 0.1-0.3 ms (the lower-cased HTML, 100-200 kB on the dev
    set). Markers that share a part (`anchors`: "subscri" is in ten paywall markers) are
    found by one scan for that part and a check of each of them where it occurs: the
    paywall markers in 5 scans instead of 19 (0.56 instead of 1.24 ms a page).
    """

    def __init__(self, markers: tuple[str, ...], anchors: tuple[str, ...]) -> None:
        self._rank = {marker: i for i, marker in enumerate(markers)}
        anchor_of = {m: next((a for a in anchors if a in m), None) for m in markers}
        self._alone = [m for m in markers if anchor_of[m] is None]
        self._anchored = [
            (anchor, [(m, m.index(anchor)) for m in markers if anchor_of[m] == anchor])
            for anchor in anchors
        ]

    def first(self, text: str) -> str | None:
        found = [marker for marker in self._alone if marker in text]
        for anchor, markers in self._anchored:
            at = text.find(anchor)
            while at != -1:
                for marker, offset in markers:
                    if at >= offset and text.startswith(marker, at - offset):
                        found.append(marker)
                at = text.find(anchor, at + 1)
        return min(found, key=self._rank.__getitem__, default=None)


_PAYWALL_SEARCH = _MarkerSearch(
    _PAYWALL_MARKERS, anchors=("subscri", "continue reading", "to read the full ")
)
_CHALLENGE_SEARCH = _MarkerSearch(_CHALLENGE_MARKERS, anchors=("captcha", "incapsula", "cf"))
_WEAK_CHALLENGE_SEARCH = _MarkerSearch(_WEAK_CHALLENGE_MARKERS, anchors=("captcha",))

_ARTICLE_OG_TYPES = {"article", "news", "blog", "newsarticle", "blogposting", "object"}
_LISTING_LD_TYPES = {"CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage"}
# A page built around one video or gallery: a media page, unless its text is a story.
_MEDIA_LD_TYPES = {"VideoObject", "ImageGallery", "MediaGallery"}
_ARTICLE_META = ("article:published_time", "article:published", "article:author", "author")
_SHORT_PAGE_WORDS = 150  # below this a challenge marker is the page, not an embedded widget
_TEASER_WORDS = 350  # a paywall teaser: headline, standfirst and a paragraph or two
_SERVED_PART_WORDS = 150  # gated part present in the HTML: the full text was served
_MIN_ARTICLE_WORDS = 50
_SHORT_NON_ARTICLE_WORDS = 250  # og:type/JSON-LD say "not an article" and the text agrees
# A video's or gallery's caption is a paragraph; a story told beside the video is longer.
_MEDIA_CAPTION_WORDS = 120
_LISTING_MAX_WORDS = 600
_LISTING_LINK_SHARE = 0.4
_LISTING_MIN_TEASERS = 3
_READ_MORE_WORDS = 4
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LINKS = XPath("//body//a")


def words(text: str | None) -> int:
    """Word count; Chinese and Japanese, written without spaces, count two characters a word."""
    if not text:
        return 0
    cjk = len(_CJK.findall(text))
    return len(text.split()) + cjk // 2 if cjk else len(text.split())


def blocked_reason(
    status: int, page_title: str, lowered_html: Callable[[], str], n: int
) -> str | None:
    """Why the page is a block or bot-challenge page, or None (`lowered_html`: the page's
    HTML in lower case, on demand)."""
    if status in (403, 429):
        return f"HTTP {status}"
    if _CHALLENGE_TITLE.match(page_title):
        return f"challenge page title {page_title.strip()[:60]!r}"
    if n < _SHORT_PAGE_WORDS and (marker := _CHALLENGE_SEARCH.first(lowered_html())):
        return f"short page with challenge marker {marker!r}"
    return None


def captcha_reason(data: PageData, lowered_html: Callable[[], str], n: int) -> str | None:
    """Why a near-empty page without article markup is a captcha wall, or None."""
    if n >= _MIN_ARTICLE_WORDS or data.article:
        return None
    if marker := _WEAK_CHALLENGE_SEARCH.first(lowered_html()):
        return f"near-empty page with captcha marker {marker!r}"
    return None


def _gated_selectors(data: PageData) -> tuple[bool, list[str]]:
    declared = ld_false(data.article.get("isAccessibleForFree"))
    selectors: list[str] = []
    parts = data.article.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict) and ld_false(part.get("isAccessibleForFree")):
            declared = True
            selectors.extend(ld_texts(part.get("cssSelector")))
    return declared, selectors


def _served_words(tree: HtmlElement, selectors: list[str]) -> int | None:
    """Words inside the gated elements, or None when no selector matches anything."""
    elements: list[HtmlElement] = []
    for selector in selectors:
        try:
            elements.extend(CSSSelector(selector)(tree))
        except Exception:  # an invalid selector in the page's JSON-LD says nothing
            continue
    return sum(words(el.text_content()) for el in elements) if elements else None


def _link_texts(tree: HtmlElement) -> frozenset[str]:
    links = {" ".join(" ".join(a.itertext()).split()) for a in _LINKS(tree)}
    links.discard("")
    return frozenset(links)


def _may_be_listing(data: PageData) -> bool:
    """Whether not_article_reason may reach the link-share test, whatever the text."""
    og_type = (data.first("og:type") or "").lower()
    return not data.article and og_type not in _ARTICLE_OG_TYPES and not data.first(*_ARTICLE_META)


@dataclass(frozen=True, slots=True)
class TreeSigns:
    """What the page-state rules read from the page's tree, taken before trafilatura
    extracts the body from that tree (and prunes it)."""

    gated_words: int | None = None  # words in the JSON-LD's gated parts; None: none found
    link_texts: frozenset[str] = frozenset()  # <a> texts in <body>, for the listing test


def read_signs(tree: HtmlElement, data: PageData) -> TreeSigns:
    """The tree's part of classify's inputs: each read only on pages whose page data say
    a rule may need it (a declared gated part, no article markup)."""
    declared, selectors = _gated_selectors(data)
    return TreeSigns(
        gated_words=_served_words(tree, selectors) if declared and selectors else None,
        link_texts=_link_texts(tree) if _may_be_listing(data) else frozenset(),
    )


def paywall_reason(
    signs: TreeSigns, data: PageData, lowered_html: Callable[[], str], n: int
) -> str | None:
    """Why the page is a paywall teaser, or None.

    Publishers declare gated articles in JSON-LD (isAccessibleForFree false) but many
    still serve the whole text: in the gated element, or elsewhere when that element is
    absent. Only a withheld gated part, or a teaser-length text, makes a paywall page.
    """
    declared, _ = _gated_selectors(data)
    if declared:
        served = signs.gated_words
        if served is not None and served < _SERVED_PART_WORDS:
            return f"JSON-LD isAccessibleForFree false; gated part holds {served} words"
        if served is None and n < _TEASER_WORDS:
            return f"JSON-LD isAccessibleForFree false; teaser of {n} words"
    if n < _TEASER_WORDS and (marker := _PAYWALL_SEARCH.first(lowered_html())):
        return f"teaser of {n} words with paywall marker {marker!r}"
    return None


def _short_links(links: frozenset[str]) -> list[str]:
    return [link for link in links if len(link.split()) <= _READ_MORE_WORDS]


def _link_share(links: frozenset[str], text: str | None) -> float:
    """How much of the extracted text is link texts: teaser headlines on a listing.

    Measured on the extracted text, not the whole page: an article's navigation and
    related-story links are many, but they are not what the extractor kept. A listing
    alternates linked headlines with their standfirsts, so the share of lines that are
    links counts as much as the share of words.
    """
    lines = [joined for line in (text or "").splitlines() if (joined := " ".join(line.split()))]
    linked = [line for line in lines if line in links]
    # Excerpts that each end in the same short link ("… Continue reading") are teasers too.
    endings = Counter(
        link for line in lines for link in _short_links(links) if line.endswith(" " + link)
    )
    teasers = [
        line
        for line in lines
        if line not in links and any(line.endswith(" " + e) for e, n in endings.items() if n >= 3)
    ]
    linked += teasers
    total = sum(words(line) for line in lines)
    if not total:
        return 1.0
    word_share = sum(words(line) for line in linked) / total
    line_share = len(linked) / len(lines) if len(linked) >= _LISTING_MIN_TEASERS else 0.0
    return max(word_share, line_share)


def not_article_reason(
    signs: TreeSigns, data: PageData, n: int, text: str | None = None
) -> str | None:
    """Why the page is a listing, tag, video or gallery page rather than an article, or None."""
    declared = bool(data.article) or (data.first("og:type") or "").lower() in _ARTICLE_OG_TYPES
    if n < _MIN_ARTICLE_WORDS and not (declared and n):
        # A short item the page itself declares an article (a brief, a notice) is one.
        return f"only {n} words of text"
    if n >= _LISTING_MAX_WORDS or data.article:
        return None
    og_type = (data.first("og:type") or "").lower()
    if og_type and og_type not in _ARTICLE_OG_TYPES and n < _SHORT_NON_ARTICLE_WORDS:
        return f"og:type {og_type!r} with {n} words"
    types = {t for obj in data.objects for t in type_names(obj)}
    if (listing := types & _LISTING_LD_TYPES) and n < _SHORT_NON_ARTICLE_WORDS:
        return f"JSON-LD {sorted(listing)[0]} with {n} words"
    if (media := types & _MEDIA_LD_TYPES) and n < _MEDIA_CAPTION_WORDS:
        return f"JSON-LD {sorted(media)[0]} with {n} words"
    # Article pages drown in navigation too: link share only counts without article signals
    # (the same test tells read_signs to read the link texts).
    if not _may_be_listing(data):
        return None
    if (share := _link_share(signs.link_texts, text)) > _LISTING_LINK_SHARE:
        return f"{share:.0%} of the extracted text is link texts"
    return None


def classify(
    signs: TreeSigns,
    data: PageData,
    text: str | None,
    page_title: str,
    page_html: Callable[[], str],
    status: int,
) -> tuple[PageState, str | None]:
    """The page's state and, unless it is a plain article, the reason for it."""
    n = words(text)
    memo: list[str] = []

    def lowered_html() -> str:
        # Lower-casing a whole page costs a pass over it: at most once, only when asked.
        if not memo:
            memo.append(page_html().lower())
        return memo[0]

    if reason := blocked_reason(status, page_title, lowered_html, n):
        return PageState.BLOCKED, reason
    if reason := paywall_reason(signs, data, lowered_html, n):
        return PageState.PAYWALLED, reason
    if reason := captcha_reason(data, lowered_html, n):
        return PageState.BLOCKED, reason
    if reason := not_article_reason(signs, data, n, text):
        return PageState.NOT_ARTICLE, reason
    return PageState.ARTICLE, None
