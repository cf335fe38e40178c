"""Golden pages: every metadata rule of crawler.extraction on a stored page (see tests/golden)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from storage.records import PageState
from tests.golden.regenerate import GOLDEN, as_json, load_cases, run_case


@pytest.mark.parametrize("name", sorted(load_cases()))
def test_golden_page_gives_its_expected_extraction(name: str) -> None:
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    assert as_json(run_case(name)) == expected


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("title_site_suffix", "Storm closes northern pier"),
        ("title_site_prefix", "Storm closes northern pier for two days"),
        ("title_section_and_site", "The pier was never safe"),
    ],
)
def test_title_is_the_headline_without_site_name_or_section(name: str, title: str) -> None:
    assert run_case(name).title == title


def test_byline_is_split_into_names_without_by_and_roles() -> None:
    assert run_case("authors_byline_multi").authors == ("Jane Doe", "John Smith", "Ana Lima")


def test_json_ld_author_list_keeps_persons_not_outlet_or_email() -> None:
    assert run_case("authors_jsonld_list").authors == ("Maria Garcia", "Tom Lee")


def test_meta_author_with_and_gives_two_names_in_name_case() -> None:
    assert run_case("authors_meta_and").authors == ("Jane Doe", "John Roe")


def test_json_ld_dates_keep_page_offset_and_are_stored_in_utc() -> None:
    result = run_case("dates_timezone_plus_0530")
    assert result.published is not None and result.modified is not None
    assert result.published.value == datetime(2024, 3, 5, 4, 0, tzinfo=UTC)
    assert (result.published.source, result.published.tz_offset_minutes) == ("json-ld", 330)
    assert result.modified.value == datetime(2024, 3, 5, 12, 30, tzinfo=UTC)


def test_meta_dates_with_negative_offset() -> None:
    result = run_case("dates_meta_minus_0400")
    assert result.published is not None and result.modified is not None
    assert result.published.value == datetime(2024, 3, 5, 12, 15, tzinfo=UTC)
    assert (result.published.source, result.published.tz_offset_minutes) == ("meta", -240)
    assert result.modified.value == datetime(2024, 3, 6, 14, 0, tzinfo=UTC)


def test_future_date_is_rejected_and_url_date_used() -> None:
    result = run_case("date_future_rejected")
    assert result.published is not None
    assert (result.published.value, result.published.source) == (
        datetime(2024, 5, 30, tzinfo=UTC),
        "url",
    )
    assert "json-ld:2031-01-01" in result.extra["rejected_dates"]


def test_pre_1990_date_is_rejected_and_time_element_used() -> None:
    result = run_case("date_pre1990_rejected")
    assert result.published is not None
    assert result.published.value == datetime(2024, 4, 2, 5, 45, tzinfo=UTC)
    assert result.published.source == "html"


def test_date_only_in_url() -> None:
    result = run_case("date_only_in_url")
    assert result.published is not None
    assert (result.published.value, result.published.source) == (
        datetime(2023, 11, 7, tzinfo=UTC),
        "url",
    )


def test_feed_date_is_the_fallback_when_the_page_has_none() -> None:
    result = run_case("date_feed_hint")
    assert result.published is not None
    assert (result.published.value, result.published.source) == (
        datetime(2024, 2, 2, 10, 0, tzinfo=UTC),
        "feed",
    )


@pytest.mark.parametrize("name", ["paywall_jsonld", "paywall_teaser_markers"])
def test_paywall_teaser_is_paywalled_and_archived_on_its_visible_lead(name: str) -> None:
    result = run_case(name)
    assert result.state == PageState.PAYWALLED
    assert result.text and "harbour authority" in result.text
    assert result.has_body


def test_declared_paywall_with_full_text_served_is_an_article() -> None:
    assert run_case("paywall_declared_full_text_served").state == PageState.ARTICLE


@pytest.mark.parametrize("name", ["blocked_cloudflare", "blocked_status_403"])
def test_challenge_and_forbidden_pages_are_blocked_without_text(name: str) -> None:
    result = run_case(name)
    assert result.state == PageState.BLOCKED
    assert result.text is None


@pytest.mark.parametrize("name", ["listing_page", "demo_ledger_listing", "demo_courier_listing"])
def test_listing_pages_are_not_articles(name: str) -> None:
    assert run_case(name).state == PageState.NOT_ARTICLE


def test_cp1252_bytes_declared_utf8_are_decoded_as_cp1252() -> None:
    result = run_case("charset_cp1252_declared_utf8")
    # Curly quotes are cp1252 bytes 0x91-0x94: decoding as Latin-1 would turn them into C1 controls.
    assert result.title == "Café owners\u2019 fury as \u201ctemporary\u201d pier closure drags on"
    assert result.authors == ("José Müller",)
    quote = "\u201cIt\u2019s a disaster for the café,\u201d said Renée Dupré"
    assert result.text and quote in result.text


def test_undeclared_latin1_is_detected() -> None:
    result = run_case("charset_latin1_undeclared")
    assert result.title == "Müller verlässt den Hafen"
    assert result.language == "de"


@pytest.mark.parametrize(
    ("name", "error"),
    [("binary_junk", "binary content, not HTML"), ("empty_body", "empty body")],
)
def test_junk_input_is_an_error_with_a_reason(name: str, error: str) -> None:
    result = run_case(name)
    assert (result.state, result.error) == (PageState.ERROR, error)


@pytest.mark.parametrize("site", ["ledger", "courier"])
def test_demo_article_metadata_matches_the_demo_sites_ground_truth(site: str) -> None:
    from crawler.demo_site import make_sites
    from tests.golden.regenerate import DEMO_BASE_URL

    sites = {s.key: s for s in make_sites(categories=2, articles_per_category=4)}
    sites[site].set_base_url(DEMO_BASE_URL)
    truth = sites[site].articles()[0]
    result = run_case(f"demo_{site}_article")
    assert result.state == PageState.ARTICLE
    assert (result.title, result.authors) == (truth.title, truth.authors)
    assert result.published is not None and result.published.value == truth.published
    assert result.canonical_url == truth.url
    assert result.text and truth.paragraphs[0] in result.text
