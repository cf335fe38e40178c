"""Meta refresh: followed from the head of a page, whatever the page's size or encoding."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares import HeadMetaRefreshMiddleware

REFRESH = b"<meta http-equiv='refresh' content='0; url=/moved/'>"


def _middleware() -> HeadMetaRefreshMiddleware:
    crawler = get_crawler(Spider)
    crawler.spider = Spider("news")
    return HeadMetaRefreshMiddleware.from_crawler(crawler)


def _page(head: bytes, body_chars: int, headers: dict[str, str]) -> HtmlResponse:
    body = b"<html><head>" + head + b"</head><body><p>" + "é".encode() * body_chars
    return HtmlResponse(
        "http://127.0.0.1:8000/a/",
        body=body + b"</p></body></html>",
        headers=headers,
        request=Request("http://127.0.0.1:8000/a/"),
    )


@pytest.mark.parametrize("body_chars", [100, 40_000])
@pytest.mark.parametrize("headers", [{}, {"Content-Type": "text/html; charset=utf-8"}])
def test_a_refresh_in_the_head_is_followed(body_chars: int, headers: dict[str, str]) -> None:
    page = _page(REFRESH, body_chars, headers)
    out = _middleware().process_response(page.request, page)
    assert isinstance(out, Request)
    assert out.url == "http://127.0.0.1:8000/moved/"


@pytest.mark.parametrize("body_chars", [100, 40_000])
def test_a_page_without_refresh_goes_on_unchanged(body_chars: int) -> None:
    page = _page(b"<title>Rates held</title>", body_chars, {})
    assert _middleware().process_response(page.request, page) is page


@pytest.mark.parametrize("pad", range(4))
def test_a_refresh_to_a_non_ascii_url_on_an_undeclared_utf8_page(pad: int) -> None:
    """No charset anywhere: the page is read as UTF-8 because it decodes as UTF-8, and so must
    its head be, wherever the 16 KiB cut falls in a multi-byte character."""
    head = b" " * pad + "<meta http-equiv='refresh' content='0; url=/straße/'>".encode()
    page = _page(head, 40_000, {})
    out = _middleware().process_response(page.request, page)
    assert isinstance(out, Request)
    assert out.url == "http://127.0.0.1:8000/stra%C3%9Fe/"
