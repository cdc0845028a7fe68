"""Who is calling the admin API: an API key from ``[http] api_keys`` (``X-API-Key`` or
``Authorization: Bearer``), or an admin's JID and password over HTTP Basic.

No credentials, or wrong ones, is 401 with a ``WWW-Authenticate`` challenge; a correct login of an
account that is not an administrator is 403. Each caller is a :class:`Principal` with a set of scopes
(``read``, ``admin``, ``scripts``); a route names the scope it needs and a caller without it gets 403.
Wrong keys or passwords count against the client IP: past ``[limits] http_auth_failures_per_ip`` the
IP gets 429 with ``Retry-After`` for ``login_lockout`` (trusted networks excepted).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from tigase_py.server import jid as jids
from tigase_py.server.config.schema import API_SCOPES, LEGACY_KEY_SCOPES
from tigase_py.server.core.login_guard import retry_text
from tigase_py.server.http_api.table import ApiError

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

REALM = 'Basic realm="tigase-py admin", charset="UTF-8"'


class Unauthorized(ApiError):
    def __init__(self, message: str, counts: bool = False) -> None:
        super().__init__(401, message)
        self.counts = counts  # wrong credentials (counted by the throttle), not merely missing ones


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: ``name`` is what commands record (``api-key:<name>`` or a bare JID)."""

    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """``admin`` includes ``read``; ``scripts`` is never implied by another scope."""
        return scope in self.scopes or (scope == "read" and "admin" in self.scopes)

    def require(self, scope: str) -> None:
        if not self.allows(scope):
            held = ", ".join(sorted(self.scopes)) or "none"
            raise ApiError(403, f'this endpoint needs the "{scope}" scope; {self.name} has: {held}')


ADMIN_JID_SCOPES = LEGACY_KEY_SCOPES  # an admin logging in with JID and password: read and admin
FULL_SCOPES = frozenset(API_SCOPES)  # for callers trusted with everything (none of the network doors)


def match_api_key(server: Server, presented: str) -> str | None:
    """The name of the configured key equal to ``presented`` (compared in constant time), or None."""
    found = None
    for name, key in server.config.http.api_keys.items():
        if hmac.compare_digest(key.encode(), presented.encode()):
            found = name
    return found


def basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


async def authenticate(server: Server, request: web.Request) -> Principal:
    """Return the caller or raise 401/403 (429 while the client IP is locked out)."""
    guard = server.login_guard
    ip = request.remote or ""
    wait = guard.http_retry_after(ip)
    if wait > 0:
        raise ApiError(
            429, f"too many failed logins from your address; {retry_text(wait)}", {"Retry-After": str(math.ceil(wait))}
        )
    try:
        return await _identify(server, request)
    except Unauthorized as exc:
        if exc.counts:
            guard.http_failed(ip)
        raise


async def _identify(server: Server, request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    presented = request.headers.get("X-API-Key")
    if presented is None and header[:7].lower() == "bearer ":
        presented = header[7:].strip()
    if presented is not None:
        name = match_api_key(server, presented)
        if name is None:
            raise Unauthorized("invalid API key", counts=True)
        return Principal(f"api-key:{name}", server.config.http.scopes_of(name))
    if not header:
        raise Unauthorized("authentication required")
    credentials = basic_credentials(header)
    if credentials is None:
        raise Unauthorized("unsupported or malformed Authorization header")
    user, password = credentials
    try:
        address = jids.parse(user)
    except jids.JidError as exc:
        raise Unauthorized("invalid credentials", counts=True) from exc
    if not address.local or not await server.storage.users.verify_password(address.local, address.domain, password):
        raise Unauthorized("invalid credentials", counts=True)
    bare = address.bare_str
    if not server.is_admin(bare):
        raise ApiError(403, f"{bare} is not an administrator")
    return Principal(bare, ADMIN_JID_SCOPES)
