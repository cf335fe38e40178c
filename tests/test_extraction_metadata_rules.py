"""Metadata rules of round 2, one golden page per kind of failure seen on real sites."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.extraction import extract
from crawler.extraction.authors import person_names
from storage.records import PageState
from tests.golden.regenerate import run_case


def test_agency_byline_is_kept_and_dateline_and_related_byline_are_not() -> None:
    assert run_case("authors_agency_byline").authors == ("The Associated Press",)


def test_text_byline_of_several_beats_a_json_ld_naming_only_the_first() -> None:
    assert run_case("authors_text_byline_several").authors == ("Jane Doe", "John Smith", "Ana Lima")


def test_json_ld_people_and_agency_in_order_without_the_site_itself() -> None:
    assert run_case("authors_jsonld_people_and_agency").authors == (
        "Anna Berg",
        "Jonas Weber",
        "dpa",
    )


def test_desk_credit_is_an_author() -> None:
    assert run_case("authors_desk_credit").authors == ("Redaktion Hafenblatt Online",)


def test_title_is_the_article_h1_and_seo_title_the_metadata_title() -> None:
    result = run_case("title_h1_beside_seo_title")
    assert result.title == (
        "Storm damage: Northern pier closed for weeks as engineers inspect the storm damage"
    )
    assert result.seo_title == "Pier closed after storm: what we know"


def test_kicker_set_as_its_own_element_is_not_part_of_the_headline() -> None:
    result = run_case("title_kicker_element")
    assert result.title == "Der Nordpier bleibt wochenlang gesperrt"
    assert result.seo_title == "Sturmschäden: Der Nordpier bleibt wochenlang gesperrt"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        # a masthead h1 holding the logo, a hidden h1 and a section label's h1 are not it
        ("title_section_label_and_logo_h1", "Der Nordpier bleibt wochenlang gesperrt"),
        # a <title> of whitespace is no title to compare the h1 with
        ("title_blank_head_title", "Northern pier stays closed for weeks"),
        # a kicker marked as a "toptitle" is left out, whatever its length
        ("title_toptitle_kicker", "Der Nordpier bleibt wochenlang gesperrt"),
        # the site's short name inside a headline ("Frauen im THW: ...") is not an affix
        ("title_site_name_inside_headline", "Frauen im THW: Vergangenheit, Gegenwart und Zukunft"),
        # an h1 split into parts in Japanese reads without added spaces; its main part stays
        ("title_parts_without_spaces", "北埠頭を数週間閉鎖：嵐の被害を調査（1/2 ページ）"),  # noqa: RUF001
    ],
)
def test_title_is_the_headline_a_reader_sees(name: str, title: str) -> None:
    assert run_case(name).title == title


@pytest.mark.parametrize(
    ("h1_class", "kept"),
    [
        ("d-none d-md-block", True),  # Bootstrap: hidden on phones, shown from md on
        ("hidden md:block", True),  # Tailwind, the same
        ("md:hidden", True),  # shown on phones
        ("desktop-title", True),  # not a "top title" kicker class
        ("d-none", False),
        ("hidden", False),
    ],
)
def test_an_h1_hidden_only_at_some_widths_is_still_the_headline(h1_class: str, kept: bool) -> None:
    story = " ".join(["The harbour authority closed the northern pier after the storm."] * 12)
    page = (
        "<html><head><title>Pier closed | Harbour Times</title>"
        '<meta property="og:title" content="Pier closed"></head><body><main><article>'
        f'<h1 class="{h1_class}">Northern pier closed for weeks after the storm</h1>'
        f"<p>{story}</p></article></main></body></html>"
    )
    fetched = datetime(2024, 6, 1, tzinfo=UTC)
    result = extract(page.encode(), "https://harbourtimes.example/a", fetched)
    headline = "Northern pier closed for weeks after the storm"
    assert (result.title == headline) is kept
    assert result.seo_title == "Pier closed"


def test_a_video_page_that_tells_the_story_is_an_article_and_a_captioned_video_is_not() -> None:
    assert run_case("state_video_page_with_story").state == PageState.ARTICLE
    captioned = run_case("state_video_page_caption_only")
    assert captioned.state == PageState.NOT_ARTICLE
    assert captioned.extra["state_reason"].startswith("JSON-LD VideoObject")


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("dates_day_first_by_language", datetime(2024, 1, 6, 10, 30, tzinfo=UTC)),
        ("dates_month_first_by_language", datetime(2024, 6, 1, 10, 30, tzinfo=UTC)),
        ("dates_day_first_by_other_dates", datetime(2024, 1, 6, 10, 30, tzinfo=UTC)),
    ],
)
def test_numeric_date_order_follows_the_other_dates_then_the_language(
    name: str, day: datetime
) -> None:
    published = run_case(name).published
    assert published is not None and published.value == day


def test_short_article_in_any_language_is_still_an_article() -> None:
    result = run_case("state_short_korean_article")
    assert result.state == PageState.ARTICLE and result.has_body
    assert result.language == "ko"


def test_day_the_page_prints_picks_among_disagreeing_metadata_dates() -> None:
    published = run_case("dates_shown_day_picks_metadata").published
    assert published is not None
    assert published.value == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    assert published.source == "meta"


def test_date_in_the_url_beats_a_teasers_time_element() -> None:
    published = run_case("dates_url_beats_teaser_time").published
    assert published is not None and (published.value, published.source) == (
        datetime(2024, 3, 5, tzinfo=UTC),
        "url",
    )


def test_date_element_written_in_words_is_read() -> None:
    published = run_case("dates_time_element_in_words").published
    assert published is not None and (published.value, published.source) == (
        datetime(2024, 3, 7, tzinfo=UTC),
        "html",
    )


def test_role_only_byline_is_kept_when_nobody_else_is_credited_but_a_cms_account_is_not() -> None:
    assert run_case("authors_role_only_credit").authors == ("Staff Writer",)
    assert run_case("authors_cms_account_only").authors == ()


def test_one_word_json_ld_person_is_completed_from_its_own_description() -> None:
    assert run_case("authors_first_name_completed_from_profile").authors == ("Jonas Weber",)


def test_by_line_beats_a_byline_box_that_runs_the_outlet_into_the_name() -> None:
    assert run_case("authors_lead_in_beats_glued_outlet").authors == ("Jane Roe",)


def test_lower_case_conjunction_joins_names_and_a_capital_initial_does_not() -> None:
    assert run_case("authors_lowercase_conjunction").authors == (
        "Ana Lima",
        "Rocío Soto",
        "José Miguel Ruiz",
    )
    assert person_names("By Bruce Y Lee and Anna E Berg") == ["Bruce Y Lee", "Anna E Berg"]
    assert person_names("Marie Dupont et Jean Martin") == ["Marie Dupont", "Jean Martin"]


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("dates_slug_ends_in_day", datetime(2016, 10, 13, tzinfo=UTC)),
        ("dates_printed_numeric_in_page_order", datetime(2016, 10, 4, tzinfo=UTC)),
    ],
)
def test_url_slug_day_and_printed_numeric_date_in_the_pages_order(name: str, day: datetime) -> None:
    published = run_case(name).published
    assert published is not None and published.value == day


def test_meta_tags_written_with_value_instead_of_content_are_read() -> None:
    result = run_case("meta_value_attribute")
    assert (result.title, result.authors) == ("Storm closes northern pier", ("Jane Roe",))
    assert result.published is not None and result.published.source == "meta"
    assert result.published.value == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)


def test_link_to_an_author_page_names_the_author_and_a_sidebar_one_does_not() -> None:
    assert run_case("authors_author_page_link").authors == ("Jane Roe",)


def test_confirmed_byline_beats_a_site_wide_meta_author() -> None:
    assert run_case("authors_byline_beats_sitewide_meta").authors == ("Jane Roe",)


@pytest.mark.parametrize(
    ("name", "value", "source"),
    [
        # A bare "date" meta (often the last change) comes after the article's own <time>.
        ("dates_generic_meta_after_article_time", datetime(2024, 3, 5, 7, tzinfo=UTC), "html"),
        # A <time> in the article that prints "04.03.2024, 12:01 Uhr" and has no datetime.
        ("dates_article_time_without_datetime", datetime(2024, 3, 4, tzinfo=UTC), "html"),
        # "4. 3. 2024": dots with a space are day-first.
        ("dates_spaced_day_first", datetime(2024, 3, 4, tzinfo=UTC), "text"),
        # 2024年03月05日 by the headline; the site logo's <h1> is not the headline.
        ("dates_cjk_printed_by_headline", datetime(2024, 3, 5, tzinfo=UTC), "text"),
    ],
)
def test_date_the_article_prints_beats_generic_and_page_wide_dates(
    name: str, value: datetime, source: str
) -> None:
    published = run_case(name).published
    assert published is not None and (published.value, published.source) == (value, source)


def test_day_printed_by_the_headline_tells_the_articles_time_from_a_teasers() -> None:
    published = run_case("dates_printed_day_beats_teaser_time").published
    assert published is not None
    assert published.value == datetime(2024, 3, 5, 19, 18, 46, tzinfo=UTC)


def test_bare_published_day_on_the_update_day_is_the_updates_stamp() -> None:
    published = run_case("dates_bare_day_on_update_day").published
    assert published is not None and published.source == "json-ld"
    assert published.value == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_bare_day_is_not_moved_into_a_zone_by_a_printed_neighbour_day() -> None:
    published = run_case("dates_bare_day_keeps_its_day").published
    assert published is not None and published.value == datetime(2024, 3, 5, tzinfo=UTC)
    assert published.tz_offset_minutes is None


def test_byline_under_a_body_class_is_read_and_photo_and_quote_credits_are_not() -> None:
    # <body class="... f_comment_links_on ..."> once hid every byline as a comment.
    assert run_case("authors_body_class_and_photo_credit").authors == ("Mara Lind",)


def test_related_storys_byline_loses_to_the_by_line_its_author_link_confirms() -> None:
    assert run_case("authors_related_byline_before_article").authors == ("Kathy Ward",)


def test_outlet_on_the_byline_box_yields_to_the_writer_credited_in_the_text() -> None:
    # The handle and the photographer beside the name are no authors either.
    assert run_case("authors_outlet_byline_then_written_by").authors == ("Julie Moss",)


def test_roles_and_affiliations_after_each_name_are_not_authors() -> None:
    assert run_case("authors_roles_and_affiliations").authors == ("Sara Hill", "Sylvie Tores")
    assert person_names("Grant Tinsley, PhD") == ["Grant Tinsley"]
    assert person_names("Cécile Roux (Brussels bureau)") == ["Cécile Roux"]
    assert person_names("Analysis by Chris Cole, CNN Editor-at-large") == ["Chris Cole"]


def test_site_wide_meta_author_beside_json_ld_people_is_dropped() -> None:
    # ... and a one-word JSON-LD name is completed from the byline.
    assert run_case("authors_sitewide_meta_beside_jsonld").authors == ("Todd Baker", "Nina Alvarez")


def test_organisation_only_json_ld_yields_to_a_german_lead_in_byline() -> None:
    result = run_case("authors_org_only_jsonld_and_german_lead_in")
    assert result.authors == ("Pamela Sturm", "Jonas Weber")


def test_interview_credits_both_sides_and_a_no_author_placeholder_nobody() -> None:
    assert run_case("authors_interview_pair").authors == ("Richard Precht", "Karin Fischer")
    assert run_case("authors_no_author_placeholder").authors == ()


def test_sites_own_desk_beside_a_person_is_the_persons_role() -> None:
    assert run_case("authors_own_desk_beside_person").authors == ("Eric Song",)
    # Alone, a desk credit is still the page's credit.
    assert run_case("authors_desk_credit").authors == ("Redaktion Hafenblatt Online",)


def test_place_after_the_outlet_on_a_byline_is_no_author() -> None:
    assert run_case("authors_place_after_outlet").authors == ("Nadia Torres",)


def test_site_domain_and_address_in_the_author_meta_credit_nobody() -> None:
    assert run_case("authors_site_address_meta").authors == ()


def test_rel_author_links_in_an_aside_column_name_every_author() -> None:
    assert run_case("authors_rel_author_in_aside").authors == ("Julia Wong", "Sam Levy")


def test_author_link_around_a_portrait_and_its_credit_names_the_author() -> None:
    assert run_case("authors_link_with_portrait_credit").authors == ("Karla Fuhr",)


def test_one_byline_box_per_author_names_all_beside_a_json_ld_naming_the_first() -> None:
    assert run_case("authors_one_box_per_author").authors == ("Anna Berg", "Jonas Weber")


def test_account_name_and_rights_notice_credit_nobody() -> None:
    assert run_case("authors_account_and_rights_notice").authors == ()
    assert person_names("Copyright Example Media GmbH") == []


def test_co_authors_in_parentheses_are_credited_and_other_asides_are_not() -> None:
    result = run_case("authors_coauthors_in_parentheses")
    assert result.authors == ("Jeanne Roux", "Paul Marin", "Léa Petit")
    assert person_names("Jeanne Roux (Paris bureau)") == ["Jeanne Roux"]


@pytest.mark.parametrize(
    "name", ["dates_masthead_h1_over_todays_date", "dates_home_link_h1_over_todays_date"]
)
def test_a_masthead_h1_over_todays_date_is_not_the_headline_that_dates_the_page(
    name: str,
) -> None:
    """The site's name in an <h1> (marked as a masthead, or a link to the front page) with
    the day's date under it (the fetch day): the day printed by the article's own headline
    decides, not a teaser's <time> on the fetch day."""
    published = run_case(name).published
    assert published is not None
    assert published.value == datetime(2024, 3, 5, 19, 18, 46, tzinfo=UTC)


_DATE_PATHS = {
    "published": [
        ".//body//*[@itemprop='datePublished' or @itemprop='published']",
        ".//body//time[@pubdate]",
        ".//body//time[contains(@class, 'publish') or contains(../@class, 'publish')]",
        ".//body//article//time[@datetime]",
        ".//body//article//time[not(@datetime)]",
    ],
    "modified": [
        ".//body//*[@itemprop='dateModified']",
        ".//body//time[contains(@class, 'update') or contains(@class, 'modif')]",
    ],
}
_DATED_PAGE = """<html><head><meta itemprop="datePublished" content="2024-01-01"></head><body>
<div class="published-on"><time datetime="2024-01-02">2 Jan</time></div>
<article><header><time pubdate class="updated" datetime="2024-01-03"></time></header>
<section><time>4 January 2024</time><span itemprop="published">2024-01-05</span></section>
<time class="date-modified" datetime="2024-01-06T10:00"></time></article>
<aside><time class="pub lish">7 January</time><p itemprop="dateModified">2024-01-08</p></aside>
</body></html>"""


def test_html_dates_are_what_their_xpaths_find() -> None:
    # HtmlDates finds the dating elements from two walks of the page instead of seven.

    from lxml import etree

    from crawler.extraction.dates import HtmlDates
    from crawler.extraction.parsing import parse_html
    from tests.conftest import dev_page_files, dev_page_text

    pages = [dev_page_text(f) for f in dev_page_files("article-metadata")[::3]]
    for text in [_DATED_PAGE, *pages]:
        tree = parse_html(text)
        assert tree is not None
        found = HtmlDates(tree)
        for kind, paths in _DATE_PATHS.items():
            expected = [
                el.get("datetime") or el.get("content") or el.text_content()
                for path in paths
                for el in etree.XPath(path)(tree)
            ]
            assert getattr(found, kind)() == expected, kind


_TEXTS_PAGE = """<html><body><header>menu<nav><a>one</a> <a>two</a><script>x()</script>after
script<style>p{}</style><ul><li>three<b>bold</b>tail</li><li></li></ul></nav>nav tail</header>
<div>date line 1 May 2024<span>by</span></div><h1>The headline</h1><p>text</p></body></html>"""


def test_texts_before_the_headline_are_the_last_of_the_text_nodes() -> None:
    # The texts before the headline are read from the end of each preceding subtree, not
    # all of its text nodes first: the same last texts, on every element of the pages.

    from crawler.extraction.dates import _last_subtree_texts, _subtree_texts, _texts_before
    from crawler.extraction.parsing import parse_html
    from tests.conftest import dev_page_files, dev_page_text

    pages = [dev_page_text(f) for f in dev_page_files("article-metadata")[::5]]
    for text in [_TEXTS_PAGE, *pages]:
        tree = parse_html(text)
        assert tree is not None
        for el in tree.iter():
            every = _subtree_texts(el)[::-1]
            for limit in (1, 3, 12):
                assert _last_subtree_texts(el, limit) == every[:limit]
    tree = parse_html(_TEXTS_PAGE)
    assert tree is not None
    h1 = next(tree.iter("h1"))
    # The last eight text nodes before the h1, in document order, without script and style.
    assert _texts_before(h1, 8) == [
        "after\nscript", "three", "bold", "tail", "nav tail", "\n", "date line 1 May 2024", "by"
    ]  # fmt: skip


_H1_PAGE = """<html><body><header><h1><a href="/">Site</a></h1><nav><h1>Menu</h1></nav></header>
<main><article><h1 class="headline">The headline</h1><aside><div><h1>Aside</h1></div></aside>
</article></main><footer><h1>Footer</h1></footer><h1>Last</h1></body></html>"""


def test_page_h1s_are_what_their_xpath_finds() -> None:
    # titles._page_h1s walks the page once for what this XPath finds in two walks.

    from lxml import etree

    from crawler.extraction.parsing import parse_html
    from crawler.extraction.titles import _page_h1s
    from tests.conftest import dev_page_files, dev_page_text

    xpath = etree.XPath("//body//h1[not(ancestor::*[self::nav or self::footer or self::aside])]")
    pages = [dev_page_text(f) for f in dev_page_files("article-metadata")[::3]]
    for text in [_H1_PAGE, *pages]:
        tree = parse_html(text)
        assert tree is not None
        for el in [tree, *tree.iter("h1", "article")]:  # the path is absolute: from any element
            assert _page_h1s(el) == xpath(el)
    tree = parse_html(_H1_PAGE)
    assert tree is not None
    assert [h1.text_content() for h1 in _page_h1s(tree)] == ["Site", "The headline", "Last"]
