"""Person names of an article's authors, from JSON-LD, meta tags and the byline."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from copy import deepcopy
from functools import cache
from itertools import pairwise
from typing import Any

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import Document, examine_meta, extract_author, extract_meta_json
from trafilatura.utils import trim
from trafilatura.xml import delete_element

from crawler.extraction.parsing import find_body
from crawler.extraction.structured import PageData, ld_texts, type_names
from crawler.extraction.titles import clean, key

_META_KEYS = (
    "author",
    "article:author",
    "og:article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "byl",
)
_LEAD_IN = re.compile(
    r"^(?:(?:written|posted|reported|words|story|text|photos?|erstellt|geschrieben|verfasst"
    r"|analysis|opinion|commentary|review|interview)\s+)?"
    r"(?:by|from|von|par|por|di|door|av)\b[:\s]*"
    r"|^(?:текст|автор|text|autor|auteur)\b[:\s]*",
    re.IGNORECASE,
)
# " y ", " et ", " e ", " og ", " och " join names only in lower case: capitalised
# they are middle initials ("Bruce Y. Lee", "Anna E. Berg"). An interview credits both
# sides: "A im Gespräch mit B", "A in conversation with B".
_SPLIT = re.compile(
    r"\s*(?:,|;|\||&|\b(?i:and|und)\b|\n|\s(?:y|et|e|og|och)\s"
    r"|\s(?i:im\s+gespräch\s+mit|in\s+conversation\s+with|en\s+conversation\s+avec)\s)\s*"
)
_ROLE_WORDS = {
    "staff", "writer", "writers", "correspondent", "correspondents", "reporter", "reporters",
    "editor", "editors", "contributor", "contributing", "columnist", "senior", "chief", "special",
    "political", "national", "foreign", "business", "sports", "news", "desk", "team", "bureau",
    "associate", "managing", "executive", "deputy", "digital", "producer", "photographer",
    "analyst", "author", "authors", "guest", "intern", "freelance", "freelancer", "the", "our",
    "reports", "report", "wire", "wires", "services", "agencies", "updated", "published",
    "posted", "opinion", "editorial", "large", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december", "at", "in", "for", "to",
    "of", "and", "chefredakteur", "chefredakteurin", "redakteur", "redakteurin", "autorin",
    "alle", "artikel", "beiträge", "mehr", "view", "profile", "bio", "more", "stories", "posts",
    "interview", "experte", "expertin", "admin", "administrator", "lesedauer", "stand", "jan",
    "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "none",
    "unknown", "anonymous", "attorney", "technologist", "fellow", "program", "programme",
    "project", "professor", "director", "researcher", "lecturer", "phd", "mitglied",
}  # fmt: skip
_PARTICLES = {
    "de", "da", "di", "del", "della", "van", "von", "der", "den", "du", "la", "le", "bin",
    "al", "el", "dos", "das", "ten", "ter", "y",
}  # fmt: skip
_OF = {"of", "der", "des", "de", "du", "für", "for", "at", "bei", "di", "del", "da"}
_NOT_A_NAME = re.compile(r"@|https?:|www\.|\.com\b|\d")
# Wire agencies credited on their own ("dpa", "AFP", "The Associated Press"): a general
# vocabulary of the news trade, not a list of publishers.
_AGENCIES = {
    "dpa", "afp", "ap", "reuters", "efe", "agencia efe", "ansa", "apa", "sda", "kna", "epd",
    "jiji", "kyodo", "upi", "xinhua", "tass", "pa", "associated press", "the associated press",
    "press association", "agence france-presse", "agence france presse", "europa press",
    "bloomberg", "afp/dpa", "dpa/afp", "reuters/dpa", "dpa-afx", "ots", "ian", "ians", "pti",
}  # fmt: skip
# A desk credit: "ZDNet Japan Staff", "BWW News Desk", "Redaktion", "Newsdesk", "PETA-Team".
_DESK = re.compile(
    r"(?:^|[\s-])(?:staff|desk|newsdesk|team|redaktion|redaccion|redacción|rédaction|redazione"
    r"|wire|editors|editorial board)(?:\s+report)?$",
    re.IGNORECASE,
)
_CJK_NAME = re.compile(r"^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]{2,6}$")
_MAX_DESK_WORDS = 5
_NAME_CHARS = re.compile(r"^[\w'\u2019.\- ]+$")
_MAX_NAME_WORDS = 5
# "Jane Doe @janedoe", "Jane Doe (Brussels bureau)": a handle or an aside next to a name.
_ASIDE = re.compile(r"\([^()]*\)|(?<!\S)@\w+")
# "A (avec B et C)", "A (with B)": co-authors set in parentheses.
_WITH_ASIDE = re.compile(r"\(\s*(?i:avec|with|mit|con|com)\s+([^()]*)\)")
# "A (reporting) and B (photography)": B took the pictures.
_PICTURES_ASIDE = re.compile(
    r"[^,;&|()]*\([^()]*\b(?:photo\w*|foto\w*|illustrat\w*|bilder|grafik\w*|graphics?)\b[^()]*\)",
    re.IGNORECASE,
)
# Degrees and suffixes written after a name: "Grant Tinsley, PhD", "Ann Lee, MD".
_CREDENTIALS = {"phd", "md", "rd", "mph", "msc", "mba", "ma", "ba", "bsc", "jr", "sr", "dr"}
# An organisation or programme named after a person: "ACLU Speech", "BBC Sport".
_ACRONYM = re.compile(r"^[A-Z]{3,}$")


def _is_role(word: str) -> bool:
    # "Editor-at-large" is a role as much as "Editor".
    return any(seg in _ROLE_WORDS for seg in word.lower().strip(".").split("-"))


def _strip_roles(name: str) -> str:
    # "Jane Doe Staff Writer" / "Jane Doe, for The Times": drop trailing role words.
    words = name.split()
    while len(words) > 2 and _is_role(words[-1]):
        words.pop()
    while len(words) > 2 and _is_role(words[0]):  # "Interview Julia Lauter"
        words.pop(0)
    for i, word in enumerate(words):
        if i >= 2 and word.lower() in {"for", "at", "is", "was"}:
            words = words[:i]
            break
    return " ".join(words)


def _name_case(name: str) -> str:
    # Bylines in capitals ("JOHN SMITH") read better as names; mixed case is the author's own.
    return name.title() if name.isupper() and len(name) > 3 else name


def _looks_like_name(words: list[str]) -> bool:
    # Names are capitalised (caseless scripts pass: their letters are never lower-case).
    return words[0].lower() != "the" and all(
        not w[0].islower() or w.lower() in _PARTICLES for w in words
    )


def credit(part: str) -> str | None:
    """`part` as written when it credits an agency or a desk rather than a person, else None."""
    if part.lower() in _AGENCIES:
        return part
    words = part.split()
    if len(words) <= _MAX_DESK_WORDS and _DESK.search(part) and not _NOT_A_NAME.search(part):
        return part
    return None


def person_names(raw: str, min_words: int = 2, outlets: frozenset[str] = frozenset()) -> list[str]:
    """Split a byline into credits: persons, agencies and desks, without "By", roles or dates.

    After a name, the outlet (one of the `outlets` keys) ends the byline: "By Jane Doe,
    BBC News, New York" names no "New York".
    """
    names: list[str] = []
    text = _ASIDE.sub(" ", _PICTURES_ASIDE.sub(" ", _WITH_ASIDE.sub(r", \1", clean(raw))))
    for i, part in enumerate(_SPLIT.split(_LEAD_IN.sub("", text))):
        part = " ".join(_LEAD_IN.sub("", part).strip(" .:-\u2013\u2014'\"").split())
        if names and _fold(part) in outlets:
            break
        if not part or _NOT_A_NAME.search(part) or not _NAME_CHARS.match(part):
            continue
        if part.lower().startswith("copyright"):  # a rights notice, not a byline
            continue
        if (agency := credit(part)) is not None:
            names.append(agency)
            continue
        if _CJK_NAME.match(part):
            names.append(part)
            continue
        words = part.split()
        if all(_is_role(w) for w in words):
            continue
        # "Director of Education Equity", "Mitglied der Redaktion": a description.
        if words[-1] in _PARTICLES or any(_is_role(w) and nxt in _OF for w, nxt in pairwise(words)):
            continue
        # After a comma a part ending in a role describes the name before it ("AP Auto Writer").
        if _is_role(words[-1]) and (i > 0 or len(words) <= 2):
            continue
        # A lone short capitalised word after a name is a credential ("MS", "RD", "PhD").
        if len(words) == 1 and (
            len(part) < 3 or (part.isupper() and len(part) <= 4) or part.lower() in _CREDENTIALS
        ):
            continue
        if len(words) > 1 and _ACRONYM.match(words[0]) and not part.isupper():
            continue
        words = _strip_roles(part).split()
        if min_words <= len(words) <= _MAX_NAME_WORDS and _looks_like_name(words):
            names.append(_name_case(" ".join(words)))
    return names


_SURNAME = re.compile(r"\s+([^\W\d_][\w'\u2019-]*)")


def _full_name(name: str, person: dict[str, Any]) -> str:
    """A one-word Person name completed from the person's own description, when it opens
    with that name and a surname: a display name ("Nils") is a first name whose profile
    reads "Nils Pickert is a freelance writer ..."."""
    if " " in name:
        return name
    for text in ld_texts(person.get("description")):
        if not text.startswith(name):
            continue
        words = [name]
        for match in _SURNAME.finditer(text, len(name)):
            if match.start() != len(" ".join(words)) or not match[1][0].isupper():
                break
            words.append(match[1])
        words = words[: 1 + 2]  # a first name and at most two surnames
        if len(words) > 1 and _looks_like_name(words) and not any(map(_is_role, words)):
            return " ".join(words)
    return name


def _ld_authors(data: PageData) -> tuple[list[str], list[str]]:
    """JSON-LD authors split into (persons, organisations)."""
    persons: list[str] = []
    orgs: list[str] = []
    raw: Any = data.article.get("author") or data.article.get("creator")
    for item in raw if isinstance(raw, list) else [raw]:
        item = data.resolve(item)
        if isinstance(item, dict):
            names = ld_texts(item.get("name"))
            if "Organization" in type_names(item) or "NewsMediaOrganization" in type_names(item):
                # An organisation credited beside or instead of people (an agency) is a credit;
                # the outlet itself is dropped later by name.
                orgs.extend(clean(n) for n in names)
                persons.extend(clean(n) for n in names)
            else:
                # A JSON-LD Person may be a mononym, so one word is enough there.
                found = [n for name in names for n in person_names(name, min_words=1)]
                persons.extend(_full_name(n, item) for n in found)
        elif isinstance(item, str):
            persons.extend(person_names(item))
    return persons, orgs


def _fold(text: str) -> str:
    """key() without accents: "La República" names the host "larepublica"."""
    decomposed = unicodedata.normalize("NFKD", key(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _credited(names: list[str], outlets: set[str]) -> list[str]:
    """A byline's names without the outlet and the place after it: "By Jane Doe, BBC News,
    New York" credits Jane Doe."""
    for i, name in enumerate(names):
        if i and _fold(name) in outlets:
            names = names[:i]
            break
    return _dedupe(names, outlets)


def _dedupe(names: Iterable[str], outlets: set[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        if key(name) and key(name) not in seen and _fold(name) not in outlets:
            seen[key(name)] = name
    return list(seen.values())


# Containers no byline sits in (a class on <html> or <body> says nothing of the element).
_OUTSIDE = (
    "[not(ancestor-or-self::*[not(self::body or self::html)]"
    "[contains(@class, 'comment') or self::aside or self::footer])]"
)
# The elements of //body//*[@rel='author' or @itemprop='author' or contains(@class, 'byline')
# or contains(@class, 'author') or contains(@id, 'byline')], found through their attributes:
# libxml2 then tests only the elements that have each attribute, not five tests per element
# (half the CPU of the expression).
_BYLINE_MARKED = (
    "(//body/descendant::*/@class[contains(., 'byline') or contains(., 'author')]"
    " | //body/descendant::*/@id[contains(., 'byline')]"
    " | //body/descendant::*/@rel[. = 'author'] | //body/descendant::*/@itemprop[. = 'author'])"
    "/parent::*"
)
_BYLINE = XPath(
    f"{_BYLINE_MARKED}{_OUTSIDE}"
    # A photo credit names the photographer ("image-author", captions), a pull quote the
    # person quoted.
    "[not(ancestor::figure or ancestor::figcaption or contains(@class, 'image')"
    " or contains(@class, 'photo') or contains(@class, 'caption') or contains(@class, 'license')"
    " or contains(@class, 'copyright') or contains(@class, 'quote'))]"
)
_MAX_BYLINE_CHARS = 160
_MAX_BYLINE_ELEMENTS = 12
_MAX_BYLINE_NAMES = 6


_PICTURE = XPath(
    ".//*[self::picture or self::figure or self::svg or @itemprop='image'"
    " or contains(@class, 'copyright') or contains(@class, 'caption')]"
)


def _text(element: HtmlElement, pictures: bool = True) -> str:
    """The element's text; without its pictures' credits ("© Jane Doe") when not `pictures`."""
    # itertext keeps "Jeff Foust" and a following "Monday" apart; text_content glues them.
    if pictures or not len(element) or not (skip := set(_PICTURE(element))):
        return " ".join(" ".join(element.itertext()).split())
    pieces: list[str] = []

    def walk(node: HtmlElement) -> None:
        if node.text and isinstance(node.tag, str):
            pieces.append(node.text)
        for child in node:
            if child not in skip:
                walk(child)
            if child.tail:
                pieces.append(child.tail)

    walk(element)
    return " ".join(" ".join(pieces).split())


def byline_names(tree: HtmlElement, outlets: set[str]) -> list[str]:
    """Names in the first byline-like element that credits someone other than the outlet,
    and in its siblings of the same kind.

    Later matches elsewhere on the page are author boxes of related stories.
    """
    names: list[str] = []
    matches = _BYLINE(tree)[:_MAX_BYLINE_ELEMENTS]
    named = {}
    for element in matches:
        text = _text(element, pictures=False)
        ok = bool(text) and len(text) <= _MAX_BYLINE_CHARS
        credited = person_names(text, outlets=frozenset(outlets)) if ok else []
        named[element] = _credited(credited, outlets)
        if credited and not named[element] and not any(named.values()):
            break  # the first byline credits the outlet itself: the rest are other stories'
    matches = matches[: len(named)]

    # The innermost matches hold just the names; their containers add dates and outlets.
    # A container is read only when no match inside it names anyone ("Jane Doe @handle"
    # around a handle's own element). lxml hands out the same proxy for a node while one
    # is alive, so dict membership is safe.
    first = None
    for element in matches:
        if not named[element] or (first is not None and not _same_kind(element, first)):
            continue
        if any(named.get(inner) for inner in element.iterdescendants()):
            continue
        names.extend(named[element])
        first = element if first is None else first
    return _dedupe(names, outlets)[:_MAX_BYLINE_NAMES]


def _same_kind(element: HtmlElement, first: HtmlElement) -> bool:
    """True when `element` is another entry of the byline `first` opened: a sibling, or
    the next author's box beside the one holding `first` (`<span class=name><a>A</a>
    </span><span class=name>B</span>`)."""
    parent, box = element.getparent(), first.getparent()
    if parent is box:
        return True
    if box is None or box.get("class") is None:
        return False
    if parent is box.getparent():  # B's box is itself the match
        return bool(element.get("class") == box.get("class"))
    return (  # B sits in a box of the same kind as A's
        parent is not None
        and parent.getparent() is box.getparent()
        and parent.get("class") == box.get("class")
        and element.get("class") == first.get("class")
    )


_LEAD_IN_TEXT = re.compile(
    r"^\s*(?:[|\u2022\u00b7\u2013\u2014-]\s*)?"
    r"(?:(?:(?:written|posted|reported|erstellt|geschrieben|verfasst|text|analysis|opinion"
    r"|commentary|review|interview)\s+)?"
    # "Ein Beitrag von", "Ein Artikel von": German opens a byline with what the piece is.
    r"(?:(?:eine?\s+)?(?:artikel|beitrag|gastbeitrag|kommentar|bericht|reportage|analyse)\s+)?"
    r"(?:by|von|par|por|door|av)\b\s*:?\s*"
    r"|(?:autor|autorin|author|auteur|autore|verfasser|redakteur|redakteurin)\s*:\s*)",
    re.IGNORECASE,
)
# What follows the names on a text byline: " on December 13", " - Jan 9", " | 3 min read".
_BYLINE_TAIL = re.compile(
    r"\s+(?:on|am|le|el|il|op|em|updated|aktualisiert)\s+.*$|\s+[-\u2013\u2014|\u2022\u00b7]\s+.*$"
)
_SKIP_TEXT = XPath(
    "ancestor-or-self::*[not(self::body or self::html)][self::script or self::style"
    " or self::aside or self::footer or self::nav or self::a or contains(@class, 'comment')]"
)
_NEXT_TEXT = XPath("following::text()[normalize-space()][1]")
_SKIP_NEXT = XPath(
    "ancestor-or-self::*[not(self::body or self::html)][self::script or self::style"
    " or self::aside or self::footer or self::nav or contains(@class, 'comment')]"
)


# The first letters of the words _LEAD_IN_TEXT opens with, as IGNORECASE matches them
# (the dotless i, U+0131, matches "i"): a cheap test that spares the regex most texts.
_LEAD_IN_INITIALS = frozenset("wpregvtaocibdk\u0131")


def _opens_lead_in(text: str | None) -> bool:
    if not text:
        return False
    rest = text.lstrip()
    if rest[:1] in ("|", "\u2022", "\u00b7", "\u2013", "\u2014", "-"):
        rest = rest[1:].lstrip()
    return rest[:1].lower()[:1] in _LEAD_IN_INITIALS and bool(_LEAD_IN_TEXT.match(text))


def _first_line(element: HtmlElement, out: list[str]) -> bool:
    """Text of `element` up to its first line break after some text; True when cut there."""
    if element.text:
        out.append(element.text)
    for child in element:
        if child.tag == "br" and "".join(out).strip():
            return True
        if isinstance(child.tag, str) and _first_line(child, out):
            return True
        if child.tail:
            out.append(child.tail)
    return False


def lead_in_names(tree: HtmlElement, outlets: set[str]) -> list[str]:
    """Names on the first short text byline that starts "By ..." ("Von ...", "Par ...")
    and credits someone other than the outlet."""
    body = find_body(tree)
    for element in body.iter() if body is not None else ():
        if not isinstance(element.tag, str) or not _opens_lead_in(element.text):
            continue
        holder = element
        alone = not _LEAD_IN_TEXT.sub("", element.text or "").strip() and len(element) == 0
        if alone:
            parent = element.getparent()  # <span>By</span><span>Name</span>
            holder = parent if parent is not None else element
        if _SKIP_TEXT(holder):
            continue
        # The byline ends at a line break: "Von A und B<br>Kakuma" names A and B.
        pieces: list[str] = []
        _first_line(holder, pieces)
        text = " ".join(" ".join(pieces).split())
        names: list[str] = []
        if len(text) <= _MAX_BYLINE_CHARS:
            names = person_names(
                _BYLINE_TAIL.sub("", _LEAD_IN_TEXT.sub("", text)), outlets=frozenset(outlets)
            )
        if not names and alone:
            # "By" set apart from the name, each in its own box: the next text is the name.
            following = _NEXT_TEXT(element)
            if following and not _SKIP_NEXT(following[0].getparent()):
                line = " ".join(str(following[0]).split())
                if len(line) <= _MAX_BYLINE_CHARS:
                    names = person_names(_BYLINE_TAIL.sub("", line))
        if names := _credited(names, outlets):
            return names[:_MAX_BYLINE_NAMES]
    return []


# A link to the writer's page on the site: /author/jane-doe, /autoren/..., /about/editors/...
_AUTHOR_LINK = XPath(
    "//body//a[contains(@href, '/author/') or contains(@href, '/authors/')"
    " or contains(@href, '/autor/') or contains(@href, '/autoren/') or contains(@href, '/auteur/')"
    " or contains(@href, '/autore/') or contains(@href, '/editors/')]"
    "[not(ancestor::*[not(self::body or self::html)]"
    "[self::aside or self::footer or self::nav or contains(@class, 'comment')])]"
)


def author_link_names(tree: HtmlElement, outlets: set[str]) -> list[str]:
    """Names on the first link to an author page and on its siblings of the same kind.

    Sites link each byline name to the writer's page; later such links on the page are
    bylines of related stories.
    """
    names: list[str] = []
    parent = None
    for link in _AUTHOR_LINK(tree)[:_MAX_BYLINE_ELEMENTS]:
        if parent is not None and link.getparent() is not parent:
            break
        found = _credited(person_names(_text(link, pictures=False)), outlets)
        if found:
            names.extend(found)
            parent = link.getparent()
    return names[:_MAX_BYLINE_NAMES]


# rel=author marks the page's own writers; some layouts set the byline in an <aside>
# column, which the other byline finders leave out as related-story boxes.
_REL_AUTHOR = XPath(
    "//body//*[@rel='author']"
    "[not(ancestor::*[not(self::body or self::html)][self::footer or contains(@class, 'comment')])]"
)


def rel_author_names(tree: HtmlElement, outlets: set[str]) -> list[str]:
    """Names on the first rel=author element and its siblings of the same kind."""
    names: list[str] = []
    parent = None
    for element in _REL_AUTHOR(tree)[:_MAX_BYLINE_ELEMENTS]:
        if parent is not None and element.getparent() is not parent:
            break
        if found := _credited(person_names(_text(element)), outlets):
            names.extend(found)
            parent = element.getparent()
    return names[:_MAX_BYLINE_NAMES]


def _fuller(names: list[str], found: list[str]) -> bool:
    """True when `names` credits everyone in `found` and more (a byline of several)."""
    return len(names) > len(found) and set(map(key, found)) <= set(map(key, names))


def _literals(*texts: str) -> re.Pattern[str]:
    """A pattern that finds any of `texts` in a string, as written (one C call per string)."""
    return re.compile("|".join(map(re.escape, texts)))


# trafilatura's extract_author evaluates AUTHOR_XPATHS on a copy of the page pruned by
# AUTHOR_DISCARD_XPATHS: ~30 attribute tests per element through libxml2 and a Python regex
# callback, ~6 ms a page. _extract_author makes the same tests on attribute values fetched
# once per element, in one walk of the page (~1.5 ms). tests/test_trafilatura_mirrors.py
# pins the library's expressions (their text) and the answer equal to extract_author's.
_AUTHOR_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_AUTHOR_CLASSES = _literals("authorname", "author-name", "AuthorName", "authorName")
_BYLINE_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_BYLINE_CLASSES = _literals(
    "author", "channel-name", "zuozhe", "bianji", "xiaobian", "submitted-by", "posted-by",
    "journalist-name",
)  # fmt: skip
_BYLINE_IDS = _literals("author", "zuozhe", "bianji", "xiaobian")
_ANY_CLASSES = _literals("Author", "author", "screenname", "writer", "Byline", "byline")
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_CLASSES = _literals(
    "commentlist", "comments-list", "sidebar", "is-hidden", "quote", "embedly-instagram",
    "article-share", "article-support", "print", "category", "meta-date", "meta-reviewer",
)  # fmt: skip
_DISCARD_IDS = _literals("commentlist", "comment-list", "ProductReviews")
_AUTHOR_CONTENT_CHARS = 120  # extract_author's len_limit


def _pruned_text(element: HtmlElement, pruned: list[HtmlElement], members: set[HtmlElement]) -> str:
    """The element's itertext(), joined by spaces, once the `pruned` elements are deleted in
    their order, each tail kept where trafilatura's delete_element moves it."""
    inner = [e for e in element.iterdescendants() if e in members]
    if not inner:
        return " ".join(element.itertext())
    # Deleting inside a copy of the element alone moves the same texts: a deleted element's
    # tail goes to its parent or previous sibling, both inside the element.
    copy = deepcopy(element)
    twins = dict(zip(element.iter(), copy.iter(), strict=True))
    inside = set(inner)
    for e in pruned:
        if e in inside:
            delete_element(twins[e])
    return " ".join(copy.itertext())


def _extract_author(tree: HtmlElement) -> str | None:
    """trafilatura's extract_author: the text of the first match of its three author
    expressions, in turn, with 3-119 characters, on the page without its discarded parts
    (comments, sidebars, quotes, figures, times), normalised as it does.

    The library reads a copy of the page with those parts deleted; here the page itself is
    read, skipping matches inside them, and only a match with such parts inside is copied.
    """
    matches: tuple[list[HtmlElement], ...] = ([], [], [])  # per expression, in page order
    discarded: list[HtmlElement] = []  # AUTHOR_DISCARD_XPATHS[0], deleted first
    pictures: list[HtmlElement] = []  # //time|//figure, deleted next
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag == "rel":
            # The first expression's rel='me' compares a <rel> child's text: left to lxml.
            return extract_author(tree)
        get = element.get
        cls, id_, itemprop = get("class") or "", get("id") or "", get("itemprop") or ""
        if tag == "author" or (
            tag in _AUTHOR_TAGS
            and (
                get("rel") == "author"
                or id_ == "author"
                or cls == "author"
                or itemprop == "author name"
                or get("data-testid") in ("AuthorCard", "AuthorURL")
                or _AUTHOR_CLASSES.search(cls)
            )
        ):
            matches[0].append(element)
        if tag in _BYLINE_TAGS and (
            cls in ("byline", "username", "byl", "BBL")
            or "author" in itemprop
            or _BYLINE_IDS.search(id_)
            or _BYLINE_CLASSES.search(cls)
        ):
            matches[1].append(element)
        if (
            "Byline" in (get("data-component") or "")
            or "author" in itemprop
            or "Author" in id_
            or "author" in id_
            or _ANY_CLASSES.search(cls)
        ):
            matches[2].append(element)
        if element is tree:
            continue  # .//* for the discarded parts; the library's delete leaves the root
        if tag in ("time", "figure"):
            pictures.append(element)
        elif tag in _DISCARD_TAGS and (
            id_.startswith("comments")
            or _DISCARD_IDS.search(id_)
            or cls in ("comments", "title", "date")
            or cls.startswith(("Comments", "comments"))
            or _DISCARD_CLASSES.search(cls)
            or "Figure" in (get("data-component") or "")
        ):
            discarded.append(element)
    # A picture inside a discarded part is gone from the library's copy when it looks for
    # pictures: it is inside a deleted part all the same.
    pruned = [*discarded, *pictures]
    members = set(pruned)
    for found in matches:
        for element in found:
            if element in members or any(a in members for a in element.iterancestors()):
                continue
            content = trim(_pruned_text(element, pruned, members))
            if content and 2 < len(content) < _AUTHOR_CONTENT_CHARS:
                return normalize_authors(None, content)
    return None


def _trafilatura_credit(tree: HtmlElement) -> str:
    """trafilatura's own author finder (meta, JSON-LD, byline XPaths): its raw answer."""
    try:
        found = examine_meta(tree).author
        if found and " " not in found:
            found = None  # trafilatura's own rule: a one-word meta author is a handle
        found = found or extract_meta_json(tree, Document()).author or _extract_author(tree)
    except Exception:  # trafilatura's metadata code has failed on odd markup; authors are optional
        return ""
    return found or ""


def trafilatura_authors(raw: str, min_words: int = 2) -> list[str]:
    """trafilatura's raw credit (`_trafilatura_credit`) split into credits."""
    return [n for part in raw.split(";") for n in person_names(part, min_words)]


# What a publishing system writes where nobody is credited: "No Author", "Unknown".
_NO_CREDIT = {
    "no", "none", "unknown", "anonymous", "anonym", "anonyme", "anónimo", "anonimo", "author",
    "autor", "n/a", "admin", "zvg",
}  # fmt: skip


def _bare_credits(raw: str) -> list[str]:
    """trafilatura's credits as written, when short and free of links and numbers.

    A byline of role words alone ("Staff Writer", "Rasender Reporter") is still the only
    credit such a page gives; an archive keeps it rather than nothing. One role word alone
    ("admin", "editor") is the publishing system's account name, not a credit.
    """
    credits = []
    for part in raw.split(";"):
        part = _LEAD_IN.sub("", clean(part)).strip(" .:-\u2013\u2014'\"")
        words = part.split()
        if (
            1 <= len(words) <= _MAX_DESK_WORDS
            and not (len(words) == 1 and _is_role(part))
            and not all(w.lower() in _NO_CREDIT for w in words)
            and len(part) >= 3
            and _NAME_CHARS.match(part)
            and not _NOT_A_NAME.search(part)
        ):
            credits.append(_name_case(part))
    return credits


def _keys(names: Iterable[str]) -> set[str]:
    return set(map(key, names))


def _reads_as_names(value: str) -> bool:
    """True when every part of a meta author value is a credit ("A, B and C"), not a
    company or department ("Landesanstalt für Wald und Forstwirtschaft")."""
    parts = [p for p in _SPLIT.split(_LEAD_IN.sub("", clean(value))) if p.strip(" .:-")]
    return all(person_names(p, min_words=1) for p in parts)


def _names_outlet(name: str, outlets: set[str]) -> bool:
    # "IGN Staff", "PhillyVoice Staff": the site's own desk, named word by word.
    words = name.split()
    spans = ((i, j) for i in range(len(words)) for j in range(i + 1, len(words) + 1))
    return any(_fold(" ".join(words[i:j])) in outlets for i, j in spans)


def pick_authors(tree: HtmlElement, data: PageData, sites: list[str], host: str) -> list[str]:
    """Authors from the first source that credits someone: JSON-LD, meta tags, the byline,
    then trafilatura's finder. People and agencies, in page order, each once.

    A byline that names everyone a structured source named, and more, wins: JSON-LD and
    meta tags often carry only the first of several authors. The outlet itself (a JSON-LD
    Organization author, "IGN Staff" beside a person) is kept only when nobody else is
    credited; a site-wide meta author (the publisher's company) beside JSON-LD people, a
    place, the site's domain or address, an account name or a rights notice never.
    """
    # "Campo Grande News" and "The Planetary Press" are also credited without "News", "The".
    outlets = {_fold(s) for s in sites} | {_fold(_strip_roles(s)) for s in sites} | {host}
    outlets.discard("")
    persons, orgs = _ld_authors(data)
    ld_credits = _dedupe(persons, outlets)
    people = [p for p in persons if key(p) not in _keys(orgs)]
    byline = byline_names(tree, outlets)
    lead_in = lead_in_names(tree, outlets)
    meta: list[str] = []
    meta_values: list[str] = []
    for meta_key in _META_KEYS:
        meta_values = data.all(meta_key)
        meta = [n for value in meta_values for n in person_names(value)]
        # Beside JSON-LD people, a meta author naming none of them, and not on the
        # visible byline either, is set site-wide (the publisher's company, an uploader).
        if meta and (not ld_credits or _keys(meta) & _keys([*persons, *byline, *lead_in])):
            break
        meta, meta_values = [], []
    # JSON-LD and meta tags each may carry only some of the authors: together, in order.
    found = _dedupe([*persons, *meta], outlets)
    # Author-page links are another scan of the whole page: looked for only when needed.
    linked = cache(lambda: author_link_names(tree, outlets))
    visible = byline or lead_in
    if found and not people and not meta and visible:
        # JSON-LD credits only an organisation, the page a person: the page's byline,
        # with any agency the JSON-LD named.
        found = [*visible, *(o for o in found if credit(o))]
    # A meta author tag is often set site-wide (the publisher's company, a desk); when no
    # JSON-LD person backs it and the visible byline names other people, confirmed by a
    # "By ..." line or a link to their author page, or the meta value reads as no list of
    # names, the byline readers see wins.
    on_byline = _keys(byline)
    disjoint = not persons and not on_byline & _keys(found)
    confirmed = (
        disjoint
        and bool(on_byline)
        and bool(
            on_byline & _keys(lead_in)
            or not all(map(_reads_as_names, meta_values))
            or on_byline & _keys(linked())
        )
    )
    if not found or _fuller(byline, found) or confirmed:
        found = byline
        # The first byline-like element is a related story's when the "By ..." line and
        # the author-page link agree on someone else.
        if (
            found
            and not persons
            and not meta
            and not _keys(found) & _keys(lead_in)
            and _keys(lead_in) & _keys(linked())
            and not _keys(found) & _keys(linked())
        ):
            found = lead_in
    if found and _fuller(lead_in, found):
        found = lead_in
    if not found:
        # A "By ..." line credits the page's authors in words; trafilatura's finder reads
        # markup that often runs the outlet or a title into the name.
        found = lead_in
    if not found:
        found = linked()
    if not found:
        found = rel_author_names(tree, outlets)
    if found:
        return _completed(_without_own_desk(found, outlets), [*byline, *lead_in])
    # trafilatura's finder is the costliest source (it copies the tree): asked once, last.
    raw = _trafilatura_credit(tree)
    # "hessenschau.de, Frankfurt, Germany": the site and its address, as trafilatura read it
    # from a meta tag or on its own.
    led = [v for v in data.all(*_META_KEYS) if _outlet_led(v.split(","), outlets, host)]
    parts = [p.strip().lower() for p in raw.split(";")]
    if _outlet_led(raw.split(";"), outlets, host) or any(
        all(p in v.lower() for p in parts) for v in led
    ):
        raw = ""
    if found := _not_domain(_dedupe(trafilatura_authors(raw), outlets), host):
        return _without_own_desk(found, outlets)
    # Nobody but the outlet credited (a JSON-LD Organization, "Par Attac France"), or a
    # one-word byline (a first name, a handle): still what the page credits.
    loose = [n for v in data.all(*_META_KEYS) if v not in led for n in person_names(v, min_words=1)]
    return _not_domain(
        _dedupe(orgs, set())
        or _dedupe([*loose, *trafilatura_authors(raw, min_words=1)], set())
        or _dedupe(_bare_credits(raw), set()),
        host,
    )


def _outlet_led(parts: list[str], outlets: set[str], host: str) -> bool:
    """True for "hessenschau.de, Frankfurt, Germany": the site and its address."""
    first = parts[0].strip() if len(parts) > 1 else ""
    return bool(first) and (_fold(first) in outlets | {key(host)} or _is_domain(first, host))


def _is_domain(name: str, host: str) -> bool:
    """True for the site's domain written out: "kath.net", "Www Proplanta De"."""
    pattern = rf"^(?:www)?{re.escape(host)}[a-z]{{2,3}}$"
    return bool(host) and re.match(pattern, _fold(name)) is not None


def _not_domain(names: list[str], host: str) -> list[str]:
    """Without what credits nobody: the site's domain written out, a publishing system's
    account ("Jdadmin", "Anónimo"), a rights notice ("Copyright Example GmbH")."""
    return [
        n
        for n in names
        if not _is_domain(n, host)
        and not (" " not in n and ("admin" in n.lower() or n.lower() in _NO_CREDIT))
        and not n.lower().startswith(("copyright", "\u00a9"))
    ]


def _completed(found: list[str], visible: list[str]) -> list[str]:
    """A one-word name ("Todd") completed from the visible byline ("By Todd Bates")."""
    out = []
    for name in found:
        if " " not in name and credit(name) is None:
            longer = [v for v in visible if v.split()[0] == name and len(v.split()) > 1]
            name = longer[0] if len(longer) == 1 else name
        out.append(name)
    return out


def _without_own_desk(found: list[str], outlets: set[str]) -> list[str]:
    """Credits naming the site itself ("IGN Staff") dropped when others are credited:
    beside a person's name they are the person's role."""
    others = [n for n in found if not _names_outlet(n, outlets)]
    return others or found
