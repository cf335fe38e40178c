"""Bytes -> text for stored pages whose charset may be missing or wrong."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# A page declared (or guessed) UTF-8 with this small a share of undecodable bytes among its
# non-ASCII characters is UTF-8 with a few stray bytes (a pasted cp1252 snippet, a truncated
# sequence): keep UTF-8 with replacement characters rather than re-decoding the whole page
# as a single-byte charset, which would garble every correct multi-byte character.
_STRAY_BYTES_SHARE = 0.05


_WEB_ENCODINGS = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
    "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r", "koi8_u", "shift_jis",
    "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr", "tis_620", "utf_16",
)  # fmt: skip


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _mostly_utf8(data: bytes) -> str | None:
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii = sum(1 for ch in text if ord(ch) > 127) - bad
    if non_ascii > 0 and bad <= _STRAY_BYTES_SHARE * (non_ascii + bad):
        return text
    return None


def _detected(data: bytes) -> str | None:
    # The beginning and the end are enough for charset_normalizer and keep it fast on big pages.
    sample = data if len(data) < 20_000 else data[:10_000] + data[-10_000:]
    # Only encodings web pages actually use: unrestricted detection picks DOS code pages
    # (cp850, cp437) for Latin-1 text.
    matches = from_bytes(sample, cp_isolation=list(_WEB_ENCODINGS))
    best = matches.best()
    if best is None:
        return None
    # Latin code pages often tie (cp1250/cp1252/cp1257 decode Western text equally "well");
    # on a tie, the web's default single-byte charset wins (WHATWG: windows-1252).
    for match in matches:
        if (
            match.encoding == "cp1252"
            and match.percent_chaos <= best.percent_chaos + 0.5
            and match.percent_coherence >= best.percent_coherence - 5.0
        ):
            return "cp1252"
    return resolve_encoding(best.encoding)


def decode_html(body: bytes | str, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page: BOM, HTTP charset, meta charset, then detection; never raises.

    Returns the text and the encoding used ("str" when given text; a "+replace" suffix
    when undecodable bytes were replaced).
    """
    if isinstance(body, str):
        return body, "str"
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return body[len(bom) :].decode(bom_encoding, errors="replace"), bom_encoding
    declared: list[str] = []
    for name in (
        http_content_type_encoding(content_type) if content_type else None,
        html_body_declared_encoding(body[:4096]),
    ):
        # resolve_encoding maps labels the WHATWG way: latin-1 and ascii mean cp1252.
        resolved = resolve_encoding(name) if name else None
        if resolved and resolved not in declared:
            declared.append(resolved)
    for encoding in declared:
        if (text := _strict(body, encoding)) is not None:
            return text, encoding
    # Undeclared pages and wrong declarations: UTF-8 first (the web's default), then detection.
    if (text := _strict(body, "utf-8")) is not None:
        return text, "utf-8"
    if (not declared or declared[0] == "utf-8") and (text := _mostly_utf8(body)) is not None:
        return text, "utf-8+replace"
    detected = _detected(body)
    if detected and (text := _strict(body, detected)) is not None:
        # Detection cannot tell apart Latin code pages that decode this page identically;
        # name the one the web means by default (WHATWG: undeclared single-byte is cp1252).
        if detected != "cp1252" and _strict(body, "cp1252") == text:
            detected = "cp1252"
        return text, detected
    fallback = declared[0] if declared else (detected or "utf-8")
    try:
        codecs.lookup(fallback)
    except LookupError:
        fallback = "utf-8"
    return body.decode(fallback, errors="replace"), fallback + "+replace"
