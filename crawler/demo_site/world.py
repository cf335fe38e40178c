"""The demo site's world: which articles exist in which round, what they say, where they live.

A `DemoSite` is pure data plus ground-truth queries; `pages.py` turns it into HTML and
`server.py` serves it. Every value derives from (seed, site key, article id, round), so two
sites built with the same arguments are identical, and `advance()` is the only way time moves.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from crawler.demo_site import text

if TYPE_CHECKING:
    from crawler.demo_site.pages import Page

# Round 0's "now"; each round moves the clock by ROUND_STEP.
BASE_TIME = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
ROUND_STEP = timedelta(hours=6)
# Gap between consecutive round-0 articles of a site.
ARTICLE_SPACING = timedelta(hours=3)

EDIT_SUFFIXES = (" as costs rise", " despite objections", ", officials say", " amid criticism")
TRACKING_VARIANTS = ("utm", "comments", "fbclid")


class Layout(Protocol):
    """How one site's theme names URLs and renders pages (see ledger.py, courier.py)."""

    name: str
    default_categories: tuple[str, ...]

    def article_path(self, article: Article) -> str:
        """Path of an article's canonical page."""

    def amp_path(self, article: Article) -> str:
        """Path of an article's AMP page."""

    def category_path(self, category: str, page: int) -> str:
        """Path of a category listing page (page 1 is the category's front)."""

    def render(self, site: DemoSite, path: str, query: str) -> Page | None:
        """The page at path, or None when the path is not this theme's."""


@dataclass(frozen=True)
class Article:
    """One article as it stands in the site's current round (the tests' ground truth)."""

    id: int
    site: str
    category: str
    slug: str
    url: str
    amp_url: str | None
    title: str
    paragraphs: tuple[str, ...]
    authors: tuple[str, ...]
    published: datetime
    modified: datetime | None
    version: int
    created_round: int
    tags: tuple[str, ...] = ()
    comments: tuple[tuple[str, str], ...] = ()
    syndicated_from: str | None = None

    @property
    def body(self) -> str:
        """The article text, paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)

    @property
    def path(self) -> str:
        """The URL's path."""
        return "/" + self.url.split("/", 3)[3]


@dataclass(frozen=True)
class Listing:
    """One category page: its articles in order and the hrefs it shows for them."""

    category: str
    page: int
    pages: int
    url: str
    articles: tuple[Article, ...]
    hrefs: tuple[str, ...]  # absolute, as linked: tracking params and fragments kept
    next_url: str | None
    prev_url: str | None


@dataclass
class _Entry:
    """What is fixed when an article is created; content derives from it per version."""

    id: int
    category: str
    created_round: int
    published: datetime
    slug: str = ""
    edits: list[tuple[int, str, datetime]] = field(default_factory=list)
    copy_of: tuple[DemoSite, int] | None = None  # (site, id) of the wire story reprinted


class DemoSite:
    """A deterministic news site that moves forward one round at a time."""

    def __init__(
        self,
        key: str,
        name: str,
        layout: Layout,
        *,
        seed: int = 0,
        categories: int | Sequence[str] = 4,
        articles_per_category: int = 30,
        page_size: int = 10,
        new_per_round: int = 2,
        edits_per_round: int = 2,
        base_url: str = "http://127.0.0.1",
    ) -> None:
        self.key, self.name, self.layout, self.seed = key, name, layout, seed
        if isinstance(categories, int):
            categories = layout.default_categories[:categories]
        self.categories: tuple[str, ...] = tuple(categories)
        self.articles_per_category = articles_per_category
        self.page_size = page_size
        self.new_per_round = new_per_round
        self.edits_per_round = edits_per_round
        self.base_url = base_url.rstrip("/")
        self.round = 0
        self.lock = threading.RLock()
        self._entries: list[_Entry] = []
        self._built_round = -1
        self._next_id = 1
        self._syndication: list[tuple[int, DemoSite, int]] = []  # (round, source, source id)
        self._pairs: list[tuple[DemoSite, int, DemoSite, int]] = []
        self._protected: set[int] = set()  # syndicated originals: never edited
        self._article_cache: dict[tuple[int, int, str], Article] = {}
        # Per-round views, rebuilt lazily after advance() or set_base_url().
        self._current: list[Article] | None = None
        self._by_path: dict[str, Article] = {}
        self._by_category: dict[str, list[Article]] = {}
        self.page_cache: dict[tuple[int, str], Page] = {}
        self.fragments: dict[str, str] = {}  # per-round HTML shared by many pages (sidebars)
        self._build(0)

    # -- time -----------------------------------------------------------------------------

    def now(self, round_: int | None = None) -> datetime:
        """The site's clock in a round (the current one by default)."""
        return BASE_TIME + ROUND_STEP * (self.round if round_ is None else round_)

    def advance(self, rounds: int = 1) -> int:
        """Move the world forward: new articles on top, some edits, syndication. Returns round."""
        with self.lock:
            self.round += rounds
            self._build(self.round)
            self.page_cache.clear()
            self.fragments.clear()
            self._current = None
            return self.round

    def set_base_url(self, base_url: str) -> None:
        """Where the site is served; absolute URLs in pages and ground truth follow it."""
        with self.lock:
            self.base_url = base_url.rstrip("/")
            self._article_cache.clear()
            self.page_cache.clear()
            self.fragments.clear()
            self._current = None

    def syndicate(self, source: DemoSite, source_id: int, round_: int = 1) -> None:
        """Reprint `source`'s article `source_id` as wire copy here from `round_` on."""
        with self.lock:
            if round_ <= self._built_round or round_ <= source._built_round:
                raise ValueError("syndication must be set up before its round is built")
            self._syndication.append((round_, source, source_id))
            source._protected.add(source_id)

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, self.key, *parts)))

    def _build(self, upto: int) -> None:
        """Create articles and decide edits for rounds up to `upto` (never re-decides)."""
        ncat = len(self.categories)
        for r in range(self._built_round + 1, upto + 1):
            if r == 0:
                for i in range(self.articles_per_category):
                    for c, cat in enumerate(self.categories):
                        jitter = timedelta(minutes=self._rng("jitter", i, c).randint(1, 50))
                        when = BASE_TIME - ARTICLE_SPACING * (i * ncat + c) - jitter
                        self._add(cat, 0, when)
                self._built_round = 0
                continue
            self._decide_edits(r)
            step = ROUND_STEP / (self.new_per_round * ncat + 2)
            for k in range(self.new_per_round):
                for c, cat in enumerate(self.categories):
                    self._add(cat, r, self.now(r) - step * (k * ncat + c + 1))
            for sr, source, sid in self._syndication:
                if sr == r:
                    entry = self._add(self.categories[0], r, self.now(r) - step / 2)
                    entry.copy_of = (source, sid)
                    entry.slug = text.slugify(source.article(sid).title)
                    source._pairs.append((source, sid, self, entry.id))
                    self._pairs.append((source, sid, self, entry.id))
            self._built_round = r

    def _add(self, category: str, round_: int, published: datetime) -> _Entry:
        entry = _Entry(self._next_id, category, round_, published)
        self._next_id += 1
        entry.slug = text.slugify(text.headline(self._rng("a", entry.id)))
        self._entries.append(entry)
        return entry

    def _decide_edits(self, r: int) -> None:
        candidates = [e for e in self._entries if e.copy_of is None and e.id not in self._protected]
        rng = self._rng("edits", r)
        step = ROUND_STEP / (self.edits_per_round + 2)
        for j, entry in enumerate(
            rng.sample(candidates, min(self.edits_per_round, len(candidates)))
        ):
            kind = rng.choice(("title", "body", "both"))
            entry.edits.append((r, kind, self.now(r) - step * (j + 1) - timedelta(minutes=7)))

    # -- articles -------------------------------------------------------------------------

    def _visible(self) -> list[_Entry]:
        return [e for e in self._entries if e.created_round <= self.round]

    def article(self, article_id: int) -> Article:
        """Article `article_id` as it stands now."""
        with self.lock:
            entry = next(e for e in self._entries if e.id == article_id)
            return self._article(entry)

    def _article(self, entry: _Entry) -> Article:
        edits = [edit for edit in entry.edits if edit[0] <= self.round]
        key = (entry.id, len(edits), self.base_url)
        cached = self._article_cache.get(key)
        if cached is not None:
            return cached
        rng = self._rng("a", entry.id)
        title = text.headline(rng)
        paragraphs = text.body(rng)
        authors = text.people(rng, 1, 3)
        tags = sorted(rng.sample(text.TAGS, rng.randint(1, 3)))
        comments = [(text.person(rng), text.comment(rng)) for _ in range(rng.randint(0, 5))]
        syndicated_from = None
        if entry.copy_of is not None:
            orig = entry.copy_of[0].article(entry.copy_of[1])
            title, paragraphs, authors = self._wire_copy(orig, rng)
            syndicated_from = orig.url
        for n, (_, kind, _) in enumerate(edits, start=1):
            erng = self._rng("edit", entry.id, n)
            if kind in ("title", "both"):
                title = text.headline(self._rng("a", entry.id)) + erng.choice(EDIT_SUFFIXES)
            if kind in ("body", "both"):
                at = erng.randrange(len(paragraphs))
                paragraphs = [*paragraphs[:at], text.paragraph(erng), *paragraphs[at + 1 :]]
                paragraphs.append(f"Update: {text.sentence(erng)}")
        article = Article(
            id=entry.id,
            site=self.key,
            category=entry.category,
            slug=entry.slug,
            url="",
            amp_url=None,
            title=title,
            paragraphs=tuple(paragraphs),
            authors=tuple(authors),
            published=entry.published,
            modified=edits[-1][2] if edits else None,
            version=1 + len(edits),
            created_round=entry.created_round,
            tags=tuple(tags),
            comments=tuple(comments),
            syndicated_from=syndicated_from,
        )
        amp = self.base_url + self.layout.amp_path(article) if entry.id % 3 == 0 else None
        article = replace(article, url=self.base_url + self.layout.article_path(article))
        article = replace(article, amp_url=amp)
        self._article_cache[key] = article
        return article

    def _wire_copy(self, orig: Article, rng: random.Random) -> tuple[str, list[str], list[str]]:
        """Agency copy: same story, a reworded first sentence and a 'Reporting by' trailer."""
        # A wire dateline in front of the first paragraph: close enough to cluster by simhash.
        dateline = rng.choice(text.PLACES).removeprefix("the ").upper()
        intro = f"{dateline} (Wire) - {orig.paragraphs[0]}"
        trailer = f"Reporting by {' and '.join(orig.authors)}"
        return orig.title, [intro, *orig.paragraphs[1:], trailer], ["Wire Staff"]

    def articles(self) -> list[Article]:
        """Every article that exists now, newest first."""
        with self.lock:
            if self._current is None:
                entries = sorted(self._visible(), key=lambda e: e.published, reverse=True)
                self._current = [self._article(e) for e in entries]
                self._by_path = {a.path: a for a in self._current}
                self._by_category = {c: [] for c in self.categories}
                for a in self._current:
                    self._by_category[a.category].append(a)
            return list(self._current)

    def article_by_path(self, path: str) -> Article | None:
        """The article whose canonical path is `path`, if any."""
        with self.lock:
            self.articles()
            return self._by_path.get(path)

    def in_category(self, category: str) -> list[Article]:
        """Articles of one category now, newest first."""
        with self.lock:
            self.articles()
            return list(self._by_category.get(category, []))

    def new_in_round(self, round_: int) -> list[Article]:
        """Articles first published in round `round_` (as they stand now)."""
        return [a for a in self.articles() if a.created_round == round_]

    def edited_in_round(self, round_: int) -> list[Article]:
        """Articles edited in round `round_` (as they stand now)."""
        with self.lock:
            ids = {e.id for e in self._visible() if any(r == round_ for r, _, _ in e.edits)}
            return [a for a in self.articles() if a.id in ids and round_ <= self.round]

    def syndicated_pairs(self) -> list[tuple[str, str]]:
        """(original URL, wire-copy URL) for every syndication this site takes part in now."""
        pairs = []
        for src, sid, dst, did in self._pairs:
            if dst.round >= dst.article(did).created_round:
                pairs.append((src.article(sid).url, dst.article(did).url))
        return pairs

    def popular(self, n: int = 5) -> list[Article]:
        """The sidebar's "most popular" articles this round: older stories from anywhere."""
        arts = self.articles()
        rng = self._rng("popular", self.round)
        return rng.sample(arts[len(arts) // 3 :], min(n, len(arts) - len(arts) // 3))

    def tracking_variant(self, article: Article) -> str:
        """The suffix a listing adds to this article's links this round ('' most of the time)."""
        rng = self._rng("track", article.id, self.round)
        if rng.random() >= 0.2:
            return ""
        kind = rng.choice(TRACKING_VARIANTS)
        if kind == "utm":
            return f"?utm_source={self.key}&utm_medium=web&utm_campaign=round{self.round}"
        if kind == "fbclid":
            return f"?fbclid=IwAR{rng.getrandbits(64):016x}"
        return "#comments"

    # -- listings -------------------------------------------------------------------------

    def category_url(self, category: str, page: int = 1) -> str:
        """Absolute URL of a category page."""
        return self.base_url + self.layout.category_path(category, page)

    def page_count(self, category: str) -> int:
        """How many listing pages a category has now."""
        n = len(self.in_category(category))
        return max(1, math.ceil(n / self.page_size))

    def listing(self, category: str, page: int = 1) -> Listing:
        """Category page `page` as the site shows it now."""
        if category not in self.categories:
            raise KeyError(category)
        arts = self.in_category(category)
        pages = self.page_count(category)
        if not 1 <= page <= pages:
            raise KeyError(f"{category} has no page {page}")
        chunk = tuple(arts[(page - 1) * self.page_size : page * self.page_size])
        return Listing(
            category=category,
            page=page,
            pages=pages,
            url=self.category_url(category, page),
            articles=chunk,
            hrefs=tuple(a.url + self.tracking_variant(a) for a in chunk),
            next_url=self.category_url(category, page + 1) if page < pages else None,
            prev_url=self.category_url(category, page - 1) if page > 1 else None,
        )

    def articles_in_listing(self, category: str, max_pages: int | None = None) -> list[Article]:
        """Articles listed on the first `max_pages` pages of a category (all pages if None)."""
        pages = self.page_count(category)
        last = pages if max_pages is None else min(max_pages, pages)
        return [a for p in range(1, last + 1) for a in self.listing(category, p).articles]

    def all_article_urls(self, max_pages: int | None = None) -> list[str]:
        """Canonical URLs of every article reachable from category pages within `max_pages`."""
        return [a.url for cat in self.categories for a in self.articles_in_listing(cat, max_pages)]
