"""Canonical URL rules: which URL an article is filed under.

Every URL variant a crawl meets (tracking parameters, fragments, AMP pages, upper-case hosts,
default ports) must map to one canonical URL, or one article would be archived several times.
The heavy lifting is w3lib's ``canonicalize_url`` (safe encoding, sorted query, percent-encoding
case, dot segments, lower-case host, no fragment) and courlan's registered-domain lookup; this
module adds what they leave out: tracking-parameter removal, default ports, AMP detection and the
choice between the fetched URL and the one the page declares.

Deliberately *not* merged, because sites differ: ``http`` vs ``https``, ``www.`` vs bare host,
and a trailing slash on a non-empty path (``/story`` and ``/story/`` can be different pages).
"""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl, unquote_plus, urljoin, urlsplit

import courlan
from w3lib.url import canonicalize_url, url_query_cleaner

# Query keys that only say how a reader arrived, never which page they read. Compared
# case-insensitively after percent-decoding. Generic keys such as "source", "id" or "p" are
# absent on purpose: on many CMSs (WordPress ?p=5) they *are* the page's identity.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "_openstat",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "icid",
        "ncid",
        "smid",
        "sr_share",
        "mbid",
        "spm",
        "xtor",
        "at_medium",
        "at_campaign",
        "wt.mc_id",
        "s_cid",
        "trk",
        "rss",
        "amp",
        "outputtype",
    }
)

# Key prefixes of whole tracking families (Google Analytics, Matomo/Piwik, HubSpot, ...).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "mtm_", "pk_", "piwik_", "itm_", "at_", "hsa_")

# AMP switches are removed from the canonical URL too: ``?amp=1`` and ``?outputType=amp`` are
# a rendering of the same article. They are in TRACKING_PARAMS above for that reason.
_AMP_QUERY_KEYS = frozenset({"amp", "outputtype"})
_AMP_QUERY_VALUES = frozenset({"", "1", "true", "yes", "amp"})
_AMP_CACHE_SUFFIX = ".cdn.ampproject.org"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WEB_SCHEMES = frozenset(_DEFAULT_PORTS)


def is_tracking_param(key: str) -> bool:
    """True when a query key (raw or percent-encoded) is a tracking parameter."""
    name = unquote_plus(key).strip().lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _require_absolute(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")


def canonicalize(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL; idempotent.

    Raises ValueError for anything that is not an absolute http(s) URL.
    """
    url = url.strip()
    _require_absolute(url)
    query = urlsplit(url).query
    if query:
        # url_query_cleaner matches raw keys, so pass the raw spelling of every tracking key.
        raw_keys = {pair.partition("=")[0] for pair in query.split("&")}
        tracking = [key for key in raw_keys if key and is_tracking_param(key)]
        if tracking:
            url = url_query_cleaner(url, tracking, remove=True, unique=False, keep_fragments=False)
    # Sorted query, upper-case %XX, dot segments, lower-case host, "/" for an empty path,
    # no fragment, and no "?" when the query ended up empty.
    url = canonicalize_url(url, keep_blank_values=True, keep_fragments=False)
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: leave it as the site wrote it
        port = None
    if port is not None and port == _DEFAULT_PORTS.get(parts.scheme):
        url = parts._replace(netloc=parts.netloc.removesuffix(f":{port}")).geturl()
    return url


def host_of(url: str) -> str:
    """Lower-case ``host[:port]`` of a URL, without the scheme's default port."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal: put the brackets back
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


@functools.lru_cache(maxsize=1024)
def site_of(url: str) -> str:
    """A URL's site: its registered domain (news.example.co.uk -> example.co.uk), else
    ``host[:port]`` without a leading www. The one site key of same_site(), discovery and
    the default allowed_domains."""
    # courlan looks the host up in the bundled Public Suffix List (via ``tld``, no network):
    # "amp.example.co.uk" -> "example.co.uk". IP addresses, "localhost" and names under
    # non-public suffixes (".test") have no registered domain; for those the host and port
    # *are* the site, which keeps two loopback test servers apart.
    domain = courlan.extract_domain(url)
    if isinstance(domain, str) and domain:
        return domain.lower()
    return host_of(url).removeprefix("www.")


def same_site(a: str, b: str) -> bool:
    """True when two URLs belong to one site (same registered domain, or same host:port)."""
    site_a, site_b = site_of(a), site_of(b)
    return bool(site_a) and site_a == site_b


def is_amp_url(url: str) -> bool:
    """True when the URL looks like an AMP rendering of a page."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host.startswith("amp.") or host.endswith(_AMP_CACHE_SUFFIX):
        return True
    segments = [segment.lower() for segment in parts.path.split("/") if segment]
    if "amp" in segments:
        return True
    if segments and (segments[-1].endswith(".amp") or segments[-1].endswith(".amp.html")):
        return True
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _AMP_QUERY_KEYS and value.lower() in _AMP_QUERY_VALUES:
            return True
    return False


def _is_site_root(url: str) -> bool:
    return urlsplit(url).path in ("", "/")


def choose_canonical(fetched_url: str, declared: str | None) -> str:
    """The canonical URL of a fetched page: its declared rel=canonical / og:url when usable.

    The declared URL (absolute, or relative to the fetched URL) is used when it is an http(s)
    URL on the same site as the fetched one; otherwise the fetched URL is. Either way the
    result is canonicalized. Also ignored: a declared URL that is the site's home page while
    the page is not (a common CMS template bug that would file every article under "/"), and
    an AMP URL declared by a non-AMP page (the reverse of what rel=canonical is for).
    """
    fallback = canonicalize(fetched_url)
    if not declared or not declared.strip():
        return fallback
    try:
        candidate = canonicalize(urljoin(fetched_url.strip(), declared.strip()))
    except ValueError:
        return fallback
    if not same_site(candidate, fallback):
        return fallback
    if _is_site_root(candidate) and not _is_site_root(fallback):
        return fallback
    if is_amp_url(candidate) and not is_amp_url(fallback):
        return fallback
    return candidate
