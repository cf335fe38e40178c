"""The bundled demo news sites: The Daily Ledger and Metro Courier, served on loopback.

from crawler.demo_site import make_sites, serve

ledger, courier = make_sites(categories=3, articles_per_category=12)
with serve(ledger, courier) as server:
    server.url["ledger"]         # http://127.0.0.1:PORT
    ledger.all_article_urls(2)   # ground truth for a crawl with max_pages=2
    server.advance()             # round 1: new articles, edits, a wire copy
"""

from __future__ import annotations

from collections.abc import Sequence

from crawler.demo_site.courier import CourierLayout
from crawler.demo_site.ledger import LedgerLayout
from crawler.demo_site.pages import Page, render_page
from crawler.demo_site.server import HANDLED, DemoRequest, DemoServer, LoggedRequest, serve
from crawler.demo_site.world import Article, DemoSite, Listing

__all__ = [
    "HANDLED",
    "Article",
    "DemoRequest",
    "DemoServer",
    "DemoSite",
    "Listing",
    "LoggedRequest",
    "Page",
    "make_sites",
    "render_page",
    "serve",
]


def make_sites(
    *,
    seed: int = 0,
    categories: int | Sequence[str] = 4,
    articles_per_category: int = 30,
    page_size: int = 10,
    new_per_round: int = 2,
    edits_per_round: int = 2,
) -> tuple[DemoSite, DemoSite]:
    """The Ledger and the Courier, the Courier reprinting a Ledger story from round 1."""
    ledger = DemoSite(
        "ledger",
        "The Daily Ledger",
        LedgerLayout(),
        seed=seed,
        categories=categories,
        articles_per_category=articles_per_category,
        page_size=page_size,
        new_per_round=new_per_round,
        edits_per_round=edits_per_round,
    )
    courier = DemoSite(
        "courier",
        "Metro Courier",
        CourierLayout(),
        seed=seed,
        # The Courier keeps its own section names; only the count follows the Ledger's.
        categories=categories if isinstance(categories, int) else len(categories),
        articles_per_category=articles_per_category,
        page_size=page_size,
        new_per_round=new_per_round,
        edits_per_round=edits_per_round,
    )
    # The Ledger's newest round-0 story is the one the wire picks up.
    courier.syndicate(ledger, ledger.articles()[0].id, round_=1)
    return ledger, courier
