"""Published and modified dates with their source, checked against when the page was fetched."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from htmldate import find_date
from htmldate.extractors import custom_parse
from lxml import etree
from lxml.html import HtmlElement

from crawler.extraction.parsing import find_body
from crawler.extraction.structured import PageData, ld_texts
from crawler.extraction.titles import not_the_headline
from storage.records import DatedValue

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# A page may be dated "tomorrow" in its own time zone relative to the crawler's clock.
FUTURE_TOLERANCE = timedelta(days=1)

_META_PUBLISHED = (
    "article:published_time", "article:published", "og:article:published_time", "og:published_time",
    "datepublished", "article.published", "published_time", "publishdate", "publish-date",
    "pubdate", "publication_date", "parsely-pub-date", "dc.date.issued", "dcterms.issued",
    "dcterms.created", "originalpublicationdate", "article_date_original",
)  # fmt: skip
# Generic dates: often the last change of the page rather than its publication.
_META_GENERIC = ("sailthru.date", "dc.date", "dcterms.date", "date")
_META_MODIFIED = (
    "article:modified_time", "article:modified", "og:article:modified_time", "og:updated_time",
    "datemodified", "article.updated", "dc.date.modified", "dcterms.modified", "lastmod",
)  # fmt: skip
# Where the page's HTML dates it: elements with an itemprop, and <time> elements, inside
# <body> (see HtmlDates).
_ITEMPROPS = etree.XPath(".//body//*[@itemprop]")
_ISO = re.compile(
    r"^(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?=[/_\-.]|$)"
    r"|/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=/)"
    # A slug ending in its day, "/some-headline-20161013": eight digits alone at the end.
    r"|[-_]((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=\.\w+$|/?$)"
)


# "06/01/2024", "06.01.2024 10:30", "6-1-2024": day and month order is the page's convention.
_NUMERIC = re.compile(
    r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:[T\s,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)
# "06/01/2024", "4. 2. 2022" (a space after the dots is common in German): found from their
# first separator, a much faster scan than from every digit; the digits before it are checked
# in _numeric_dates.
_VISIBLE_NUMERIC = re.compile(r"([./-])\s?(\d{1,2})\1\s?((?:19|20)\d{2})(?!\d)")
_MAX_VISIBLE_DATES = 200
# Languages whose numeric dates put the month first (US English); all others write day first.
_MONTH_FIRST_LANGUAGES = {"en"}


def _numeric_dates(text: str) -> Iterator[tuple[int, str, int, int]]:
    """(a, separator, b, year) of each numeric date "a<sep>b<sep>year" in `text`, where a is
    one or two digits not preceded by another digit, ".", "/" or "-"."""
    for m in _VISIBLE_NUMERIC.finditer(text):
        at = m.start()
        if at == 0 or not text[at - 1].isdecimal():
            continue
        start = at - 2 if at >= 2 and text[at - 2].isdecimal() else at - 1
        if start > 0 and (text[start - 1].isdecimal() or text[start - 1] in "./-"):
            continue
        yield int(text[start:at]), m[1], int(m[2]), int(m[3])


class DayOrder:
    """How one page writes numeric dates: from its unambiguous dates, else its language.

    "06/01/2024" is 6 January on a German page and June 1 on a US one. Dates on the page
    decide first: a "13/01/2024" says day-first; "01.11.2023" (dots are day-first in
    every locale) makes 1 November the reading of an ambiguous "11/01/2023" there.
    """

    def __init__(self, visible_text: str | Callable[[], str], language: str | None) -> None:
        """`visible_text`: the page's text, or a function giving it (read on first use: most
        pages never need the order); `language`: its ISO 639-1 code, if known."""
        self.seen: set[tuple[int, int, int]] = set()
        self.written: dict[tuple[int, int, int], str] = {}  # ambiguous (year, a, b) -> sep
        self.day_first = True
        self._text: str | Callable[[], str] | None = visible_text
        self._language = language

    def _scan(self) -> None:
        if self._text is None:
            return
        text = self._text if isinstance(self._text, str) else self._text()
        self._text = None
        day_first = month_first = 0
        for i, (a, sep, b, year) in enumerate(_numeric_dates(text)):
            if i >= _MAX_VISIBLE_DATES:
                break
            if a <= 12 and b <= 12:
                self.written.setdefault((year, a, b), sep)
            if a > 12 or sep == ".":
                day_first += 1
                self.seen.add((year, b, a))
            elif b > 12:
                month_first += 1
                self.seen.add((year, a, b))
        if day_first != month_first:
            self.day_first = day_first > month_first
        else:
            self.day_first = (self._language or "").lower()[:2] not in _MONTH_FIRST_LANGUAGES

    def read(self, a: int, sep: str, b: int, year: int) -> tuple[int, int, int]:
        """(year, month, day) of the numeric date a<sep>b<sep>year."""
        self._scan()
        if a > 12:
            return year, b, a
        if b > 12:
            return year, a, b
        day_first, month_first = (year, b, a), (year, a, b)
        if (day_first in self.seen) != (month_first in self.seen):
            return day_first if day_first in self.seen else month_first
        return day_first if (sep == "." or self.day_first) else month_first

    def check_iso(self, value: str | None) -> str | None:
        """An ISO yyyy-mm-dd from a text scan, swapped when only the swap is on the page."""
        if not value or not (m := re.match(r"^(\d{4})-(\d{2})-(\d{2})$", value)):
            return value
        self._scan()
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        if day <= 12 and (year, month, day) not in self.seen and (year, day, month) in self.seen:
            return f"{year}-{day:02d}-{month:02d}"
        if day <= 12 and (year, month, day) not in self.seen:
            # The page prints it as "10/04/2016": read in the page's own order, not the
            # text scanner's guess.
            for a, b in ((month, day), (day, month)):
                if (sep := self.written.get((year, a, b))) is not None:
                    y, mo, d = self.read(a, sep, b, year)
                    return f"{y}-{mo:02d}-{d:02d}"
        return value


_WORD = re.compile(r"[^\W\d_]{3,}")  # a month name or other word: not a bare number
_TEXT_MIN, _TEXT_MAX = datetime(1990, 1, 1), datetime(2100, 1, 1)


def _text_day(raw: str) -> str | None:
    """yyyy-mm-dd of a date written in words, by htmldate's fast parser (no dateparser)."""
    try:
        return custom_parse(raw.strip()[:64], "%Y-%m-%d", _TEXT_MIN, _TEXT_MAX)
    except Exception:  # a parser failure on odd text only means no date from it
        return None


# A date as pages print them: "29.04.2020", "4. 2. 2022", "2019年4月21日", "2020-04-29",
# "30 septembre 2018", "5. November 2021", "Dec. 22, 2016".
_PRINTED = re.compile(
    r"(?<![\d./-])(\d{1,2})([./-])\s?(\d{1,2})\2\s?((?:19|20)\d{2})(?!\d)"
    r"|((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
    r"|(?<![\d./-])((?:19|20)\d{2})-(\d{2})-(\d{2})(?![\d/-])"
    r"|(?<![\d.])(\d{1,2})(?:\.|er|st|nd|rd|th)?\s+(?:de\s+)?([^\W\d_]{3,})\.?,?\s+(?:de\s+)?((?:19|20)\d{2})(?!\d)"
    r"|([^\W\d_]{3,})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{2})(?!\d)"
)
_AFTER_HEADLINE, _BEFORE_HEADLINE, _MIN_HEADLINE = 600, 200, 15
_TEXTS_AFTER, _TEXTS_BEFORE = 40, 12  # text nodes read after and before the headline
_NO_TEXT = {"script", "style"}


def _subtree_texts(el: HtmlElement, limit: int | None = None) -> list[str]:
    """The text nodes inside `el` (not its tail) in document order, without scripts,
    styles and comments; with `limit`, at least the first `limit` of them (a headline's
    next sibling may be the whole article)."""
    texts: list[str] = []
    skipped = 0
    for event, e in etree.iterwalk(el, events=("start", "end")):
        if limit is not None and len(texts) >= limit:
            break
        if event == "start":
            if not isinstance(e.tag, str) or e.tag in _NO_TEXT:
                skipped += 1
            elif e.text and not skipped:
                texts.append(e.text)
        else:
            if not isinstance(e.tag, str) or e.tag in _NO_TEXT:
                skipped -= 1
            if e is not el and e.tail and not skipped:
                texts.append(e.tail)
    return texts


def _texts_after(el: HtmlElement, limit: int) -> list[str]:
    """The first `limit` text nodes after `el`'s own subtree, in document order."""
    texts: list[str] = []
    node: HtmlElement | None = el
    while node is not None and len(texts) < limit:
        if node.tail:
            texts.append(node.tail)
        for sibling in node.itersiblings():
            if len(texts) >= limit:
                break
            texts += _subtree_texts(sibling, limit - len(texts))
            if sibling.tail:
                texts.append(sibling.tail)
        node = node.getparent()
    return texts[:limit]


def _last_subtree_texts(el: HtmlElement, limit: int) -> list[str]:
    """The last `limit` of _subtree_texts(el), last first: read from the end of `el`, as a
    preceding sibling of the headline's may be a whole menu or page header."""
    texts: list[str] = []
    # Elements whose content is still to read, and texts, in reverse document order: an
    # element's content is its children's tails and contents, last first, then its text.
    stack: list[HtmlElement | str] = [el]
    while stack and len(texts) < limit:
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item.tag, str) and item.tag not in _NO_TEXT:
            if item.text:
                stack.append(item.text)
            for child in item:
                stack.append(child)
                if child.tail:
                    stack.append(child.tail)
    return texts


def _texts_before(el: HtmlElement, limit: int) -> list[str]:
    """The last `limit` text nodes before `el` (its ancestors' own text included), in
    document order."""
    texts: list[str] = []  # nearest first
    node: HtmlElement | None = el
    while node is not None and len(texts) < limit:
        for sibling in node.itersiblings(preceding=True):
            if len(texts) >= limit:
                break
            if sibling.tail:
                texts.append(sibling.tail)
            texts += _last_subtree_texts(sibling, limit - len(texts))
        parent = node.getparent()
        if parent is not None and parent.text and parent.tag not in _NO_TEXT:
            texts.append(parent.text)
        node = parent
    return texts[:limit][::-1]


def _printed_match(m: re.Match[str], order: DayOrder) -> str | None:
    """yyyy-mm-dd of one _PRINTED match, or None when it is no valid date."""
    g = m.groups()
    if g[0] is not None:
        year, month, day = order.read(int(g[0]), g[1], int(g[2]), int(g[3]))
    elif g[4] is not None:
        year, month, day = int(g[4]), int(g[5]), int(g[6])
    elif g[7] is not None:
        year, month, day = int(g[7]), int(g[8]), int(g[9])
    else:
        words = (g[11], g[10], g[12]) if g[10] is not None else (g[14], g[13], g[15])
        return _text_day(" ".join(words))
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


# A masthead's <h1> (the site's name, often over today's date): not the headline.
def _masthead(h1: HtmlElement) -> bool:
    return not_the_headline(h1) or any(
        a.tag in ("nav", "footer", "aside") for a in h1.iterancestors()
    )


def _headline_h1(body: HtmlElement) -> HtmlElement | None:
    """The article's headline <h1>: the first with a headline's length (not a logo's short
    text) that is not the page's masthead, navigation or a sidebar."""
    return next(
        (
            h
            for h in body.iter("h1")
            if len(h.text_content().strip()) >= _MIN_HEADLINE and not _masthead(h)
        ),
        None,
    )


def printed_day(body: HtmlElement, order: DayOrder) -> str | None:
    """The day the page prints by its headline: the first date in or after the first <h1>,
    else the nearest one just before it (a date line above the headline)."""
    h1 = _headline_h1(body)
    if h1 is None:
        return None
    after = " ".join([h1.text_content(), *_texts_after(h1, _TEXTS_AFTER)])[:_AFTER_HEADLINE]
    for m in _PRINTED.finditer(after):
        if day := _printed_match(m, order):
            return day
    before = " ".join(_texts_before(h1, _TEXTS_BEFORE))[-_BEFORE_HEADLINE:]
    for m in reversed(list(_PRINTED.finditer(before))):
        if day := _printed_match(m, order):
            return day
    return None


def _offset_minutes(zone: str) -> int:
    if zone.upper() in {"Z", "UTC", "GMT"}:
        return 0
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return -minutes if zone[0] == "-" else minutes


def parse_date(raw: str, order: DayOrder | None = None) -> tuple[datetime, int | None] | None:
    """Parse an ISO 8601-like or RFC 2822 date; returns (UTC datetime, page offset in minutes).

    A date without an offset is taken as UTC and reported with offset None. With `order`,
    numeric dates ("06/01/2024") are read in the page's day/month order.
    """
    text = raw.strip()
    if not text or len(text) > 64:
        return None
    if order is not None and (numeric := _NUMERIC.match(text)):
        a, sep, b, year, hour, minute, second = numeric.groups()
        y, mo, d = order.read(int(a), sep, int(b), int(year))
        try:
            when = datetime(y, mo, d, int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError:
            return None
        return when.replace(tzinfo=UTC), None
    if match := _ISO.match(text):
        year, month, day, hour, minute, second, zone = match.groups()
        offset = _offset_minutes(zone) if zone else None
        try:
            local = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                tzinfo=timezone(timedelta(minutes=offset or 0)),
            )
        except ValueError:
            return None
        return local.astimezone(UTC), offset
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), None
    delta = parsed.utcoffset()
    return parsed.astimezone(UTC), int(delta.total_seconds() // 60) if delta is not None else None


def date_in_url(url: str) -> str | None:
    """The yyyy-mm-dd a URL path carries (/2024/03/05/, /2024-03-05-slug, /20240305/)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    if not (match := _URL_DATE.search(path)):
        return None
    year, month, day = (g for g in match.groups() if g is not None)
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _value(el: HtmlElement) -> str:
    value: str = el.get("datetime") or el.get("content") or el.text_content()
    return value


def _classes(el: HtmlElement) -> str:
    return el.get("class") or ""


def _parent_publish(el: HtmlElement) -> bool:
    parent = el.getparent()
    return parent is not None and "publish" in _classes(parent)


def _in_body(el: HtmlElement, top: HtmlElement) -> bool:
    """Whether `el` lies in a <body> below `top` (".//body//")."""
    for ancestor in el.iterancestors():
        if ancestor is top:
            return False
        if ancestor.tag == "body":
            return True
    return False


def _in_article_in_body(el: HtmlElement, top: HtmlElement) -> bool:
    """Whether `el` lies in an <article> inside a <body> below `top` (".//body//article//")."""
    in_article = False
    for ancestor in el.iterancestors():
        if ancestor is top:
            return False
        if ancestor.tag == "article":
            in_article = True
        elif ancestor.tag == "body" and in_article:
            return True
    return False


class HtmlDates:
    """The date values of the page's dating elements, in the order of trust, as these
    XPaths from the root find them (path after path, each in document order):

    published  .//body//*[@itemprop='datePublished' or @itemprop='published']
               .//body//time[@pubdate]
               .//body//time[contains(@class, 'publish') or contains(../@class, 'publish')]
               .//body//article//time[@datetime]
               .//body//article//time[not(@datetime)]  (a date printed in words or digits)
    modified   .//body//*[@itemprop='dateModified']
               .//body//time[contains(@class, 'update') or contains(@class, 'modif')]

    Found on first use from two walks of the page, not one per path: libxml2 walks the
    whole tree for each (tests/test_extraction_metadata_rules.py holds them equal).
    """

    def __init__(self, tree: HtmlElement) -> None:
        """`tree`: the root the paths start from."""
        self._tree = tree
        self._found: tuple[list[str], list[str]] | None = None

    def _find(self) -> tuple[list[str], list[str]]:
        if self._found is None:
            props = [(el, el.get("itemprop")) for el in _ITEMPROPS(self._tree)]
            # The <time> elements in a body: libxml2 would walk the page for bodies, then
            # each body for <time>s (0.18 ms a page); lxml's iterator walks it once (0.12).
            times = [el for el in self._tree.iterdescendants("time") if _in_body(el, self._tree)]
            in_article = [el for el in times if _in_article_in_body(el, self._tree)]
            published = [
                *(el for el, prop in props if prop in ("datePublished", "published")),
                *(el for el in times if el.get("pubdate") is not None),
                *(el for el in times if "publish" in _classes(el) or _parent_publish(el)),
                *(el for el in in_article if el.get("datetime") is not None),
                *(el for el in in_article if el.get("datetime") is None),
            ]
            modified = [
                *(el for el, prop in props if prop == "dateModified"),
                *(el for el in times if "update" in _classes(el) or "modif" in _classes(el)),
            ]
            self._found = [_value(el) for el in published], [_value(el) for el in modified]
        return self._found

    def published(self) -> list[str]:
        """The values of the published-date elements (an element may count twice)."""
        return self._find()[0]

    def modified(self) -> list[str]:
        """The values of the modified-date elements."""
        return self._find()[1]


class DatePicker:
    """Tries date sources in order of trust and keeps the first date that is plausible."""

    def __init__(self, fetched_at: datetime, order: DayOrder | None = None) -> None:
        """`fetched_at` bounds the plausible dates; a naive value is taken as UTC."""
        self.order = order
        if fetched_at.tzinfo is None:
            fetched_at = fetched_at.replace(tzinfo=UTC)
        self.latest = fetched_at.astimezone(UTC) + FUTURE_TOLERANCE
        self.rejected: list[str] = []

    def check(self, raw: str | None, source: str) -> DatedValue | None:
        """A DatedValue for `raw` when it parses and lies between 1990 and fetch time."""
        if not raw:
            return None
        parsed = parse_date(raw, self.order)
        if parsed is None and source == "html" and _WORD.search(raw):
            # A date element's text ("December 7, 2016", "7. Dezember 2016") is the date
            # the page prints for its readers: read in its words when no ISO form exists.
            parsed = parse_date(_text_day(raw) or "")
        if parsed is None:
            return None
        value, offset = parsed
        if not EARLIEST <= value <= self.latest:
            self.rejected.append(f"{source}:{value.isoformat()}")
            return None
        return DatedValue(value=value, source=source, tz_offset_minutes=offset)

    def first(self, candidates: Iterator[tuple[str | None, str]]) -> DatedValue | None:
        """The first plausible candidate of (raw value, source) pairs, consumed lazily."""
        for raw, source in candidates:
            if (found := self.check(raw, source)) is not None:
                return found
        return None


def _published_candidates(
    html: HtmlDates,
    data: PageData,
    url: str,
    feed: datetime | None,
    shown: Callable[[], str | None] | None,
    order: DayOrder,
) -> Iterator[tuple[str | None, str]]:
    for raw in ld_texts(data.article.get("datePublished") or data.article.get("dateCreated")):
        yield raw, "json-ld"
    for raw in data.all(*_META_PUBLISHED):
        yield raw, "meta"
    in_url = date_in_url(url)
    for raw in html.published():
        # A date in the article's own URL was set when it was published; a <time> in the
        # body on another day belongs to a teaser, a comment or a related story.
        parsed = parse_date(raw, order) if in_url else None
        if parsed is not None and _local_day(parsed[0], parsed[1]) != in_url:
            continue
        yield raw, "html"
    # A bare "date" meta is often the last change: after the page's own <time> elements.
    for raw in data.all(*_META_GENERIC):
        yield raw, "meta"
    if feed is not None:
        yield feed.isoformat(), "feed"
    yield in_url, "url"
    if shown is not None:
        # htmldate scans the whole page (and deep-copies it): only when nothing better exists.
        yield shown(), "text"


def _htmldate(tree: HtmlElement, url: str) -> str | None:
    try:
        return find_date(
            tree, extensive_search=True, original_date=True, url=url, min_date="1990-01-01"
        )
    except Exception:  # htmldate has failed on odd markup before; a missing date is fine
        return None


_SAME_INSTANT = timedelta(minutes=1)


def _local_day(value: datetime, offset: int | None) -> str:
    """The calendar day of a UTC instant in the page's zone (UTC when it gave none)."""
    return (value + timedelta(minutes=offset or 0)).date().isoformat()


def _edited_days(data: PageData, order: DayOrder | None) -> set[str]:
    """The days (in their own zones) of the page's declared modification dates."""
    return {
        _local_day(*parsed)
        for raw in (*ld_texts(data.article.get("dateModified")), *data.all(*_META_MODIFIED))
        if (parsed := parse_date(raw, order)) is not None
    }


def _bare_day(found: DatedValue) -> bool:
    """A date without a time of day or zone ("2024-03-05")."""
    return found.tz_offset_minutes is None and found.value.time() == time()


def _shown_among(
    found: DatedValue, picker: DatePicker, html: HtmlDates, data: PageData, shown: str | None
) -> DatedValue:
    """The page's dated metadata candidate on the day the page shows, when they disagree.

    Republished and updated articles keep their first date in one field and the new one in
    another; readers see one of them printed on the page, and that is the date the page
    stands for. Only a candidate the metadata already holds is taken, never the text date.
    """
    if not shown or found.source not in ("json-ld", "meta", "html"):
        return found
    if _local_day(found.value, found.tz_offset_minutes) == shown:
        return found
    # The page's own metadata only: a <time> in the body may date a teaser.
    raws = [
        *((raw, "json-ld") for raw in ld_texts(data.article.get("datePublished"))),
        *((raw, "meta") for raw in data.all(*_META_PUBLISHED, *_META_GENERIC)),
    ]
    if found.source == "html":
        # No metadata date: the printed day tells the article's <time> from a teaser's.
        raws += [(raw, "html") for raw in html.published()]
    # A bare day on the day of the last modification is that update's stamp.
    edited = _edited_days(data, picker.order)
    rejected = len(picker.rejected)
    for raw, source in raws:
        other = picker.check(raw, source)
        if other is None or _local_day(other.value, other.tz_offset_minutes) != shown:
            continue
        if not (_bare_day(other) and shown in edited):
            found = other
            break
    del picker.rejected[rejected:]  # already reported by the first pass, or not a pick
    return found


def _local_offset(
    found: DatedValue, html: HtmlDates, data: PageData, order: DayOrder
) -> DatedValue:
    """`found` with the page's own UTC offset when another of its dates gives the same
    instant with one: JSON-LD often says "Z" where the meta tag or <time> says "+02:00"."""

    def raws() -> Iterator[str]:
        yield from ld_texts(data.article.get("datePublished"))
        yield from data.all(*_META_PUBLISHED, *_META_GENERIC)
        yield from html.published()  # read from the page only when the metadata has no match

    for raw in raws():
        parsed = parse_date(raw, order)
        if parsed and parsed[1] and abs(parsed[0] - found.value) <= _SAME_INSTANT:
            return DatedValue(found.value, found.source, parsed[1])
    return found


_MAX_WEST, _MAX_EAST = 12 * 60, 14 * 60  # UTC-12 .. UTC+14


def _shown_day(found: DatedValue, shown_day: Callable[[], str | None]) -> DatedValue:
    """`found` (a time in UTC, the page's zone unknown) placed in the zone of the day the
    page shows, when that day is the UTC day's neighbour and some zone explains it.

    "2022-05-04T00:44Z" on a page that reads "3 May 2022" was written west of UTC; the
    offset kept is the smallest whole-hour one that gives the shown day.
    """
    if found.source not in ("json-ld", "meta", "html"):
        return found
    if _bare_day(found):
        return found  # a day without a time of day: no zone to place it in
    if not (shown := shown_day()):
        return found
    try:
        day = date.fromisoformat(shown)
    except ValueError:
        return found
    utc = found.value.astimezone(UTC)
    minutes = utc.hour * 60 + utc.minute
    if day == utc.date() - timedelta(days=1) and minutes < _MAX_WEST:
        offset = -(minutes // 60 + 1) * 60
    elif day == utc.date() + timedelta(days=1) and 24 * 60 - minutes <= _MAX_EAST:
        offset = -(-(24 * 60 - minutes) // 60) * 60
    else:
        return found
    return DatedValue(found.value, found.source, offset)


def _modified_candidates(
    html: HtmlDates, data: PageData, feed: datetime | None
) -> Iterator[tuple[str | None, str]]:
    for raw in ld_texts(data.article.get("dateModified")):
        yield raw, "json-ld"
    for raw in data.all(*_META_MODIFIED):
        yield raw, "meta"
    for raw in html.modified():
        yield raw, "html"
    yield (feed.isoformat() if feed else None), "feed"


def pick_dates(
    tree: HtmlElement,
    data: PageData,
    url: str,
    fetched_at: datetime,
    feed_published: datetime | None = None,
    feed_modified: datetime | None = None,
    text_fallback: bool = True,
    language: str | None = None,
) -> tuple[DatedValue | None, DatedValue | None, list[str]]:
    """(published, modified, rejected dates as "source:iso") for one page.

    `language` (the page's) decides the day/month order of numeric dates when the other
    dates on the page do not.
    """
    body = find_body(tree)
    order = DayOrder(body.text_content if body is not None else "", language)
    picker = DatePicker(fetched_at, order)
    html = HtmlDates(tree)
    memo: list[str | None] = []
    # The date printed by the headline; htmldate's reading of the page stands in for it.
    printed = printed_day(body, order) if text_fallback and body is not None else None

    def shown_day() -> str | None:
        # The day the page shows, computed once.
        if not memo:
            memo.append(printed or order.check_iso(_htmldate(tree, url)))
        return memo[0]

    published = picker.first(
        _published_candidates(
            html, data, url, feed_published, shown_day if text_fallback else None, order
        )
    )
    if published is not None:
        published = _shown_among(published, picker, html, data, printed)
    if published is not None and not published.tz_offset_minutes:
        published = _local_offset(published, html, data, order)
    if published is not None and not published.tz_offset_minutes and text_fallback:
        published = _shown_day(published, shown_day)
    modified = picker.first(_modified_candidates(html, data, feed_modified))
    # A modification before publication is a template default, not an edit.
    if modified is not None and published is not None and modified.value < published.value:
        modified = None
    return published, modified, picker.rejected
