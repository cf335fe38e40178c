"""The article's own headline and the site's name, from the page's competing titles."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from crawler.extraction.structured import PageData, ld_texts

# Separators between a headline and a site name or section ("Headline | Site", "Site - Headline").
_SEPARATOR = r"(?:\s*[|\u00b7\u2022\u00bb\u00ab]\s*|\s+[-\u2013\u2014:~/]\s+|:\s+)"
_SPLIT = re.compile(f"({_SEPARATOR})")
_NON_WORD = re.compile(r"\W+")
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or"}
_HOST_PREFIXES = {"www", "m", "amp", "mobile", "edition", "beta"}
# A site name or section label is short; a longer affix is part of the headline.
_MAX_AFFIX_WORDS = 6
_MAX_AFFIX_EXTRA_CHARS = 8
# Words a site's name carries beside its own ("BBC News", "ZEIT ONLINE", "tagesschau.de").
_SITE_WORDS = {
    "the", "news", "online", "daily", "today", "live", "digital", "magazine", "magazin", "tv",
    "www", "com", "net", "org", "co", "uk", "de", "fr", "es", "it", "at", "ch", "nl", "info",
}  # fmt: skip
_WORD = re.compile(r"\w+")


def clean(text: str | None) -> str:
    """Unescape entities and collapse whitespace (JSON-LD often carries raw entities)."""
    return " ".join(html.unescape(text).split()) if text else ""


def key(text: str) -> str:
    """Comparison key: lower-case letters and digits only."""
    return _NON_WORD.sub("", text.lower())


def host_key(url: str) -> str:
    """The distinctive label of a URL's host: "www.latimes.com" -> "latimes"."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    labels = [label for label in host.split(".") if label]
    while len(labels) > 2 and labels[0] in _HOST_PREFIXES:
        labels.pop(0)
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


def site_names(data: PageData, url: str) -> list[str]:
    """Names the page gives its site: og:site_name, JSON-LD publisher, application-name."""
    names = [
        clean(n)
        for n in (
            data.first("og:site_name"),
            *ld_texts(data.resolve(data.article.get("publisher")), "name"),
            data.first("application-name", "apple-mobile-web-app-title"),
        )
        if n
    ]
    return list(dict.fromkeys(n for n in names if n))


def _names_site(part: str, part_key: str, name_key: str) -> bool:
    # "The Washington Post" names "washingtonpost", "BBC News" and "bbc.co.uk" name "bbc":
    # the part is the name give or take words every site name carries. A part that merely
    # contains the name ("The Guardian view on ...", "Frauen im THW") is a headline.
    if not name_key or not part_key:
        return False
    if part_key == name_key or (len(part_key) >= 3 and part_key in name_key):
        return True
    if name_key not in part_key or len(part_key) - len(name_key) > _MAX_AFFIX_EXTRA_CHARS:
        return False
    core = "".join(w for w in _WORD.findall(part.lower()) if w not in _SITE_WORDS)
    return bool(core) and (core == name_key or core in name_key)


def _is_site(part: str, sites: list[str], host: str) -> bool:
    part_key = key(part)
    if not part_key or len(part.split()) > _MAX_AFFIX_WORDS:
        return False
    return any(_names_site(part, part_key, name) for name in [host, *map(key, sites)])


def strip_site(title: str, sites: list[str], host: str) -> str:
    """Remove site-name prefixes and suffixes ("Headline | Site", "Site - Headline")."""
    pieces = _SPLIT.split(title)
    while len(pieces) >= 3:
        if _is_site(pieces[-1], sites, host):
            pieces = pieces[:-2]
        elif _is_site(pieces[0], sites, host):
            pieces = pieces[2:]
        else:
            break
    return "".join(pieces).strip()


def _credit(a: str, b: str) -> float:
    """How much title `b` supports `a` being the headline."""
    a_key = key(a)
    if a_key == key(b):
        return 1.0
    # b is a plus shorter affixes ("a | Site", "Opinion | a - Site"): a is the headline.
    pieces = _SPLIT.split(b)
    texts = range(0, len(pieces), 2)
    for i in texts:
        for j in texts:
            if j >= i and key("".join(pieces[i : j + 1])) == a_key:
                rest = key("".join(pieces[:i] + pieces[j + 1 :]))
                return 1.0 if len(rest) < len(a_key) else 0.0
    # b is a truncated copy of a (JSON-LD headlines are cut at 110 characters).
    stem = key(b.rstrip(".… "))
    if len(stem) >= 20 and a_key.startswith(stem):
        return 0.5
    return 0.0


def _vote(data: PageData, url: str, sites: list[str]) -> str | None:
    """The metadata title most of the page's title sources agree on, without the site name."""
    host = host_key(url)
    sources: list[tuple[str, list[str]]] = [
        ("json-ld", ld_texts(data.article.get("headline") or data.article.get("name"))[:1]),
        ("og", [t for t in (data.first("og:title"), data.first("twitter:title")) if t]),
        ("title", [data.title.text_content()] if data.title is not None else []),
    ]
    candidates: list[tuple[str, str]] = []
    for name, texts in sources:
        for text in texts:
            cleaned = strip_site(clean(text), sites, host)
            if cleaned and len(cleaned) <= 400:
                candidates.append((name, cleaned))
    if not candidates:
        return None
    best, best_score = candidates[0][1], -1.0
    for name, text in candidates:
        # One vote per other kind of source: a page with three h1s must not outvote the rest.
        votes: dict[str, float] = {}
        for other_name, other in candidates:
            if other_name != name:
                votes[other_name] = max(votes.get(other_name, 0.0), _credit(text, other))
        score = sum(votes.values())
        if score > best_score:
            best, best_score = text, score
    return best


_NOT_IN = frozenset({"nav", "footer", "aside"})


def _page_h1s(tree: HtmlElement) -> list[HtmlElement]:
    """The page's h1s in a body, outside navigation, footers and sidebars, in document
    order: what //body//h1[not(ancestor::*[self::nav or self::footer or self::aside])]
    finds, from one walk of the page (libxml2 walks it for bodies, then each body for h1s:
    0.25 instead of 0.14 ms a page)."""
    h1s: list[HtmlElement] = []
    for h1 in tree.getroottree().getroot().iter("h1"):
        in_body = False
        for ancestor in h1.iterancestors():
            if ancestor.tag in _NOT_IN:
                break
            in_body = in_body or ancestor.tag == "body"
        else:
            if in_body:
                h1s.append(h1)
    return h1s


_HEADLINE_MARKS = re.compile(r"headline|title|heading|headling", re.IGNORECASE)
_NOT_HEADLINE = re.compile(
    r"logo|masthead|brand|site-?(?:name|title)"
    r"|navskip|aural|sr-only|visually-hidden|screen-reader|cookie|consent",
    re.IGNORECASE,
)
_HIDDEN_CLASS = re.compile(r"(?<![\w:-])(?:hidden|d-none|hide|invisible)(?![\w-])", re.IGNORECASE)
# "d-none d-md-block", "hidden md:block": hidden on phones, shown from some screen width on.
_SHOWN_FROM_A_WIDTH = re.compile(
    r"(?<![\w-])(?:d-(?:sm|md|lg|xl|xxl)-|(?:sm|md|lg|xl|2xl):)"
    r"(?:block|inline|inline-block|flex|inline-flex|grid|table)(?![\w-])",
    re.IGNORECASE,
)
# The element holding the headline's main text, when the h1 splits it into parts.
_MAIN_MARKS = re.compile(r"main|primary", re.IGNORECASE)
# An element set over the headline as its label ("Dachzeile", overline, roofline).
_KICKER_MARKS = re.compile(
    r"kicker|overline|roofline|eyebrow|dachzeile|topline|spitzmarke|sub-?heading|rubric"
    r"|(?<![a-z])(?:top|super|pre|over)-?title",
    re.IGNORECASE,
)
_NOT_HEADLINE_TEXT = frozenset(
    {"svg", "small", "script", "style", "noscript", "template", "button"}
)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([:,.;!?])")
_KICKER_END = ":|\u2013\u2014-\uff1a\u30fb "
_MIN_HEADLINE_SCORE = 0.3
_MIN_OVERLAP = 0.25
_KICKER_MAX_WORDS = 5
_SHORT_HEADLINE_WORDS = 3


def _hidden(el: HtmlElement) -> bool:
    """Hidden from readers (or a logo, cookie banner or screen-reader label)."""
    style = (el.get("style") or "").replace(" ", "").lower()
    classes = el.get("class") or ""
    return (
        el.get("hidden") is not None
        or el.get("aria-hidden") == "true"
        or "display:none" in style
        or bool(_NOT_HEADLINE.search(f"{classes} {el.get('id') or ''}"))
        or bool(_HIDDEN_CLASS.search(classes) and not _SHOWN_FROM_A_WIDTH.search(classes))
    )


def _links_home(h1: HtmlElement) -> bool:
    """The h1 is a link to the site's front page (`<h1><a href="/">Site</a></h1>`)."""
    for a in h1.iter("a"):
        href = (a.get("href") or "").strip()
        if href and not href.startswith("#") and urlsplit(href).path in ("", "/"):
            return True
    return False


def not_the_headline(h1: HtmlElement) -> bool:
    """An h1 that is not an article's headline whatever its text: hidden, a logo or the
    site's masthead (by its or its parent's class or id), or a link to the front page."""
    parent = h1.getparent()
    return (
        _hidden(h1)
        or (parent is not None and parent.tag != "body" and _hidden(parent))
        or _links_home(h1)
    )


def _read_text(el: HtmlElement, parts: list[str]) -> None:
    """The text a reader sees in `el`: no logo artwork, hidden spans or small print."""
    if el.text:
        parts.append(el.text)
    for child in el:
        if child.tag == "br":
            parts.append(" ")
        elif isinstance(child.tag, str) and not (child.tag in _NOT_HEADLINE_TEXT or _hidden(child)):
            _read_text(child, parts)
        if child.tail:
            parts.append(child.tail)


def _unspaced(char: str) -> bool:
    """A character of a script written without spaces (CJK), or a full-width form."""
    code = ord(char)
    return 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def _shown_text(el: HtmlElement) -> str:
    parts: list[str] = []
    _read_text(el, parts)
    # Elements split a headline into parts: "Tokyo<span>:</span>" reads as one text, and
    # in Chinese or Japanese no space is added where the parts meet.
    text = ""
    for part in parts:
        edge = text[-1:] + part[:1]
        if len(edge) == 2 and not any(c.isspace() or _unspaced(c) for c in edge):
            text += " "
        text += part
    return _SPACE_BEFORE_PUNCT.sub(r"\1", clean(text))


def _h1_text(h1: HtmlElement) -> str:
    """The h1's headline: its text, without a kicker set in an element of its own.

    "Kicker: Headline" written as one text stays whole; a kicker styled as a separate
    line (`<span class="overline">Kicker</span><span>Headline</span>`) is a label over
    the headline, and annotators leave it out. An element marked as the headline's main
    part (`<span class="title__maintext">`) is not a kicker, whatever its length.
    """
    text = _shown_text(h1)
    first = h1[0] if len(h1) and not (h1.text or "").strip() else None
    if first is None or not isinstance(first.tag, str) or first.tag in ("br", "abbr", "a"):
        return text
    kicker = _shown_text(first)
    if not kicker or not text.startswith(kicker):
        return text
    marks = first.get("class") or ""
    rest = clean(text[len(kicker) :]).lstrip(_KICKER_END).strip()
    if _KICKER_MARKS.search(marks):
        return rest or text
    if _MAIN_MARKS.search(marks) or len(kicker.split()) > _KICKER_MAX_WORDS:
        return text
    return rest if len(rest.split()) > len(kicker.split()) else text


def _tokens(text: str | None) -> set[str]:
    return set(_WORD.findall((text or "").lower()))


def _headline_score(
    h1: HtmlElement, text: str, meta_titles: list[str], headlines: list[str]
) -> float:
    words = _tokens(text)
    if not words:
        return 0.0
    if not meta_titles:
        return 1.0  # nothing to compare with: the page's h1 is its headline
    # A one- or two-word h1 ("News", "Literatur") is often the section's label, which
    # the <title> repeats: it must share words with the article's own headline metadata.
    compared = headlines if len(words) < _SHORT_HEADLINE_WORDS and headlines else meta_titles
    overlap = max((len(words & _tokens(t)) / len(words) for t in compared), default=0.0)
    if overlap < _MIN_OVERLAP:
        return 0.0  # a section name or a teaser's h1, not this article's headline
    marks = " ".join(h1.get(a, "") for a in ("class", "id", "itemprop"))
    score = overlap
    if _HEADLINE_MARKS.search(marks):
        score += 0.3
    if any(a.tag in ("article", "main") for a in h1.iterancestors()):
        score += 0.2
    if len(words) < _SHORT_HEADLINE_WORDS:
        score -= 0.2
    return score


def pick_titles(
    tree: HtmlElement, data: PageData, url: str, sites: list[str]
) -> tuple[str | None, str | None]:
    """(the article's on-page headline, the metadata title), both without the site name.

    The headline is the page's h1 that is the article's: it shares words with the
    metadata titles, is marked as a headline, or sits in the article. Without one, the
    metadata title stands for both.
    """
    host = host_key(url)
    seo = _vote(data, url, sites)
    headlines = [
        cleaned
        for t in (seo, *ld_texts(data.article.get("headline")), data.first("og:title"))
        if (cleaned := clean(t))
    ]
    meta_titles = [*headlines, *filter(None, [clean(data.title_text())])]
    best: tuple[float, str] | None = None
    for h1 in _page_h1s(tree)[:6]:
        text = strip_site(_h1_text(h1), sites, host)
        if not text or len(text) > 400 or not_the_headline(h1) or _is_site(text, sites, host):
            continue
        score = _headline_score(h1, text, meta_titles, headlines)
        if score >= _MIN_HEADLINE_SCORE and (best is None or score > best[0]):
            best = (score, text)
    return (best[1] if best else seo), seo
