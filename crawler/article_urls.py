"""Pure URL rules: is this URL shaped like one story's page, and is it on the page's own site?

Each rule is a general truth about how news sites and blog engines name their pages, never a
rule about one site. `url_shape` says why a URL is (or is not) article-shaped, for
`discover --explain`.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from scrapy.linkextractors import IGNORED_EXTENSIONS

# Path segments that name site furniture: listings (tag, category, author, date archives are
# handled apart), account and legal pages, feeds, CMS internals, forums. A story URL never
# passes through one of these words.
NON_ARTICLE_SEGMENTS = frozenset(
    {
        "tag", "tags", "category", "categories", "section", "sections", "author", "authors",
        "topic", "topics", "page", "search", "login", "signin", "sign-in", "logout", "register",
        "subscribe", "account", "feed", "feeds", "rss", "about", "about-us", "contact",
        "contact-us", "privacy", "privacy-policy", "terms", "cookies", "imprint", "impressum",
        "wp-login.php", "wp-admin", "wp-content", "wp-json", "wp-includes", "cdn-cgi", "amp",
        "newsletter", "newsletters", "advertise", "jobs", "careers", "help", "faq", "forum",
        "forums", "bbs", "video", "videos", "photo", "photos", "gallery", "galleries",
        "fotostrecke", "podcast", "podcasts", "label", "labels", "archive", "archives-list",
        "user", "users", "profile", "member", "members", "shop", "store", "share", "print",
        "comment-page-1", "attachment", "cart", "checkout", "sitemap", "thema", "themen",
    }
)  # fmt: skip
# Query keys that mean "this listing, filtered", never one story.
_LISTING_QUERY_KEYS = frozenset(
    {"cat", "category", "tag", "s", "q", "query", "search", "author", "page", "paged", "pagen_1"}
)
# Files, not pages: Scrapy's list of ignored extensions (images, media, archives, office
# documents...), plus what a news page also links that is not a story (feeds, data, fonts).
_STATIC_EXTENSIONS = frozenset(IGNORED_EXTENSIONS) | {
    "gz", "xml", "json", "txt", "atom", "woff", "woff2", "ttf", "otf", "avif", "ics",
}  # fmt: skip
_PAGE_EXT = re.compile(r"\.(s?html?|php\d?|aspx?|jsp|cms)$", re.I)
_INDEX_STEMS = frozenset({"index", "default", "home", "main", "list", "archive", "archives"})
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_MONTH = re.compile(r"^(?:0?[1-9]|1[0-2])$")
_DAY = re.compile(r"^(?:0?[1-9]|[12]\d|3[01])$")
# 2014-09, 20140907, 2014-09-07: dates written in one segment.
_DATE_SEGMENT = re.compile(
    r"^(?:19|20)\d{2}[-_]?(?:0[1-9]|1[0-2])(?:[-_]?(?:0[1-9]|[12]\d|3[01]))?$"
)
# A run of 5+ digits is an id: CMSs number their stories, and no section or tag is numbered so.
# cat_103646.html, list_48_2.html, tag-17: a listing named by its number, not a story.
_NUMBERED_LISTING = re.compile(
    r"^(?:cat|category|categories|tag|tags|list|lists|page|topic|author|archive|section)[-_]\d"
)
_MONTH_DAY = re.compile(r"^(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$")
_LONG_NUMBER = re.compile(r"(?<![0-9])\d{5,}(?![0-9])")
# Ids that name the kind of thing before them: /article/123, /story/4567, /p/890.
_ID_KIND = frozenset(
    {"article", "articles", "story", "stories", "news", "a", "p", "id", "post", "posts", "entry",
     "entries", "archives", "blog", "item", "items", "n", "nachrichten", "noticia", "notizia"}
)  # fmt: skip
# A query parameter that carries a story's id: ?p=123 (WordPress), ?id=, ?newid=, ?articleId=.
_ID_QUERY_KEY = re.compile(r"^(?:p|aid|nid|sid|story|article|post|news|item|\w*id)$", re.I)
_WORD = re.compile(r"[^\W\d_]{2,}|[^\W\d_\u0000-\u024f]")  # a word, or one CJK-like character


def _is_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return "." in name and (
        name.rsplit(".", 1)[1] in _STATIC_EXTENSIONS or name.endswith(".tar.gz")
    )


@functools.lru_cache(maxsize=4096)
def url_shape(url: str) -> tuple[bool, str]:
    """(article-shaped?, the rule that decided), from the URL alone."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    segments = [s for s in path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if _is_file(path):
        return False, "a file, not a page"
    for s in lowered:
        if s in NON_ARTICLE_SEGMENTS or s.rsplit(".", 1)[0] in NON_ARTICLE_SEGMENTS:
            return False, f"listing or service path (/{s}/)"
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = {k.lower() for k, _ in query}
    if keys & _LISTING_QUERY_KEYS and not any(_is_id_param(k, v) for k, v in query):
        return False, "listing query (" + ", ".join(sorted(keys & _LISTING_QUERY_KEYS)) + ")"
    if any(_is_id_param(k, v) for k, v in query):
        return True, "story id in the query"
    if not segments:
        return False, "home page"
    date = _date_rule(lowered)
    if date is not None:
        return date
    last = lowered[-1]
    stem = _PAGE_EXT.sub("", last)
    if _NUMBERED_LISTING.match(stem):
        return False, "numbered listing"
    if _DATE_SEGMENT.match(stem):
        return False, "date archive"
    if _LONG_NUMBER.search(stem) and not _DATE_SEGMENT.match(stem):
        return True, "numeric id"
    if len(lowered) >= 2 and lowered[-2] in _ID_KIND and re.fullmatch(r"\d{3,}", stem):
        return True, f"numeric id after /{lowered[-2]}/"
    if any(_LONG_NUMBER.search(s) and not _DATE_SEGMENT.match(s) for s in lowered[:-1]):
        # /story/2000108105550/headline-words: the id sits before a readable tail.
        return True, "numeric id"
    words = _WORD.findall(stem)
    if (len(words) >= 3 and re.search(r"[-_+]|%20", stem)) or len(words) >= 5:
        return True, "headline slug"
    if len(stem) >= 12 and not re.search(r"[-_]", stem) and _has_non_ascii_letters(stem):
        # Scripts written without spaces (CJK, Thai) make slugs without hyphens.
        return True, "headline slug"
    if _PAGE_EXT.search(last) and stem not in _INDEX_STEMS and re.search(r"\d{3,}", stem):
        return True, "numbered page"
    if _PAGE_EXT.search(last) and len(words) >= 2 and re.search(r"[-_]", stem):
        # Static-page CMSs name each story page after its headline: boda-en-la-playa.html.
        return True, "headline page"
    return False, "no date, id or headline slug"


def is_article_url(url: str) -> bool:
    """Whether a URL is shaped like one story's page: date path, numeric id or headline slug."""
    return url_shape(url)[0]


def _is_id_param(key: str, value: str) -> bool:
    key = key.lower()
    return (
        bool(_ID_QUERY_KEY.match(key))
        and key not in _LISTING_QUERY_KEYS
        and value.isdigit()
        and len(value) >= 2
    )


def _date_rule(segments: list[str]) -> tuple[bool, str] | None:
    """Dated paths: a segment after the date makes a story; the bare date is an archive."""
    for i, s in enumerate(segments):
        if _YEAR.match(s) and i + 1 < len(segments) and _MONTH_DAY.match(segments[i + 1]):
            # /2016/0421/99.html: month and day in one segment.
            rest = segments[i + 2 :]
            return (True, "date path") if rest else (False, "date archive")
        if _YEAR.match(s) and i + 1 < len(segments) and _MONTH.match(segments[i + 1]):
            rest = segments[i + 2 :]
            if rest and _DAY.match(rest[0]):
                rest = rest[1:]
            # /2021/05/2-136/ is a story (short or numeric slugs); /2021/05/ an archive.
            return (True, "date path") if rest else (False, "date archive")
        if _DATE_SEGMENT.match(s) and len(s) >= 6:
            rest = segments[i + 1 :]
            if rest and _DAY.match(rest[0]):
                rest = rest[1:]
            return (True, "date path") if rest else (False, "date archive")
        # /2016/slug/ (year-only permalinks): a slug after a year.
        if (
            _YEAR.match(s)
            and i + 2 == len(segments)
            and _WORD.search(segments[-1])
            and not _MONTH.match(segments[-1])
        ):
            return True, "date path"
    return None


def _has_non_ascii_letters(text: str) -> bool:
    return any(ch.isalpha() and ord(ch) > 0x24F for ch in text)
