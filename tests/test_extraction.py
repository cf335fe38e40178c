"""crawler.extraction.extract as the crawl and re-extraction call it: pure, picklable, robust."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trafilatura

from crawler.extraction import EXTRACTOR_ID, TRAFILATURA_OPTIONS, ExtractionHints, extract
from storage.records import PageState
from tests.extraction_benchmark import ground_truth, page
from tests.golden.regenerate import GOLDEN

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ARTICLE = (GOLDEN / "title_site_suffix.html").read_bytes()
URL = "https://harbourtimes.example/news/storm-closes-pier"


def test_extractor_id_names_trafilatura_version_and_rules_version() -> None:
    assert EXTRACTOR_ID.startswith(f"trafilatura-{trafilatura.__version__}/na-")
    assert extract(ARTICLE, URL, NOW).extractor_id == EXTRACTOR_ID


def test_extract_runs_in_a_process_pool_with_picklable_inputs_and_results() -> None:
    hints = ExtractionHints(published=datetime(2024, 5, 1, tzinfo=UTC))
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(extract, ARTICLE, URL, NOW, hints=hints)
        result = future.result(timeout=60)
    assert result == extract(ARTICLE, URL, NOW, hints=hints)
    assert pickle.loads(pickle.dumps(result)) == result
    assert result.title == "Storm closes northern pier"


def test_same_stored_bytes_give_the_same_extraction() -> None:
    first = extract(ARTICLE, URL, NOW)
    assert extract(ARTICLE, URL, NOW) == first
    from_text = extract(ARTICLE.decode(), URL, NOW)
    assert (from_text.title, from_text.text, from_text.extra["encoding"]) == (
        first.title,
        first.text,
        "str",
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (404, PageState.NOT_ARTICLE),
        (410, PageState.NOT_ARTICLE),
        (500, PageState.ERROR),
        (429, PageState.BLOCKED),
        (403, PageState.BLOCKED),
    ],
)
def test_error_status_gives_a_state_and_no_text(status: int, state: PageState) -> None:
    result = extract(ARTICLE, URL, NOW, status=status)
    assert (result.state, result.error, result.text) == (state, f"HTTP {status}", None)


def test_non_html_content_type_is_an_error() -> None:
    result = extract(
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", URL, NOW, content_type="application/pdf"
    )
    assert result.state == PageState.ERROR
    assert result.error is not None


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body><p>unclosed <div><span>",
        "<<<>>><html<<",
        b"\x00" * 200,
        b"<html>" + b"<div>" * 5000 + b"deep" + b"</div>" * 10 + b"</html>",
        b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00",
        b'<html><head><script type="application/ld+json">{"@type": "NewsArticle", "author": '
        b'[{"@id": "#x"}, 3, null], "datePublished": "2024-99-99", "hasPart": {"isAccessibleFor'
        b'Free": false, "cssSelector": "::nonsense((("}}</script></head>'
        b"<body><p>Hi</p></body></html>",
        "   \n\t  ",
    ],
)
def test_malformed_input_never_raises(body: bytes | str) -> None:
    result = extract(body, URL, NOW)
    assert result.extractor_id == EXTRACTOR_ID
    assert result.state != PageState.ARTICLE or result.text


def test_naive_fetched_at_is_taken_as_utc() -> None:
    page = ARTICLE.replace(
        b"</head>",
        b'<meta property="article:published_time" content="2024-06-02T10:00:00Z"></head>',
    )
    # 2024-06-02T10:00Z is within a day of the naive fetch time, so it is kept.
    result = extract(page, URL, datetime(2024, 6, 1, 12, 0))
    assert result.published is not None and result.published.source == "meta"


def test_lead_image_and_canonical_url_are_made_absolute() -> None:
    page = ARTICLE.replace(
        b"</head>",
        b'<link rel="canonical" href="/news/storm-closes-pier?x=1">'
        b'<meta property="og:image" content="//cdn.harbourtimes.example/pier.jpg"></head>',
    )
    result = extract(page, URL, NOW)
    assert result.canonical_url == "https://harbourtimes.example/news/storm-closes-pier?x=1"
    assert result.image == "https://cdn.harbourtimes.example/pier.jpg"


def test_categories_and_tags_from_meta_and_json_ld() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "NewsArticle", "headline": "Storm", "articleSection": ["Coast"],
             "keywords": "storms, harbour"},
            {"@type": "BreadcrumbList", "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Home"},
                {"@type": "ListItem", "position": 2, "name": "Weather"},
                {"@type": "ListItem", "position": 3, "name": "Storm closes northern pier"}]},
        ],
    }  # fmt: skip
    page = ARTICLE.replace(
        b"</head>",
        b'<meta property="article:section" content="News">'
        b'<meta property="article:tag" content="Piers">'
        + f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'.encode(),
    )
    result = extract(page, URL, NOW)
    assert result.categories == ("News", "Coast", "Weather")
    assert result.tags == ("Piers", "storms", "harbour")


def test_canonical_url_resolves_against_the_heads_first_base_with_an_href() -> None:
    words = " ".join(f"word{i}" for i in range(120))
    page = (
        "<html><head><title>A story</title><base target='_blank'>"
        "<base href='https://cdn.example.org/news/'><base href='https://second.example/'>"
        "<link rel='canonical'><link rel='alternate stylesheet' href='x.css'>"
        "<link rel='Canonical' href='story-1.html'></head>"
        f"<body><base href='https://in-the-body.example/'><article><p>{words}</p></article>"
        "</body></html>"
    )
    result = extract(page.encode(), "https://www.example.com/a/b", datetime(2024, 1, 1, tzinfo=UTC))
    assert result.canonical_url == "https://cdn.example.org/news/story-1.html"
    without_base = page.replace("<base href='https://cdn.example.org/news/'>", "").replace(
        "<base href='https://second.example/'>", ""
    )
    result = extract(
        without_base.encode(), "https://www.example.com/a/b", datetime(2024, 1, 1, tzinfo=UTC)
    )
    # A <base> outside the <head> is not the document's base URL.
    assert result.canonical_url == "https://www.example.com/a/story-1.html"


def _benchmark() -> Path:
    from tests.conftest import IN_CI
    from tests.extraction_benchmark import dataset_dir

    directory = dataset_dir()
    if directory is None:
        if IN_CI:
            pytest.fail("article-extraction-benchmark dataset missing (set NEWSARCHIVE_DATASETS)")
        pytest.skip("article-extraction-benchmark dataset not present")
    return directory


def test_article_text_is_trafilaturas_text_of_the_whole_page() -> None:
    # The metadata rules read the tree before trafilatura extracts the body from that very
    # tree: a rule that changed the tree would change the text.
    directory = _benchmark()
    for page_id, truth in sorted(ground_truth(directory).items())[:30]:
        html, url = page(directory, page_id), truth["url"]
        alone = trafilatura.bare_extraction(html, url=url, **TRAFILATURA_OPTIONS)
        if alone is not None and len(alone.text.split()) >= 100:  # no retry in extract
            assert extract(html, url, NOW).text == alone.text, page_id


def test_a_forum_thread_short_in_precision_mode_gets_its_posts_from_the_retry() -> None:
    # Precision mode prunes comment containers from the page, a thread's posts with them,
    # and keeps 9 words; the recall retry must read the whole page again, posts included,
    # not the tree the first extraction pruned.
    post = '<div class="comment-body"><p>Post {}: {}.</p></div>'
    posts = "".join(post.format(i, " ".join(f"word{i}x{j}" for j in range(60))) for i in range(6))
    html = (
        '<html><head><script type="application/ld+json">{"@type": "DiscussionForumPosting"}'
        "</script></head><body><main><h1>A thread about harbours</h1><p>Opening question"
        f' about the harbour.</p><div id="comments">{posts}</div></main></body></html>'
    )
    text = extract(html, "https://forum.example/t/1", NOW).text
    assert text is not None and "Post 5: word5x0" in text


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("<!--", "-->"), ("//<![CDATA[", "//]]>"), ("", ""), ("", "-->")],
    ids=["comment", "cdata", "bare", "closing-only"],
)
def test_json_ld_wrapped_in_a_comment_or_cdata_is_read(opening: str, closing: str) -> None:
    ld = '{"@type": "NewsArticle", "datePublished": "2024-05-01T10:00:00Z"}'
    page = ARTICLE.decode().replace(
        "</head>", f'<script type="application/ld+json">{opening}\n{ld}\n{closing}</script></head>'
    )
    published = extract(page, URL, NOW).published
    assert published is not None
    assert (published.value, published.source) == (datetime(2024, 5, 1, 10, tzinfo=UTC), "json-ld")
