"""Access control and headers for the web UI.

Bound to 127.0.0.1 the UI needs no token. Bound anywhere else, `serve` requires one and
every request must carry it: ``Authorization: Bearer T``, or once as ``?token=T``, which
sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL without it (so the
token does not stay in the address bar, the history or a Referer).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import URL, Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "newsarchive_token"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
# The UI's own pages: scripts and styles from this origin only, frames only of our own
# (sandboxed) raw captures, never embedded elsewhere.
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
UI_HEADERS = {"Content-Security-Policy": UI_CSP}
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityMiddleware:
    """Token check (when a token is set) and headers every response gets."""

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await PlainTextResponse("this UI is read-only\n", 405)(scope, receive, send)
            return
        if self.token is not None:
            denied = self._check(scope)
            if denied is not None:
                await denied(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in _ALWAYS if k not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _ok(self, given: str | None) -> bool:
        assert self.token is not None
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _check(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self._ok(auth[7:].strip()):
            return None
        url = URL(scope=scope)
        if self._ok(_cookie(headers.get("cookie", ""))):
            return None
        if self._ok(_query_token(url)):
            rest = [(k, v) for k, v in _pairs(url) if k != "token"]
            target = url.path + ("?" + urlencode(rest) if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token or "", httponly=True, samesite="strict")
            return response
        return PlainTextResponse(
            "a token is required: open the URL with ?token=… or send 'Authorization: Bearer …'\n",
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _pairs(url: URL) -> list[tuple[str, Any]]:
    from urllib.parse import parse_qsl

    return parse_qsl(url.query, keep_blank_values=True)


def _query_token(url: URL) -> str | None:
    return next((v for k, v in _pairs(url) if k == "token"), None)
