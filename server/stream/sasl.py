"""SASL for c2s (RFC 6120 6): SCRAM-SHA-256/SHA-1 (and -PLUS with tls-server-end-point) over
scramp, PLAIN only over TLS unless configured otherwise. Credentials are only ever SCRAM keys."""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

import scramp

from tigase_py.server import jid as jids
from tigase_py.server.core.login_guard import LoginGuard, retry_text
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


@dataclass(eq=False)  # compared and hashed by identity, as one live object
class SaslExchange:
    """One SASL negotiation on one stream; ``guard`` (with the client's ``ip``) throttles guessing."""

    storage: Storage
    domain: str
    offered: list[str]
    channel_binding: bytes | None  # computed once per certificate, not per login
    guard: LoginGuard | None = None
    ip: str = ""
    mechanism: str = field(default="", init=False)
    _scram: scramp.ScramServer | None = field(default=None, init=False, repr=False)
    _username: str = field(default="", init=False, repr=False)

    async def start(self, auth: Element) -> SaslResult:
        mechanism = auth.get("mechanism") or ""
        self._check_lockout(None)
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
            await self._refuse(self._username)
        self._accepted(self._username)
        success = Element("success", ns=ns.SASL)
        success.children.append(_encode(final.encode()))
        return SaslResult(success, self._username)

    def _check_lockout(self, username: str | None) -> None:
        """RFC 6120 §6.5.11: while locked, refuse before any password is checked (even a right one)."""
        if self.guard is None:
            return
        account = f"{username}@{self.domain}" if username is not None else None
        wait = self.guard.login_retry_after(self.ip, account)
        if wait > 0:
            raise SaslFailure("temporary-auth-failure", f"too many failed logins; {retry_text(wait)}")

    async def _refuse(self, username: str) -> NoReturn:
        """Count a wrong password and hold the ``<failure/>`` back by the progressive delay."""
        if self.guard is not None:
            delay = self.guard.login_failed(self.ip, f"{username}@{self.domain}")
            if delay > 0:
                await asyncio.sleep(delay)  # only this stream's queue waits
        raise SaslFailure("not-authorized")

    def _accepted(self, username: str) -> None:
        if self.guard is not None:
            self.guard.login_succeeded(self.ip, f"{username}@{self.domain}")

    async def _plain(self, data: bytes) -> SaslResult:
        try:
            authzid, authcid, password = data.decode().split("\x00")
        except (UnicodeDecodeError, ValueError):
            raise SaslFailure("malformed-request") from None
        username = self._prep(authcid)
        self._check_authzid(authzid, username)
        self._check_lockout(username)
        if not await self.storage.users.verify_password(username, self.domain, password):
            await self._refuse(username)
        self._accepted(username)
        return SaslResult(Element("success", ns=ns.SASL), username)

    async def _scram_first(self, mechanism: str, data: bytes) -> SaslResult:
        try:
            client_first = data.decode()
        except UnicodeDecodeError:
            raise SaslFailure("malformed-request") from None
        authzid, raw_username = _scram_username(client_first)
        username = self._prep(raw_username)
        self._check_authzid(authzid, username)
        self._check_lockout(username)
        base = mechanism.removesuffix("-PLUS")
        # An unknown user gets decoy credentials (salt stable per username, same length and iterations),
        # so the challenge does not tell whether the account exists.
        credentials = await self.storage.users.get_scram_or_decoy(username, self.domain, SCRAM_HASHES[base])
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
