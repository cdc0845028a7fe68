"""Who is calling the admin API: an API key from ``[http] api_keys`` (``X-API-Key`` or
``Authorization: Bearer``), or an admin's JID and password over HTTP Basic.

No credentials, or wrong ones, is 401 with a ``WWW-Authenticate`` challenge; a correct login of an
account that is not an administrator is 403.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING

from aiohttp import web

from tigase_py.server import jid as jids
from tigase_py.server.http_api.table import ApiError

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

REALM = 'Basic realm="tigase-py admin", charset="UTF-8"'


class Unauthorized(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, message)


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


async def authenticate(server: Server, request: web.Request) -> str:
    """Return the caller (``api-key:<name>`` or an admin's bare JID) or raise 401/403."""
    header = request.headers.get("Authorization", "")
    presented = request.headers.get("X-API-Key")
    if presented is None and header[:7].lower() == "bearer ":
        presented = header[7:].strip()
    if presented is not None:
        name = match_api_key(server, presented)
        if name is None:
            raise Unauthorized("invalid API key")
        return f"api-key:{name}"
    if not header:
        raise Unauthorized("authentication required")
    credentials = basic_credentials(header)
    if credentials is None:
        raise Unauthorized("unsupported or malformed Authorization header")
    user, password = credentials
    try:
        address = jids.parse(user)
    except jids.JidError as exc:
        raise Unauthorized("invalid credentials") from exc
    if not address.local or not await server.storage.users.verify_password(address.local, address.domain, password):
        raise Unauthorized("invalid credentials")
    bare = address.bare_str
    if not server.is_admin(bare):
        raise ApiError(403, f"{bare} is not an administrator")
    return bare
