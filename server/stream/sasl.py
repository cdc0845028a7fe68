"""SASL for c2s (RFC 6120 6): SCRAM-SHA-256/SHA-1 (and -PLUS with tls-server-end-point) over
scramp, PLAIN only over TLS unless configured otherwise. Credentials are only ever SCRAM keys."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import scramp

from tigase_py.server import jid as jids
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.storage.engine import Storage

SCRAM_HASHES = {"SCRAM-SHA-1": "SHA-1", "SCRAM-SHA-256": "SHA-256"}


class SaslFailure(Exception):
    def __init__(self, condition: str, text: str = "") -> None:
        super().__init__(condition)
        self.condition = condition
        self.text = text

    def to_element(self) -> Element:
        failure = Element("failure", ns=ns.SASL)
        failure.add(self.condition)
        if self.text:
            failure.add("text", {"xml:lang": "en"}, text=self.text)
        return failure


@dataclass(slots=True)
class SaslResult:
    reply: Element
    username: str | None = None  # set when authentication succeeded


def offered_mechanisms(configured: tuple[str, ...], secure: bool, allow_plain_without_tls: bool) -> list[str]:
    offered = []
    for name in configured:
        if name.endswith("-PLUS") and not secure:
            continue
        if name == "PLAIN" and not secure and not allow_plain_without_tls:
            continue
        offered.append(name)
    return offered


def _decode(element: Element) -> bytes:
    text = element.text.strip()
    if text == "=" or not text:
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SaslFailure("incorrect-encoding") from None


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode() if data else "="


def _scram_username(client_first: str) -> tuple[str, str]:
    """Return (authzid, username) from a SCRAM client-first message."""
    parts = client_first.split(",", 3)
    if len(parts) < 4 or not parts[2].startswith("n="):
        raise SaslFailure("malformed-request")
    authzid = parts[1][2:] if parts[1].startswith("a=") else ""
    username = parts[2][2:].replace("=2C", ",").replace("=3D", "=")
    return authzid.replace("=2C", ",").replace("=3D", "="), username


class SaslExchange:
    """One SASL negotiation on one stream."""

    def __init__(
        self, storage: Storage, domain: str, offered: list[str], channel_binding: bytes | None
    ) -> None:
        self.storage = storage
        self.domain = domain
        self.offered = offered
        self.channel_binding = channel_binding  # computed once per certificate, not per login
        self._scram: scramp.ScramServer | None = None
        self._username = ""
        self.mechanism = ""

    async def start(self, auth: Element) -> SaslResult:
        mechanism = auth.get("mechanism") or ""
        self.mechanism = mechanism if mechanism in self.offered else "other"
        if mechanism not in self.offered:
            raise SaslFailure("invalid-mechanism")
        data = _decode(auth)
        if mechanism == "PLAIN":
            return await self._plain(data)
        return await self._scram_first(mechanism, data)

    async def respond(self, response: Element) -> SaslResult:
        if self._scram is None:
            raise SaslFailure("malformed-request", "no exchange in progress")
        data = _decode(response)
        try:
            self._scram.set_client_final(data.decode())
            final = self._scram.get_server_final()
        except (scramp.ScramException, UnicodeDecodeError):
            raise SaslFailure("not-authorized") from None
        success = Element("success", ns=ns.SASL)
        success.children.append(_encode(final.encode()))
        return SaslResult(success, self._username)

    async def _plain(self, data: bytes) -> SaslResult:
        try:
            authzid, authcid, password = data.decode().split("\x00")
        except (UnicodeDecodeError, ValueError):
            raise SaslFailure("malformed-request") from None
        username = self._prep(authcid)
        self._check_authzid(authzid, username)
        if not await self.storage.users.verify_password(username, self.domain, password):
            raise SaslFailure("not-authorized")
        return SaslResult(Element("success", ns=ns.SASL), username)

    async def _scram_first(self, mechanism: str, data: bytes) -> SaslResult:
        try:
            client_first = data.decode()
        except UnicodeDecodeError:
            raise SaslFailure("malformed-request") from None
        authzid, raw_username = _scram_username(client_first)
        username = self._prep(raw_username)
        self._check_authzid(authzid, username)
        base = mechanism.removesuffix("-PLUS")
        credentials = await self.storage.users.get_scram(username, self.domain, SCRAM_HASHES[base])
        if credentials is None:
            # Unknown user: run the exchange with random keys so the failure looks the same.
            salt = secrets.token_bytes(16)
            info = (salt, secrets.token_bytes(32), secrets.token_bytes(32), 4096)
        else:
            info = (credentials.salt, credentials.stored_key, credentials.server_key, credentials.iterations)
        binding = None
        if self.channel_binding is not None and any(m.endswith("-PLUS") for m in self.offered):
            binding = ("tls-server-end-point", self.channel_binding)
        try:
            server = scramp.ScramMechanism(mechanism).make_server(lambda _name: info, channel_binding=binding)
            server.set_client_first(client_first)
            first = server.get_server_first()
        except scramp.ScramException:
            raise SaslFailure("not-authorized") from None
        self._scram = server
        self._username = username
        challenge = Element("challenge", ns=ns.SASL)
        challenge.children.append(_encode(first.encode()))
        return SaslResult(challenge)

    def _prep(self, username: str) -> str:
        try:
            return jids.prep_username(username)
        except jids.JidError:
            raise SaslFailure("not-authorized") from None

    def _check_authzid(self, authzid: str, username: str) -> None:
        if not authzid:
            return
        requested = jids.try_parse(authzid)
        if requested is None or requested.bare_str != f"{username}@{self.domain}":
            raise SaslFailure("invalid-authzid")
