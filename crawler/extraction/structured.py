"""What a page says about itself in machine-readable form: meta tags, JSON-LD, <head>."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

_ARTICLE_TYPES = re.compile(r"(?:News|Blog|Scholarly|Tech|Report|Satirical)?Article$|BlogPosting$")
_PAGE_TYPES = {"WebPage", "ItemPage"}
_NOT_THE_PAGE = {"ImageObject", "VideoObject", "MediaObject", "AudioObject", "Comment", "WebSite"}
# Control characters are invalid in JSON strings but common in hand-built JSON-LD.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f]")
_TRAILING_COMMA = re.compile(r",\s*([\]}])")
_JSON_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
_WRAPPER_MARKS = ("<!", "]]>", "-->")  # one of them is in every match of _JSON_WRAPPERS


@dataclass(slots=True)
class PageData:
    """Meta tags (name/property/itemprop, lower-cased -> contents) and JSON-LD of one page,
    and the <head> elements the rules read: <title>, <base href>, <link href>."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    article: dict[str, Any] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What ElementPath's ".//head/title", ".//head/base[@href]" and ".//link[@href]" find
    # (the first, the first, all in page order), each a walk over the whole page otherwise.
    title: HtmlElement | None = None
    base_href: str | None = None
    links: list[HtmlElement] = field(default_factory=list)

    def title_text(self) -> str | None:
        """The <title>'s own text ("" when empty, None without one), as findtext gives it."""
        return None if self.title is None else self.title.text or ""

    def first(self, *keys: str) -> str | None:
        """The first non-empty meta content among `keys`, in the order given."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value.strip():
                    return value.strip()
        return None

    def all(self, *keys: str) -> list[str]:
        """Every non-empty meta content for `keys`."""
        return [v.strip() for key in keys for v in self.meta.get(key, ()) if v.strip()]

    def resolve(self, value: Any) -> Any:
        """Follow a JSON-LD {"@id": ...} reference to the object it names, when present."""
        if isinstance(value, dict) and set(value) == {"@id"}:
            return self.by_id.get(str(value["@id"]), value)
        return value

    def of_type(self, *types: str) -> Iterator[dict[str, Any]]:
        """JSON-LD objects whose @type is one of `types`."""
        for obj in self.objects:
            if any(t in types for t in type_names(obj)):
                yield obj


def type_names(obj: dict[str, Any]) -> list[str]:
    """The @type of a JSON-LD object as a list of bare names (schema.org prefix removed)."""
    raw = obj.get("@type", [])
    names = raw if isinstance(raw, list) else [raw]
    return [str(n).rsplit("/", 1)[-1] for n in names]


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    # @graph, lists and nested objects (mainEntity, hasPart, ...) all hold typed objects.
    if isinstance(value, list):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        if "@type" in value or "@id" in value:
            yield value
        for key, item in value.items():
            if key != "@context" and isinstance(item, (list, dict)):
                yield from _walk(item)


def _load_json(text: str) -> Any:
    if any(mark in text for mark in _WRAPPER_MARKS):
        # The wrapper regex is tried at every position of what is often tens of kilobytes.
        text = _JSON_WRAPPERS.sub("", text)
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    # Hand-built JSON-LD breaks in two common ways: raw control characters in strings and
    # trailing commas. Repairing both only after strict parsing failed keeps good JSON intact.
    repaired = _TRAILING_COMMA.sub(r"\1", _CONTROL_CHARS.sub(" ", text))
    try:
        return json.loads(repaired)
    except ValueError:
        return None


def _pick_article(objects: list[dict[str, Any]]) -> dict[str, Any]:
    articles = [o for o in objects if any(_ARTICLE_TYPES.search(t) for t in type_names(o))]
    # Prefer the article that carries a headline: related-article teasers often carry none.
    articles.sort(key=lambda o: ("headline" not in o, "datePublished" not in o))
    if articles:
        return articles[0]
    pages = [o for o in objects if set(type_names(o)) & _PAGE_TYPES and "headline" in o]
    if pages:
        return pages[0]
    # Other creative works that describe the page itself (ClaimReview, Report, ...).
    works = [o for o in objects if "datePublished" in o and not set(type_names(o)) & _NOT_THE_PAGE]
    return works[0] if works else {}


def read_page_data(tree: HtmlElement) -> PageData:
    """Collect the meta tags, JSON-LD objects and <head> elements of a parsed page, in one
    pass over it."""
    data = PageData()
    for el in tree.iter("meta", "script", "title", "base", "link"):
        tag = el.tag
        if tag == "meta":
            # Some pages write value= for content= (parsely's own tags among them).
            content = el.get("content", el.get("value"))
            if content is None:
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                # itemprop may list several properties: "datePublished dateCreated".
                for key in (el.get(attr) or "").lower().split():
                    data.meta.setdefault(key, []).append(content)
        elif tag == "script":
            if (el.get("type") or "").strip().lower() != "application/ld+json":
                continue
            loaded = _load_json(el.text or "")
            if loaded is not None:
                data.objects.extend(_walk(loaded))
        elif tag == "link":
            if el.get("href") is not None and el is not tree:
                data.links.append(el)
        else:  # title, base: those in a <head> below the root, as ".//head/..." finds them
            parent = el.getparent()
            if parent is None or parent is tree or parent.tag != "head":
                continue
            if tag == "title" and data.title is None:
                data.title = el
            elif tag == "base" and data.base_href is None and el.get("href") is not None:
                data.base_href = el.get("href")
    for obj in data.objects:
        if isinstance(obj.get("@id"), str) and len(obj) > 1:
            data.by_id.setdefault(obj["@id"], obj)
    data.article = _pick_article(data.objects)
    return data


def ld_texts(value: Any, *keys: str) -> list[str]:
    """Strings in a JSON-LD value: plain strings, lists, or objects' `keys` (e.g. name)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [text for item in value for text in ld_texts(item, *keys)]
    if isinstance(value, dict):
        for key in keys:
            if key in value:
                return ld_texts(value[key], *keys)
    return []


def ld_false(value: Any) -> bool:
    """True for JSON-LD's many spellings of false (false, "False", "false")."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")
