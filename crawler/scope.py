"""The crawl's scope: the one rule deciding whether a URL may be requested at all.

Applied to every request a crawl makes (category pages, articles, feeds, sitemaps,
revisits, redirect targets, meta refresh) by `crawler.middlewares.ScopeMiddleware`, and
by the spider before it queues a link. Pure: no Scrapy, no network; the addresses a host
resolves to are given by the caller, so the rule is testable without DNS.

- http and https only (a `file://` link must never read the crawling machine's files);
- inside the site's allowed domains (`host` or any subdomain; an entry with a port,
  `127.0.0.1:8080`, matches that host:port only);
- never a loopback, link-local, private or reserved address, unless it is one of the
  site's own: a site whose start URLs are on such an address (the demo, tests) may use
  those addresses, and only those.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Target:
    """What the scope rule needs of a URL: scheme, lower-case host, port."""

    scheme: str
    host: str
    port: int

    @property
    def hostport(self) -> str:
        """host[:port], the port omitted when it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS.get(self.scheme):
            return host
        return f"{host}:{self.port}"


def target(url: str) -> Target | str:
    """The scheme, host and port of an http(s) URL, or why it has none (a reason)."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            return f"scheme {scheme or '(none)'!r} is not http(s)"
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:  # a bad port, an unclosed IPv6 bracket
        return f"malformed URL: {exc}"
    if not host:
        return "no host"
    return Target(scheme, host, port)


def literal_address(host: str) -> IPAddress | None:
    """The address when the host is an IP literal, else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """True for a globally routable address (not loopback, link-local, private, reserved)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def domain_allowed(t: Target, allowed_domains: Iterable[str]) -> bool:
    """True when the host (and port, for entries that name one) is an allowed domain."""
    for entry in allowed_domains:
        entry = entry.lower().rstrip(".")
        if ":" in entry and not entry.startswith("["):
            if t.hostport == entry or f"{t.host}:{t.port}" == entry:
                return True
        elif t.host == entry.strip("[]") or t.host.endswith("." + entry):
            return True
    return False


def addresses_allowed(addresses: Iterable[IPAddress], own: Iterable[IPAddress]) -> str | None:
    """None when every address may be connected to; else why not.

    Non-public addresses are allowed only when they are among the site's `own` (what its
    start URLs resolve to): a public site can never lead the crawler inside the network.
    """
    own_set = set(own)
    addresses = list(addresses)
    if not addresses:
        return "host has no address"
    for address in addresses:
        if not is_public(address) and address not in own_set:
            return f"address {address} is not public"
    return None


@dataclass(frozen=True)
class Scope:
    """One site's scope: its allowed domains and its own (possibly local) addresses."""

    allowed_domains: Sequence[str]
    # The URLs the user configured (start URLs, feeds, sitemaps): their addresses are the
    # site's own, allowed even when local.
    start_urls: Sequence[str] = ()
    own_addresses: frozenset[IPAddress] = field(default_factory=frozenset)

    @classmethod
    def for_site(cls, allowed_domains: Iterable[str], configured_urls: Iterable[str]) -> Scope:
        """A site's scope; literal IP start hosts count as its own addresses at once."""
        urls = list(configured_urls)
        own: set[IPAddress] = set()
        for url in urls:
            t = target(url)
            if isinstance(t, Target):
                address = literal_address(t.host)
                if address is not None:
                    own.add(address)
        return cls(tuple(allowed_domains), tuple(urls), frozenset(own))

    def check_url(self, url: str) -> str | None:
        """None when the URL's scheme and host are in scope; else why not (no DNS)."""
        t = target(url)
        if isinstance(t, str):
            return t
        if not domain_allowed(t, self.allowed_domains):
            return f"host {t.hostport} is not in allowed_domains"
        address = literal_address(t.host)
        if address is not None:
            return addresses_allowed([address], self.own_addresses)
        return None

    def allows(self, url: str) -> bool:
        """True when check_url finds nothing wrong."""
        return self.check_url(url) is None

    def check_addresses(self, addresses: Iterable[IPAddress]) -> str | None:
        """None when a host's resolved addresses may be connected to; else why not."""
        return addresses_allowed(addresses, self.own_addresses)

    def with_own_addresses(self, addresses: Iterable[IPAddress]) -> Scope:
        """This scope, with the addresses the start URLs resolved to."""
        return Scope(self.allowed_domains, self.start_urls, frozenset(addresses))


def parse_addresses(infos: Iterable[tuple[object, ...]]) -> list[IPAddress]:
    """The addresses in a socket.getaddrinfo() result."""
    out: list[IPAddress] = []
    for info in infos:
        sockaddr = info[4]
        if isinstance(sockaddr, tuple) and sockaddr:
            address = literal_address(str(sockaddr[0]))
            if address is not None and address not in out:
                out.append(address)
    return out
