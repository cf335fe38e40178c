"""The scope rule and the page limits as pure functions: no network, no DNS."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from crawler.feeds import parse_feed_or_sitemap
from crawler.limits import cut_after_links, header_bytes
from crawler.scope import Scope, addresses_allowed, is_public, parse_addresses

ip = ipaddress.ip_address
PUBLIC_SITE = Scope.for_site(["news.example.com"], ["https://news.example.com/politics/"])
LOCAL_SITE = Scope.for_site(["127.0.0.1:8080"], ["http://127.0.0.1:8080/"])


@pytest.mark.parametrize(
    "url",
    [
        "file://news.example.com/etc/passwd",
        "file:///etc/passwd",
        "ftp://news.example.com/x",
        "data:text/html,hi",
        "s3://news.example.com/bucket",
        "http://news.example.com:99999/x",
        "http://[bad/",
        "https://evil.example.org/",
        "https://news.example.com.evil.org/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/admin",
    ],
)
def test_a_public_site_refuses(url: str) -> None:
    assert PUBLIC_SITE.check_url(url) is not None
    assert not PUBLIC_SITE.allows(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.com/2024/05/06/story/",
        "http://news.example.com/feed.xml",
        "https://amp.news.example.com/story/",
        "HTTPS://NEWS.EXAMPLE.COM./x",
    ],
)
def test_a_public_site_allows_its_own_pages(url: str) -> None:
    assert PUBLIC_SITE.check_url(url) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.0.0.2",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fc00::1",
        "0.0.0.0",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused(address: str) -> None:
    assert not is_public(ip(address))
    assert PUBLIC_SITE.check_addresses([ip("93.184.215.14"), ip(address)]) is not None


def test_a_name_resolving_to_public_addresses_is_allowed() -> None:
    assert PUBLIC_SITE.check_addresses([ip("93.184.215.14"), ip("2606:2800:21f::1")]) is None


def test_a_name_resolving_to_nothing_is_refused() -> None:
    assert addresses_allowed([], []) is not None


def test_a_local_site_may_use_its_own_address_only() -> None:
    assert LOCAL_SITE.check_url("http://127.0.0.1:8080/2024/story/") is None
    assert LOCAL_SITE.check_addresses([ip("127.0.0.1")]) is None
    assert LOCAL_SITE.check_addresses([ip("127.0.0.2")]) is not None
    assert LOCAL_SITE.check_url("http://127.0.0.1:9090/internal-admin") is not None


def test_a_site_started_by_name_gets_the_addresses_its_name_resolves_to() -> None:
    scope = Scope.for_site(["localhost"], ["http://localhost:8080/"])
    assert scope.check_addresses([ip("127.0.0.1")]) is not None  # not resolved yet
    resolved = scope.with_own_addresses([ip("127.0.0.1"), ip("::1")])
    assert resolved.check_addresses([ip("127.0.0.1")]) is None
    assert resolved.check_addresses([ip("10.0.0.1")]) is not None
    assert resolved.check_url("http://127.0.0.1:8080/") is not None  # not an allowed domain


def test_a_domain_with_a_port_matches_that_port_only() -> None:
    assert LOCAL_SITE.check_url("http://127.0.0.1:8080/x") is None
    assert LOCAL_SITE.check_url("http://127.0.0.1/x") is not None


def test_getaddrinfo_results_become_addresses() -> None:
    infos = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", 443, 0, 2)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
    ]
    assert parse_addresses(infos) == [ip("93.184.215.14"), ip("fe80::1")]


FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel>
<item><link>https://news.example.com/a/</link>
<pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate></item>
<item><guid>urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66</guid></item>
<item><link>http://news.example.com:99999/x/</link></item>
<item><link>http://[bad/</link></item>
<item><link>https://news.example.com/b/</link>
<pubDate>Mon, 06 May 99999 10:00:00 GMT</pubDate></item>
<item><link>https://news.example.com/c/</link><pubDate>0001-01-01T00:00:00+14:00</pubDate></item>
<item><link>file:///etc/passwd</link></item>
</channel></rss>"""


def test_bad_feed_entries_are_skipped_and_listed_the_rest_is_used() -> None:
    found = parse_feed_or_sitemap(FEED, "https://news.example.com/feed.xml")
    assert found.links == [
        "https://news.example.com/a/",
        "https://news.example.com/b/",
        "https://news.example.com/c/",
    ]
    assert list(found.dates) == ["https://news.example.com/a/"]
    assert len(found.bad_entries) == 6
    assert any("urn:uuid" in why for why in found.bad_entries)


def test_a_sitemap_index_loc_to_a_local_file_is_skipped() -> None:
    body = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>file://localhost/etc/passwd</loc></sitemap>"
        b"<sitemap><loc>/sitemap-2.xml</loc></sitemap></sitemapindex>"
    )
    found = parse_feed_or_sitemap(body, "https://news.example.com/sitemap.xml")
    assert found.sitemaps == ["https://news.example.com/sitemap-2.xml"]
    assert len(found.bad_entries) == 1


def test_a_page_is_cut_after_the_link_limit() -> None:
    page = b"<html><body>" + b'<a href="/x">x</a>' * 100 + b"</body></html>"
    cut, was_cut = cut_after_links(page, 10)
    assert was_cut and cut.count(b"<a ") == 10
    assert cut_after_links(page, 100) == (page, False)


def test_header_bytes_counts_names_and_values() -> None:
    assert header_bytes({b"X-A": [b"12345"], b"X-B": [b"1", b"2"]}) == (3 + 5 + 4) + 2 * (3 + 1 + 4)
