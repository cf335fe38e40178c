"""Canonical URL rules: every variant of an article URL files it under one canonical URL."""

from __future__ import annotations

import pytest

from storage.urls import (
    TRACKING_PARAMS,
    canonicalize,
    choose_canonical,
    host_of,
    is_amp_url,
    same_site,
)

ARTICLE = "https://www.example.com/2024/05/14/water-plan/"

# ~30 URLs of the kinds a news crawl meets, including awkward ones.
VARIED_URLS = [
    ARTICLE,
    "HTTPS://WWW.Example.COM/2024/05/14/water-plan/",
    "https://www.example.com:443/2024/05/14/water-plan/?utm_source=tw&utm_medium=social",
    "http://www.example.com:80/index.php?p=5",
    "http://www.example.com:8080/index.php?p=5&b=2",
    "https://example.com",
    "https://example.com/",
    "https://example.com/?",
    "https://example.com/a?b=2&a=1&a=0",
    "https://example.com/a?fbclid=IwAR0abc#comments",
    "https://example.com/caf\u00e9/na\u00efve?q=cr\u00e8me",
    "https://example.com/%7euser/%e2%82%ac",
    "https://example.com/a/./b/../c",
    "https://example.com/search?q=a+b&q=c%20d",
    "https://example.com/a?x=&y=1",
    "https://example.com/a?%75tm_campaign=spring&id=123",
    "https://example.com/a?UTM_SOURCE=x&Id=7",
    "https://example.com/a?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5",
    "https://example.com/a?_ga=2.1&ref=home&ref_src=twsrc&igshid=x&yclid=9",
    "https://example.com/a?cmpid=rss&ocid=msn&at_medium=feed&at_campaign=x",
    "https://amp.example.com/2024/05/14/water-plan/amp/",
    "https://www.example.com/2024/05/14/water-plan/?amp=1",
    "https://www.example.com/story.amp",
    "https://www.example.com/story?outputType=amp",
    "http://127.0.0.1:8765/news/story-1.html?utm_source=x",
    "http://[::1]:8765/news/",
    "https://xn--bcher-kva.example/b\u00fccher",
    "https://example.co.uk/news/uk-123456",
    "https://example.com/a;jsessionid=1?b=1",
    "  https://example.com/padded  ",
    "https://user@example.com/private",
]


@pytest.mark.parametrize(
    ("fetched", "declared"),
    [
        ("https://www.example.com/2024/05/14/water-plan/?utm_source=mail&utm_medium=email", None),
        ("https://www.example.com/2024/05/14/water-plan/?fbclid=IwAR2xyz", None),
        ("https://www.example.com/2024/05/14/water-plan/#comments", None),
        ("https://WWW.EXAMPLE.COM/2024/05/14/water-plan/", None),
        ("https://amp.example.com/2024/05/14/water-plan/amp/?utm_source=google", ARTICLE),
    ],
)
def test_url_variants_share_one_canonical_url(fetched: str, declared: str | None) -> None:
    assert choose_canonical(fetched, declared) == ARTICLE


def test_amp_page_without_declared_canonical_keeps_its_own_url() -> None:
    amp = "https://amp.example.com/2024/05/14/water-plan/amp/"
    assert is_amp_url(amp)
    assert choose_canonical(amp, None) == amp


def test_declared_canonical_may_be_relative() -> None:
    amp = "https://www.example.com/2024/05/14/water-plan/amp/"
    assert choose_canonical(amp, "../") == ARTICLE


def test_declared_canonical_on_another_site_is_ignored() -> None:
    fetched = "https://www.example.com/2024/05/14/water-plan/?utm_source=x"
    assert choose_canonical(fetched, "https://aggregator.example.net/story/991") == ARTICLE


def test_declared_canonical_on_another_loopback_port_is_ignored() -> None:
    fetched = "http://127.0.0.1:8001/news/a.html"
    assert choose_canonical(fetched, "http://127.0.0.1:8002/news/b.html") == fetched
    assert choose_canonical(fetched, "/news/b.html") == "http://127.0.0.1:8001/news/b.html"


@pytest.mark.parametrize("declared", [None, "", "   ", "mailto:desk@example.com", "https://"])
def test_missing_or_unusable_declared_canonical_falls_back_to_fetched(
    declared: str | None,
) -> None:
    assert choose_canonical(ARTICLE + "?utm_source=x", declared) == ARTICLE


def test_declared_home_page_canonical_is_ignored_for_an_article() -> None:
    # A CMS template bug: every page declares the home page; articles must stay apart.
    assert choose_canonical(ARTICLE, "https://www.example.com/") == ARTICLE


def test_query_order_does_not_matter() -> None:
    assert canonicalize("https://example.com/list?b=2&a=1&c=3") == canonicalize(
        "https://example.com/list?c=3&a=1&b=2"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/?p=5&utm_source=x", "https://example.com/?p=5"),
        ("https://example.com/article?id=123&fbclid=abc", "https://example.com/article?id=123"),
        ("https://example.com/list?page=2&sort=new", "https://example.com/list?page=2&sort=new"),
    ],
)
def test_non_tracking_parameters_are_kept(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


def test_tracking_parameters_are_removed_in_any_case_or_encoding() -> None:
    url = "https://example.com/a?%75tm_campaign=x&UTM_Source=y&Gclid=1&id=9"
    assert canonicalize(url) == "https://example.com/a?id=9"
    assert {"fbclid", "gclid", "ref", "_ga", "mc_cid"} <= TRACKING_PARAMS


def test_scheme_host_default_port_and_empty_query_are_normalised() -> None:
    assert canonicalize("HTTPS://Example.COM:443") == "https://example.com/"
    assert canonicalize("https://example.com/?") == "https://example.com/"
    assert canonicalize("http://example.com:80/a?") == "http://example.com/a"
    assert canonicalize("http://example.com:8080/a") == "http://example.com:8080/a"


def test_bare_host_and_root_slash_are_the_same_but_other_trailing_slashes_are_kept() -> None:
    assert canonicalize("https://example.com") == canonicalize("https://example.com/")
    assert canonicalize("https://example.com/story") != canonicalize("https://example.com/story/")


def test_path_percent_encoding_is_normalised() -> None:
    assert canonicalize("https://example.com/caf\u00e9") == "https://example.com/caf%C3%A9"
    assert canonicalize("https://example.com/caf%c3%a9") == "https://example.com/caf%C3%A9"


@pytest.mark.parametrize("url", VARIED_URLS)
def test_canonicalize_is_idempotent(url: str) -> None:
    once = canonicalize(url)
    assert canonicalize(once) == once


@pytest.mark.parametrize("url", ["", "/relative/path", "example.com/a", "ftp://example.com/f"])
def test_non_absolute_http_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        canonicalize(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/2024/05/14/water-plan/amp/",
        "https://www.example.com/amp/2024/05/14/water-plan/",
        "https://www.example.com/2024/05/14/water-plan/?amp=1",
        "https://www.example.com/2024/05/14/water-plan/?amp",
        "https://amp.example.com/2024/05/14/water-plan/",
        "https://www.example.com/2024/05/14/water-plan.amp",
        "https://www.example.com/2024/05/14/water-plan.amp.html",
        "https://www.example.com/story?outputType=amp",
        "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/story",
    ],
)
def test_amp_urls_are_recognised(url: str) -> None:
    assert is_amp_url(url)


@pytest.mark.parametrize(
    "url",
    [
        ARTICLE,
        "https://www.example.com/2024/05/14/amplifier-review/",
        "https://www.example.com/champions/",
        "https://example.com/a?amp=0",
        "https://camp.example.com/a",
    ],
)
def test_normal_urls_are_not_amp(url: str) -> None:
    assert not is_amp_url(url)


def test_same_site_groups_subdomains_of_one_registered_domain() -> None:
    assert same_site("https://www.example.com/a", "https://amp.example.com/b")
    assert same_site("https://example.com/a", "http://news.example.com:8080/b")
    assert same_site("https://www.bbc.co.uk/a", "https://bbc.co.uk/b")
    assert not same_site("https://example.com/a", "https://example.org/a")
    assert not same_site("https://foo.co.uk/a", "https://bar.co.uk/a")


def test_loopback_hosts_compare_by_host_and_port() -> None:
    assert same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/b")
    assert not same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a")
    assert not same_site("http://localhost:8001/a", "http://127.0.0.1:8001/a")


def test_host_of_is_lower_case_with_non_default_port() -> None:
    assert host_of("HTTPS://News.Example.COM:443/a") == "news.example.com"
    assert host_of("http://127.0.0.1:8001/a") == "127.0.0.1:8001"
    assert host_of("http://[::1]:8001/a") == "[::1]:8001"
