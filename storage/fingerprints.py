"""Text fingerprints: normalisation, the content hash that decides versions, and simhash.

Normalisation is deliberately conservative, because a changed content hash means a new version
of an article in the archive. What is *not* an edit: Unicode compatibility forms (NFKC: no-break
spaces, full-width letters, ligatures), typographic vs straight quotes and apostrophes, the
various dashes and minus signs, zero-width characters and soft hyphens, and any amount or kind of
whitespace (including re-wrapped paragraphs, which extractors do not reproduce exactly). What
*is* an edit: any change of words, digits, punctuation other than quotes/dashes, or letter case
("Smith" -> "smith" is a correction a researcher wants to see), so case is kept.
"""

from __future__ import annotations

import hashlib
import re
import string
import struct
import unicodedata
from functools import cache, lru_cache

_MASK64 = (1 << 64) - 1
_SIGN64 = 1 << 63
BAND_BITS = 16

# NFKC leaves these alone; they differ between CMS themes and "smart quotes" settings.
_TYPOGRAPHY: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\uff07", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\uff02", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    # zero-width space/joiners, word joiner, BOM, soft hyphen: invisible to a reader
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
}
# One regex scan finds the few such characters; str.translate looks up every character
# of a non-ASCII text in a dict (8x slower on the benchmark's articles).
_TYPOGRAPHIC = re.compile("[" + "".join(map(re.escape, _TYPOGRAPHY)) + "]")

# simhash_body(): edge paragraphs shorter than _SHORT_LINE_WORDS, or credit-like and at most
# _CREDIT_LINE_WORDS long, are bylines/credits; at least _MIN_CORE_PARAGRAPHS must remain.
_SHORT_LINE_WORDS = 15
_CREDIT_LINE_WORDS = 40
_MIN_CORE_PARAGRAPHS = 2
_CREDIT_LINE = re.compile(
    r"\b(?:(?:additional )?reporting|writing|editing) by\b|\bcontributed to this report\b"
    r"|\bcopyright\b|\u00a9|\(c\)|\ball rights reserved\b",
    re.IGNORECASE,
)


def normalize_text(s: str | None) -> str:
    """NFKC, straight quotes, ASCII hyphens, no invisible characters, single spaces; keeps case."""
    if not s:
        return ""
    s = _TYPOGRAPHIC.sub(_typographic_plain, unicodedata.normalize("NFKC", s))
    # str.split() splits at exactly the characters the regex \s matches (str.isspace).
    return " ".join(s.split())


def _typographic_plain(match: re.Match[str]) -> str:
    return _TYPOGRAPHY[match[0]]


def content_hash(title: str | None, text: str | None) -> str:
    """sha256 hex of the normalised title, a blank line, and the normalised body."""
    payload = normalize_text(title) + "\n\n" + normalize_text(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def simhash_body(text: str | None) -> str:
    """The part of an article text that simhash() fingerprints (see simhash)."""
    paragraphs = [line for line in (text or "").splitlines() if line.strip()]
    # Wire copies differ at the edges: each outlet writes its own byline, dateline and intro,
    # and appends credit lines ("Reporting by ...; Editing by ..."). Measured on 300 generated
    # 450-word articles, those edits alone move trafilatura's simhash of the whole text by 0-13
    # bits (median 3-4), so half or more of the copies miss the <= 3 threshold; without the
    # edges they hash alike. Each step stops while enough paragraphs are left to characterise
    # the article.
    while len(paragraphs) > _MIN_CORE_PARAGRAPHS + 1 and _is_edge_line(paragraphs[-1]):
        paragraphs.pop()
    while len(paragraphs) > _MIN_CORE_PARAGRAPHS + 1 and _is_edge_line(paragraphs[0]):
        del paragraphs[0]
    if len(paragraphs) > _MIN_CORE_PARAGRAPHS:
        del paragraphs[0]  # the lede
    # Lower-cased (unlike content_hash): headline case and house style are not what makes
    # two outlets' texts the same story.
    return normalize_text(" ".join(paragraphs)).lower()


def _is_edge_line(paragraph: str) -> bool:
    """A byline, dateline, credit or copyright line rather than article prose."""
    words = len(paragraph.split())
    return words < _SHORT_LINE_WORDS or (
        words <= _CREDIT_LINE_WORDS and _CREDIT_LINE.search(paragraph) is not None
    )


def simhash(text: str | None) -> int:
    """64-bit unsigned Charikar simhash of an article text, for near-duplicate detection.

    trafilatura's Simhash (bag of words, longer words preferred) over simhash_body(text): the
    normalised, lower-cased text without its first paragraph and short trailing lines, when the
    text has paragraphs (newline-separated, as trafilatura extracts them). Bit for bit the
    value of `trafilatura.deduplication.Simhash(simhash_body(text), length=64).hash`, in a
    third of its time (tests/test_fingerprints.py holds them equal on real articles).
    """
    tokens = _sample_tokens(simhash_body(text))
    # Charikar: bit i is set when at least half of the tokens' hashes have bit i set
    # (trafilatura adds +1/-1 per token and bit, and keeps the bits whose sum is >= 0).
    # Each token's hash is spread into 64 fields of 32 bits, one per bit, so one integer
    # addition per token counts all 64 bits at once.
    counts = struct.unpack(
        _FIELDS_FORMAT, sum(map(_spread, tokens)).to_bytes(_FIELDS_BYTES, "little")
    )
    half = len(tokens)
    return sum(1 << i for i, count in enumerate(counts) if 2 * count >= half)


_SIMHASH_BITS = 64
_FIELD_BYTES = 4
_FIELDS_BYTES = _SIMHASH_BITS * _FIELD_BYTES
_FIELDS_FORMAT = f"<{_SIMHASH_BITS}I"
# A byte's 8 bits as 8 little-endian 32-bit fields holding 0 or 1, least significant first.
_BYTE_FIELDS = [
    b"".join((byte >> bit & 1).to_bytes(_FIELD_BYTES, "little") for bit in range(8))
    for byte in range(256)
]
_SAMPLE_MIN_TOKENS = _SIMHASH_BITS // 2


@lru_cache(maxsize=2**14)
def _spread(token: str) -> int:
    """The token's 64-bit hash (trafilatura's: blake2b, 8 bytes, big-endian), one bit per field."""
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    return int.from_bytes(b"".join([_BYTE_FIELDS[byte] for byte in reversed(digest)]), "little")


@cache
def _punctuation_to_spaces() -> dict[int, str]:
    # Built on first use (it scans all of Unicode): only texts without Latin-style tokens.
    return str.maketrans(
        {i: " " for i in range(0x110000) if unicodedata.category(chr(i))[0] == "P"}
    )


def _sample_tokens(text: str) -> list[str]:
    """trafilatura's sample_tokens(text, 64): the words Simhash hashes, longer ones preferred."""
    tokens = [t for token in text.split() if (t := token.strip(string.punctuation)).isalnum()]
    if not tokens:  # punctuation outside ASCII, e.g. Chinese
        tokens = [t for t in text.translate(_punctuation_to_spaces()).split() if t.isalnum()]
    for shortest in range(4, 0, -1):
        sample = [t for t in tokens if len(t) > shortest]
        if len(sample) >= _SAMPLE_MIN_TOKENS:
            return sample
    return tokens


def to_signed64(x: int) -> int:
    """Map an unsigned 64-bit value to the signed range a BIGINT column holds."""
    if not 0 <= x <= _MASK64:
        raise ValueError(f"not an unsigned 64-bit value: {x}")
    return x - (1 << 64) if x & _SIGN64 else x


def from_signed64(x: int) -> int:
    """Inverse of to_signed64: a BIGINT value back to unsigned 64-bit."""
    if not -_SIGN64 <= x < _SIGN64:
        raise ValueError(f"not a signed 64-bit value: {x}")
    return x & _MASK64


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes (signed or unsigned views)."""
    return ((a ^ b) & _MASK64).bit_count()


def bands(h: int) -> tuple[int, int, int, int]:
    """Four 16-bit bands of a 64-bit hash, most significant first.

    Pigeonhole: hashes within Hamming distance 3 differ in at most three bands, so they share
    at least one; the archive looks up candidates by equal band and then checks hamming().
    """
    h &= _MASK64
    mask = (1 << BAND_BITS) - 1
    return (h >> 48 & mask, h >> 32 & mask, h >> 16 & mask, h & mask)
