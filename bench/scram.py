"""SCRAM-SHA-1 / SCRAM-SHA-256 client side (RFC 5802, RFC 7677) with a salted-password cache.

Real clients keep the salted password (or ClientKey/ServerKey) after the first login and skip PBKDF2
afterwards; Prosody's and our benchmark peers are measured that way. ``scramp.ScramClient`` cannot be
given a salted password, so the proof is computed here with ``hashlib``/``hmac``. The cache key is
``(hash, password, salt, iterations)``: a server that changes salt or iteration count costs one PBKDF2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}
GS2_HEADER = "n,,"

_SALTED: dict[tuple[str, str, bytes, int], bytes] = {}
_SALTED_LIMIT = 1024


class ScramError(Exception):
    """The server's SCRAM messages were malformed or its signature did not verify."""


def salted_password(digest: str, password: str, salt: bytes, iterations: int) -> bytes:
    """Hi(password, salt, i) from RFC 5802 section 2.2, computed once per distinct input."""
    key = (digest, password, salt, iterations)
    cached = _SALTED.get(key)
    if cached is None:
        if len(_SALTED) >= _SALTED_LIMIT:
            _SALTED.clear()
        cached = _SALTED[key] = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations)
    return cached


def _saslname(username: str) -> str:
    return username.replace("=", "=3D").replace(",", "=2C")


def _fields(message: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in message.split(","):
        name, sep, value = part.partition("=")
        if not sep or len(name) != 1:
            raise ScramError(f"malformed SCRAM message: {message!r}")
        out.setdefault(name, value)
    return out


@dataclass
class ScramClient:
    """One SCRAM exchange: ``first()`` → ``final(server_first)`` → ``verify(server_final)``.

    The password is used as given (ASCII bench passwords need no SASLprep).
    """

    mechanism: str
    username: str
    password: str
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    _bare: str = ""
    _server_signature: bytes = b""

    def first(self) -> str:
        if self.mechanism not in HASHES:
            raise ScramError(f"unsupported mechanism {self.mechanism}")
        self._bare = f"n={_saslname(self.username)},r={self.nonce}"
        return GS2_HEADER + self._bare

    def final(self, server_first: str) -> str:
        digest = HASHES[self.mechanism]
        fields = _fields(server_first)
        try:
            nonce, salt, iterations = fields["r"], base64.b64decode(fields["s"]), int(fields["i"])
        except (KeyError, ValueError) as exc:
            raise ScramError(f"bad server-first-message: {server_first!r}") from exc
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce) or iterations < 1:
            raise ScramError("server nonce does not extend ours")
        salted = salted_password(digest, self.password, salt, iterations)
        client_key = hmac.digest(salted, b"Client Key", digest)
        stored_key = hashlib.new(digest, client_key).digest()
        without_proof = f"c={base64.b64encode(GS2_HEADER.encode()).decode()},r={nonce}"
        auth_message = f"{self._bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(stored_key, auth_message, digest)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", digest)
        self._server_signature = hmac.digest(server_key, auth_message, digest)
        return f"{without_proof},p={base64.b64encode(proof).decode()}"

    def verify(self, server_final: str) -> None:
        fields = _fields(server_final)
        if "e" in fields:
            raise ScramError(f"server error: {fields['e']}")
        try:
            signature = base64.b64decode(fields["v"])
        except (KeyError, ValueError) as exc:
            raise ScramError(f"bad server-final-message: {server_final!r}") from exc
        if not hmac.compare_digest(signature, self._server_signature):
            raise ScramError("server signature does not verify")
