"""Text fingerprints: what counts as an edit, near-duplicate simhash, and diff sizes."""

from __future__ import annotations

import random
import time

import pytest

from storage.fingerprints import (
    bands,
    content_hash,
    from_signed64,
    hamming,
    normalize_text,
    simhash,
    simhash_body,
    to_signed64,
)
from storage.textdiff import diff_size

WATER_ARTICLE = """\
The regional water authority announced on Tuesday that it will spend 1.2 billion dollars over \
the next decade to replace ageing pipes across the northern valley, after a summer in which \
leaks and burst mains left thousands of households without running water for days at a time.

Officials said the programme, the largest infrastructure investment in the authority's history, \
would begin in the spring with the oldest cast-iron mains beneath the city centre, some of \
which were laid more than a century ago. Crews will then move outward to the suburbs and \
farming districts, where many connections still rely on pipes installed in the 1950s.

"We have been patching a system that needs to be rebuilt," the authority's chief executive, \
Margaret Holloway, told reporters at a briefing in the council chamber. "Every summer the \
demand rises, the pressure rises, and the weakest joints give way. This plan finally lets us \
get ahead of the failures instead of chasing them."

The authority estimates that nearly a quarter of the water it treats is lost before it reaches \
a tap. Engineers blame corrosion, shifting clay soils and a surge in construction traffic that \
has cracked shallow pipes under several arterial roads. During the July heatwave, more than \
forty separate breaks were reported in a single week, and hospitals in two towns had to rely on \
tanker deliveries.

Consumer groups welcomed the announcement but warned that the cost would eventually land on \
household bills. Under the proposal, the average annual charge would rise by about six percent \
in each of the next three years, before levelling off once the first phase is complete. The \
authority said low-income customers would be protected by an expanded discount scheme and that \
payment plans would be offered to anyone struggling to keep up.

Farmers' representatives were more cautious. They said irrigation contracts signed last year \
already included steep price increases, and they questioned whether rural districts would see \
improvements quickly enough to matter during the next drought. A spokesman for the regional \
farmers' union said members wanted binding timelines for each district rather than broad \
promises.

The state environment minister, speaking separately in the capital, said the government would \
contribute a share of the funding through its climate resilience fund, provided the authority \
published quarterly progress reports and independent audits of leakage rates. Opposition \
lawmakers called for a parliamentary inquiry into why maintenance budgets had been cut \
repeatedly over the past fifteen years.

Independent analysts noted that similar replacement schemes in other countries had run over \
budget and behind schedule, often because contractors discovered unmapped pipes and unexpected \
ground conditions once digging began. They recommended that the authority invest early in \
detailed surveys and digital mapping of the network.

Residents interviewed in the old town, where roads will be closed in stages during the work, \
said they expected months of disruption but accepted that the repairs were overdue. One shop \
owner said she had lost a week of trade in August when a main burst outside her door and \
flooded the street.

The authority will hold public consultations in each district before the end of the year and \
expects to award the first construction contracts in February.
"""

FOOTBALL_ARTICLE = """\
Kingsford Rovers completed the signing of the Brazilian midfielder Thiago Moreira on deadline \
day, ending a summer of frustration for supporters who had watched the club lose three \
first-team regulars without bringing in a single replacement.

The 24-year-old arrives from Porto for an undisclosed fee, believed to be around eighteen \
million euros with add-ons, and has signed a five-year contract. He completed his medical on \
Thursday morning before travelling to the training ground to meet the coaching staff and his \
new teammates.

Manager Stefan Kowalczyk, who had publicly criticised the board's caution earlier in the week, \
said the deal gave his squad the creativity it had been missing. "Thiago sees passes that other \
players do not see," he said. "He can play between the lines, he can run beyond the striker, \
and he wants the ball when the pressure is highest. That is exactly what we needed."

Rovers have taken only four points from their opening five league matches and were knocked out \
of the cup by second-tier opposition last month. Injuries to both first-choice centre-backs \
have forced Kowalczyk to field teenagers from the youth academy, and the team has conceded \
eleven goals already.

The arrival of Moreira is likely to push the club's wage bill close to the limit set by the \
league's new spending rules, which tie squad costs to a share of revenue. Chief executive Paula \
Renner said the club had been careful to structure the payments so that it would remain \
compliant, and that further departures before the window closes in other countries were \
possible.

Supporters' groups, who organised a protest march before last weekend's home defeat, described \
the signing as a welcome first step but said they still wanted a long-term plan for the stadium \
redevelopment and for ticket prices, which have risen for three consecutive seasons.

Moreira, who scored nine goals and provided twelve assists for Porto last season, could make \
his debut away at Redcliffe United on Saturday if his international clearance is processed in \
time. He has been capped twice by Brazil and was part of the squad that won the South American \
under-20 championship.

Former Rovers captain Ian Fletcher, now a television pundit, said the midfielder would need \
time to adapt to the physical demands of the league. "The talent is obvious, but the winter \
here is a different test," he said. "If the club gives him patience and builds the team around \
him, the fans will love him."

Tickets for Saturday's match sold out within an hour of the announcement.
"""


def wire_copy(text: str, intro: str, credit: str, separator: str = "\n\n") -> str:
    """Another outlet's copy of a wire story: its own intro line and a credit line at the end."""
    paragraphs = text.strip().split("\n\n")
    return separator.join([intro, *paragraphs[1:], credit])


WIRE_INTRO = (
    "NORTHVALE, Oct 14 (Wire Service) - Residents across the northern valley can expect "
    "roadworks for years to come after officials on Tuesday approved the biggest overhaul of "
    "the region's water network in its history."
)
WIRE_CREDIT = (
    "(Reporting by Daniel Okafor in Northvale; additional reporting by Lena Park; "
    "Editing by Susan Marsh and Gareth Jones)"
)


@pytest.mark.parametrize("separator", ["\n\n", "\n"])
def test_wire_copy_with_new_intro_and_credit_line_is_a_near_duplicate(separator: str) -> None:
    # trafilatura's Simhash over the whole text puts this copy 6 bits away (measured).
    copy = wire_copy(WATER_ARTICLE, WIRE_INTRO, WIRE_CREDIT, separator)
    assert len(WATER_ARTICLE.split()) > 400
    assert hamming(simhash(WATER_ARTICLE), simhash(copy)) <= 3


def test_wire_copy_with_byline_copyright_and_house_style_is_a_near_duplicate() -> None:
    copy = wire_copy(WATER_ARTICLE, "By Lena Park\n\n" + WIRE_INTRO, "\u00a9 2024 Wire Service")
    copy = copy.replace(" percent", " per cent").replace("programme", "program")
    assert hamming(simhash(WATER_ARTICLE), simhash(copy)) <= 3


def test_text_without_paragraphs_still_gets_a_simhash() -> None:
    flat = " ".join(WATER_ARTICLE.split())
    assert hamming(simhash(flat), simhash(flat.replace("forty", "fifty"))) <= 3
    assert hamming(simhash(flat), simhash(" ".join(FOOTBALL_ARTICLE.split()))) > 10


def test_typographic_and_whitespace_variants_hash_the_same() -> None:
    plain = content_hash('Water plan "approved" - at last', "It's done.\n\nCosts rise.")
    fancy = content_hash(
        "  Water\u00a0plan \u201capproved\u201d \u2014 at last ",
        "It\u2019s\u200b done.\r\n  Costs   rise.\n",
    )
    assert fancy == plain


def test_one_word_edit_changes_the_hash() -> None:
    edited = WATER_ARTICLE.replace("1.2 billion", "1.4 billion", 1)
    assert content_hash("Water plan", edited) != content_hash("Water plan", WATER_ARTICLE)


def test_case_change_is_an_edit() -> None:
    assert content_hash("Holloway named", None) != content_hash("holloway named", None)


def test_title_and_body_are_hashed_apart() -> None:
    assert content_hash("Water plan", "Approved.") != content_hash("Water plan Approved.", None)
    assert content_hash(None, None) == content_hash("", "")


def test_normalize_text_is_idempotent_and_keeps_case() -> None:
    text = "\ufb01nal \u201cWORD\u201d\u2013 \uff21\n\n\tend\u00ad"
    once = normalize_text(text)
    assert once == 'final "WORD"- A end'
    assert normalize_text(once) == once


def test_unrelated_articles_are_far_apart() -> None:
    assert len(FOOTBALL_ARTICLE.split()) > 400
    assert hamming(simhash(WATER_ARTICLE), simhash(FOOTBALL_ARTICLE)) > 10


def test_simhash_is_unsigned_64_bit_and_survives_a_bigint_column() -> None:
    values = [simhash(WATER_ARTICLE), simhash(FOOTBALL_ARTICLE), 0, 2**63, 2**64 - 1]
    for value in values:
        assert 0 <= value < 2**64
        stored = to_signed64(value)
        assert -(2**63) <= stored < 2**63
        assert from_signed64(stored) == value
    assert to_signed64(2**64 - 1) == -1


@pytest.mark.parametrize("value", [-1, 2**64])
def test_to_signed64_rejects_values_outside_64_bits(value: int) -> None:
    with pytest.raises(ValueError):
        to_signed64(value)


def test_hamming_counts_bits_in_either_view() -> None:
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(to_signed64(2**64 - 1), 0) == 64


def test_hashes_within_distance_three_share_a_band() -> None:
    rnd = random.Random(20240514)
    for _ in range(2000):
        h = rnd.getrandbits(64)
        near = h
        for bit in rnd.sample(range(64), rnd.randint(0, 3)):
            near ^= 1 << bit
        assert hamming(h, near) <= 3
        assert set(enumerate(bands(h))) & set(enumerate(bands(near)))
        assert all(0 <= band < 2**16 for band in bands(near))


def test_bands_split_the_hash_most_significant_first() -> None:
    assert bands(0x0001_0002_0003_0004) == (1, 2, 3, 4)
    assert bands(to_signed64(2**64 - 1)) == (0xFFFF,) * 4


def test_diff_size_counts_characters_of_changed_words() -> None:
    assert diff_size("the quick brown fox", "the slow brown fox") == (4, 5)
    assert diff_size("Costs rise.", "Costs rise. Bills follow.") == (12, 0)
    assert diff_size("A. B removed here. C.", "A. C.") == (0, 13)


def test_diff_size_ignores_typographic_changes() -> None:
    assert diff_size('It\'s "done" - now', "It\u2019s \u201cdone\u201d \u2014  now") == (0, 0)


def test_diff_size_on_a_known_article_edit() -> None:
    edited = WATER_ARTICLE.replace("forty separate breaks", "fifty separate breaks").replace(
        "The authority will hold public consultations",
        "Despite criticism, the authority will hold public consultations",
    )
    # "forty" -> "fifty"; "The" -> "Despite criticism, the"
    assert diff_size(WATER_ARTICLE, edited) == (5 + 7 + 10 + 3, 5 + 3)


def test_diff_size_stays_fast_on_long_and_repetitive_texts() -> None:
    long_article = "\n\n".join([WATER_ARTICLE, FOOTBALL_ARTICLE] * 4)
    assert len(long_article) > 20_000
    edited = long_article.replace("pipes", "mains").replace("Rovers", "United")
    changed = sum(len(w) for w in long_article.split() if "pipes" in w or "Rovers" in w)
    assert changed > 100
    started = time.perf_counter()
    assert diff_size(long_article, edited) == (changed, changed)
    assert diff_size("a b " * 5000, "b a " * 5000)[0] <= 1
    assert time.perf_counter() - started < 2.0


def _trafilatura_simhash(text: str | None) -> int:
    from trafilatura.deduplication import Simhash

    return int(Simhash(simhash_body(text), length=64).hash)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "...",
        "a b c",
        "Short words only: a an the of to in on at by it is.",
        "中国的经济增长在第三季度放缓。政府表示将采取更多措施。",
        "数字\u3002第二段落\u3002" * 30,
        "Ünïcödé wörds, ÇA VA, naïve café résumé\u00a0façade " * 20,
        WATER_ARTICLE,
        FOOTBALL_ARTICLE,
        "repeat " * 5000 + "other words here",
    ],
)
def test_simhash_is_trafilatura_simhash_bit_for_bit(text: str | None) -> None:
    # simhash() counts the bits its own way (faster); the stored values must not change.
    assert simhash(text) == _trafilatura_simhash(text)


def test_simhash_is_trafilatura_simhash_on_real_pages() -> None:
    import gzip

    from tests.conftest import dev_page_files

    pages = dev_page_files("article-extraction-benchmark")
    # Whole pages as text: markup, scripts and all, many more kinds of tokens than articles.
    for path in pages[:60]:
        text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        assert simhash(text) == _trafilatura_simhash(text), path.name
