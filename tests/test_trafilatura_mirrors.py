"""The author and category rules' faster stand-ins for trafilatura's own code, pinned to it.

authors._extract_author answers what trafilatura's extract_author answers, authors._BYLINE
finds the elements its plain form finds and fields._category_links lists what
extract_catstags("category", ...) lists: on made-up pages that exercise each test and on
every dev page.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.metadata import extract_author, extract_catstags
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, CATEGORIES_XPATHS

from crawler.extraction.authors import _BYLINE, _extract_author
from crawler.extraction.fields import _category_links
from crawler.extraction.parsing import parse_html
from tests.conftest import dev_page_files, dev_page_text

# The expressions authors._extract_author tests attribute by attribute, as trafilatura 2.x
# writes them (spaces collapsed): a change here is a change to mirror there.
_MIRRORED_AUTHOR_XPATHS = [
    "//*[self::a or self::address or self::div or self::link or self::p or self::span"
    " or self::strong][ @rel='author' or @id='author' or @class='author'"
    " or @itemprop='author name' or rel='me' or @data-testid='AuthorCard'"
    " or @data-testid='AuthorURL' or re:test(@class, 'author-?name|AuthorName|authorName')]"
    "|//author",
    "//*[self::a or self::div or self::h3 or self::h4 or self::p or self::span][ @class='byline'"
    " or @class='username' or @class='byl' or @class='BBL' or contains(@itemprop, 'author') or"
    " re:test(@id, 'author|zuozhe|bianji|xiaobian') or re:test(@class,"
    " 'author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name')]",
    "//*[ contains(@data-component, 'Byline') or contains(@itemprop, 'author') or"
    " re:test(@id, '[Aa]uthor') or re:test(@class, '[Aa]uthor|screenname|writer|[Bb]yline')]",
]
_MIRRORED_DISCARD_XPATHS = [
    ".//*[self::a or self::div or self::section or self::span][ @id='comments'"
    " or @class='comments' or @class='title' or @class='date' or"
    " re:test(@id, '^comments|comment-?list|ProductReviews') or re:test(@class,"
    " '^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    "|article-(?:share|support)|print|category|meta-date|meta-reviewer') or"
    " contains(@data-component, 'Figure')]",
    "//time|//figure",
]
_MIRRORED_CATEGORY_XPATHS = [
    "//div[ re:test(@class, '^(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)')"
    " or starts-with(@id, 'postpath')]//a[@href]",
    "//p[starts-with(@class, 'postmeta') or starts-with(@class, 'entry-categories') or"
    " @class='postinfo' or @id='filedunder']//a[@href]",
    "//footer[starts-with(@class, 'entry-meta') or starts-with(@class, 'entry-footer')]//a[@href]",
    "//*[self::li or self::span][@class='post-category' or @class='postcategory' or"
    " @class='entry-category' or contains(@class, 'cat-links')]//a[@href]",
    "//header[@class='entry-header']//a[@href]",
    "//div[@class='row' or @class='tags']//a[@href]",
]
# authors._BYLINE before it looked for the marked elements through their attributes.
_PLAIN_BYLINE = XPath(
    "//body//*[@rel='author' or @itemprop='author' or contains(@class, 'byline')"
    " or contains(@class, 'author') or contains(@id, 'byline')]"
    "[not(ancestor-or-self::*[not(self::body or self::html)]"
    "[contains(@class, 'comment') or self::aside or self::footer])]"
    "[not(ancestor::figure or ancestor::figcaption or contains(@class, 'image')"
    " or contains(@class, 'photo') or contains(@class, 'caption') or contains(@class, 'license')"
    " or contains(@class, 'copyright') or contains(@class, 'quote'))]"
)

_AUTHOR_PAGES = [
    # Times, figures and discarded parts inside a byline: their tails join the text around.
    '<div class="byline">By <span>Jane Doe</span><time>May 1</time>, Berlin</div>',
    '<span class="author">Al<span class="date">Jan 1</span>an Poe</span>',
    '<p class="author">Al<span class="date">Jan 1</span> <b>x</b><time>9</time>y Poe</p>',
    '<div class="byline">Ed<figure>F</figure><figure>G</figure>die Vance</div>',
    '<div class="byline"><time>1</time>Ro<!-- c -->b<time>2</time>in Hood</div>',
    '<div class="author"><div class="print"><time>1</time>Q</div>Ma<span class="quote">Q</span>'
    "ry Shelley</div>",
    # Matches inside discarded parts, of each kind.
    '<section class="comments"><span class="author">Com Menter</span></section>'
    '<span class="author">Real Name</span>',
    '<figure><figcaption class="author">Photo Guy</figcaption></figure>'
    '<div id="article-author">Writer Person</div>',
    '<div class="sidebar"><a rel="author">Side Bar</a></div><h3 class="posted-by">Sam Smith</h3>',
    '<div id="comments-area"><p class="byline">Nope Person</p></div>'
    '<p class="byline">Yes Person</p>',
    '<div data-component="FigureX"><p class="byline">Fig Ure</p></div>'
    '<p class="byline">Out Side</p>',
    '<div class="is-hidden"><span class="byline">Hid Den</span></div><span>No One</span>',
    '<span class="title"><time><a class="author">Deep Inside</a></time></span>',
    # One page per test of the three expressions.
    '<p class="AuthorName">Ann Lee</p>',
    '<p class="x-author-name">Bo Li</p>',
    '<span class="authorName">Cy Young</span>',
    '<strong id="author">Di Ross</strong>',
    '<link rel="author"/><address class="author">Ed Wood</address>',
    '<span itemprop="author name">Li Wei</span>',
    '<a data-testid="AuthorCard">Card Holder</a>',
    '<div data-testid="AuthorURL">Url Holder</div>',
    "<author>Jo Bloggs</author>",
    "<div><rel>me</rel>Jane Roe</div>",
    "<div><rel>m<time>x</time>e</rel>Rel Child</div>",
    '<h4 id="zuozhe">张伟明</h4>',
    '<p class="byl">Byl Name</p>',
    '<span class="BBL">Bbl Name</span>',
    '<div class="username">User Name</div>',
    '<h3 class="journalist-name">Jo Urnalist</h3>',
    '<b itemprop="author">Bold Author</b>',
    '<i class="screenname">@handle</i>',
    '<em class="Byline">Up Case</em>',
    '<td id="Author-1">Table Author</td>',
    '<div data-component="Byline">Kim Park</div>',
    '<p id="Commentlist"><a class="author">Case Id</a></p>',
    # Too short and too long, then the next match.
    '<div class="author">x</div><div class="author">' + "Long Name " * 13 + "</div>"
    '<span class="writer">Wri Ter</span>',
]


def _tree(html: str) -> HtmlElement:
    tree = parse_html(f"<html><head><title>t</title></head><body>{html}</body></html>")
    assert tree is not None
    return tree


def _dev_pages() -> Iterator[tuple[str, HtmlElement]]:
    for path in dev_page_files("article-extraction-benchmark", "article-metadata"):
        if (tree := parse_html(dev_page_text(path))) is not None:
            yield path.name, tree


def test_mirrored_author_expressions_are_still_trafilaturas() -> None:
    assert [" ".join(x.path.split()) for x in AUTHOR_XPATHS] == _MIRRORED_AUTHOR_XPATHS
    assert [" ".join(x.path.split()) for x in AUTHOR_DISCARD_XPATHS] == _MIRRORED_DISCARD_XPATHS


@pytest.mark.parametrize("html", _AUTHOR_PAGES)
def test_author_from_markup_is_trafilaturas_extract_author(html: str) -> None:
    assert _extract_author(_tree(html)) == extract_author(_tree(html))


@pytest.mark.parametrize(
    "html",
    [
        '<div class="byline"><a rel="author">A B</a></div><aside><p class="author">C</p></aside>',
        '<div class="comment-box"><span itemprop="author">X</span></div><p id="byline-1">Y</p>',
        '<figure><span class="author">P</span></figure><p class="image-author">Q</p>',
        '<footer><p class="byline">F</p></footer><div class="post"><span class="byline">Z</span>'
        '<span class="author byline">W</span></div>',
    ],
)
def test_byline_elements_are_the_plain_expressions(html: str) -> None:
    tree = _tree(html)
    # A class on <body> says nothing of the elements inside it.
    tree.find("body").set("class", "author-page")
    assert _BYLINE(tree) == _PLAIN_BYLINE(tree)


@pytest.mark.parametrize(
    "html",
    [
        # Each of the six containers, links inside and outside them, in the library's order.
        '<div class="entry-meta"><a href="/category/politics/">Politics</a></div>'
        '<span class="cat-links"><a href="/category/x/">Later Kind</a></span>',
        '<div class="post-info"><a href="/categories/a/">A</a><a href="/tag/b/">B</a></div>',
        '<div class="xmeta"><a href="/category/no/">No</a></div><div id="postpath">'
        '<a href="/categorys/yes/">Yes</a><a href="https://x.org/category/yes/">Yes</a></div>',
        '<p class="entry-categories"><a href="/category/p/">P</a></p>'
        '<p id="filedunder"><a href="/category/q/">Q <b>bold</b></a></p>',
        '<footer class="entry-footer"><div><a href="/category/f/">F</a></div></footer>',
        '<ul><li class="post-category"><a href="/categor/l/">L</a></li></ul>'
        '<span class="x cat-links"><a href="/category/s/">S</a></span>',
        '<header class="entry-header"><a href="/category/h/">H</a></header>',
        '<div class="tags" id="postpath-2"><a href="/category/z/">Two Kinds</a></div>',
        '<div class="tags"><a href="/category/t/">T</a></div><div class="row"><a href="/category/'
        'r/">R</a><a href="/Category/r/">Capital</a></div>',
        # Category links outside every container, no links at all: the section metas.
        '<nav><a href="/category/news/">News</a></nav>',
        '<div class="tags"><a href="/tag/x/">X</a></div><a href="/categorised">Y</a>',
        '<div class="entry-meta"><a href="/category/e/"> </a><a href="/category/d/">D</a>'
        '<a href="/category/d/">D</a></div>',
    ],
)
@pytest.mark.parametrize(
    "head",
    [
        "",
        '<meta property="article:section" content="Sport">',
        '<meta name="dc.subject" content="S">',
    ],
)
def test_category_links_are_trafilaturas_extract_catstags(html: str, head: str) -> None:
    page = f"<html><head>{head}</head><body>{html}</body></html>"
    tree = parse_html(page)
    assert tree is not None
    assert _category_links(tree) == extract_catstags("category", tree)


def test_mirrored_category_expressions_are_still_trafilaturas() -> None:
    assert [" ".join(x.path.split()) for x in CATEGORIES_XPATHS] == _MIRRORED_CATEGORY_XPATHS


def test_mirrors_answer_as_trafilatura_on_every_dev_page() -> None:
    for name, tree in _dev_pages():
        assert _extract_author(tree) == extract_author(tree), name
        assert _BYLINE(tree) == _PLAIN_BYLINE(tree), name
        assert _category_links(tree) == extract_catstags("category", tree), name
