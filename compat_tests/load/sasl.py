"""SASL for the load client: PLAIN, and SCRAM-SHA-1/-256 (RFC 5802) with a salted-password cache.

The PBKDF2 step costs thousands of HMACs per login; real clients keep the salted password per
(salt, iteration count) and skip it on the next login. :class:`ScramClient` does the same through a
process-wide cache, so a login storm measures the server's cost rather than the generator's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

HASHES: Final = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}
GS2_HEADER: Final = "n,,"

_salted_cache: dict[tuple[str, str, bytes, int], bytes] = {}


class SaslError(Exception):
    """The server's SCRAM message is malformed or its signature does not verify."""


def plain_initial(username: str, password: str) -> str:
    """The base64 initial response of PLAIN (RFC 4616): ``\\0user\\0password``."""
    return base64.b64encode(f"\0{username}\0{password}".encode()).decode()


def salted_password(hash_name: str, password: str, salt: bytes, iterations: int) -> bytes:
    """``Hi(password, salt, i)`` of RFC 5802 §2.2, cached per (hash, password, salt, iterations)."""
    key = (hash_name, password, salt, iterations)
    found = _salted_cache.get(key)
    if found is None:
        found = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt, iterations)
        _salted_cache[key] = found
    return found


def cache_size() -> int:
    return len(_salted_cache)


def clear_cache() -> None:
    _salted_cache.clear()


def _escape(username: str) -> str:
    """RFC 5802 §5.1: ``=`` → ``=3D`` and ``,`` → ``=2C`` in the saslname."""
    return username.replace("=", "=3D").replace(",", "=2C")


def _attributes(message: str) -> dict[str, str]:
    pairs = {}
    for part in message.split(","):
        name, sep, value = part.partition("=")
        if sep and len(name) == 1:
            pairs[name] = value
    return pairs


class ScramClient:
    """One SCRAM exchange: :meth:`first` → :meth:`final` (given server-first) → :meth:`verify`."""

    def __init__(self, mechanism: str, username: str, password: str, nonce: str | None = None) -> None:
        if mechanism not in HASHES:
            raise SaslError(f"unsupported mechanism {mechanism}")
        self.hash_name = HASHES[mechanism]
        self.password = password
        self.nonce = nonce or secrets.token_urlsafe(18)
        self.first_bare = f"n={_escape(username)},r={self.nonce}"
        self.server_signature = b""

    def first(self) -> str:
        """client-first-message."""
        return GS2_HEADER + self.first_bare

    def final(self, server_first: str) -> str:
        """client-final-message for ``server_first`` (``r=…,s=…,i=…``)."""
        attrs = _attributes(server_first)
        nonce, salt, iterations = attrs.get("r", ""), attrs.get("s"), attrs.get("i", "")
        if not nonce.startswith(self.nonce) or salt is None or not iterations.isdigit():
            raise SaslError(f"bad server-first-message {server_first!r}")
        salted = salted_password(self.hash_name, self.password, base64.b64decode(salt), int(iterations))
        without_proof = f"c={base64.b64encode(GS2_HEADER.encode()).decode()},r={nonce}"
        auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
        client_key = hmac.digest(salted, b"Client Key", self.hash_name)
        stored_key = hashlib.new(self.hash_name, client_key).digest()
        signature = hmac.digest(stored_key, auth_message, self.hash_name)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", self.hash_name)
        self.server_signature = hmac.digest(server_key, auth_message, self.hash_name)
        return f"{without_proof},p={base64.b64encode(proof).decode()}"

    def verify(self, server_final: str) -> None:
        """Check ``v=`` of server-final-message; :class:`SaslError` if it does not match."""
        attrs = _attributes(server_final)
        if "e" in attrs:
            raise SaslError(f"server error {attrs['e']}")
        if base64.b64decode(attrs.get("v", "")) != self.server_signature:
            raise SaslError("server signature does not verify")
