"""JIDs (RFC 7622): parse, normalise, compare. Pure functions, cached on the hot path.

Localparts go through the PRECIS UsernameCaseMapped profile, resourceparts through OpaqueString
(:mod:`tigase_py.server.precis`); domainparts are lower-cased and NFKC-normalised label by label.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import NamedTuple

from tigase_py.server import precis

_LOCAL_FORBIDDEN = frozenset("\"&'/:<>@ \t\r\n")
_MAX_PART = 1023


class JidError(ValueError):
    """The string is not a valid JID (maps to ``jid-malformed``)."""


class Jid(NamedTuple):
    local: str
    domain: str
    resource: str

    @property
    def bare(self) -> Jid:
        return Jid(self.local, self.domain, "") if self.resource else self

    @property
    def is_bare(self) -> bool:
        return not self.resource

    @property
    def is_domain(self) -> bool:
        return not self.local and not self.resource

    def with_resource(self, resource: str) -> Jid:
        return Jid(self.local, self.domain, resource)

    def __str__(self) -> str:
        text = f"{self.local}@{self.domain}" if self.local else self.domain
        return f"{text}/{self.resource}" if self.resource else text

    @property
    def bare_str(self) -> str:
        return f"{self.local}@{self.domain}" if self.local else self.domain


def _prep_local(local: str) -> str:
    try:
        local = precis.username_case_mapped(local)
    except precis.PrecisError as exc:
        raise JidError(f"invalid localpart: {exc}") from None
    if len(local.encode()) > _MAX_PART or any(c in _LOCAL_FORBIDDEN for c in local):
        raise JidError(f"invalid localpart {local!r}")
    return local


def _prep_domain(domain: str) -> str:
    if domain.endswith("."):
        domain = domain[:-1]
    if not domain.isascii():
        domain = unicodedata.normalize("NFKC", domain)
    domain = domain.lower()
    if not domain or len(domain.encode()) > _MAX_PART:
        raise JidError(f"invalid domainpart {domain!r}")
    if domain.startswith("[") and domain.endswith("]"):
        return domain
    for label in domain.split("."):
        if not label or len(label) > 63 or any(c in "/@:<>\"' \t" or ord(c) < 0x20 for c in label):
            raise JidError(f"invalid domainpart {domain!r}")
    return domain


def _prep_resource(resource: str) -> str:
    try:
        resource = precis.opaque_string(resource)
    except precis.PrecisError as exc:
        raise JidError(f"invalid resourcepart: {exc}") from None
    if len(resource.encode()) > _MAX_PART:
        raise JidError("invalid resourcepart: longer than 1023 bytes")
    return resource


@lru_cache(maxsize=65536)
def parse(text: str) -> Jid:
    """Parse and normalise ``text``; raise :class:`JidError` when it is not a valid JID."""
    slash = text.find("/")
    if slash >= 0:
        head, resource = text[:slash], text[slash + 1 :]
        if not resource:
            raise JidError("empty resourcepart")
        resource = _prep_resource(resource)
    else:
        head, resource = text, ""
    at = head.find("@")
    if at >= 0:
        local = _prep_local(head[:at])
        domain = _prep_domain(head[at + 1 :])
    else:
        local, domain = "", _prep_domain(head)
    return Jid(local, domain, resource)


def try_parse(text: str | None) -> Jid | None:
    if text is None:
        return None
    try:
        return parse(text)
    except JidError:
        return None


def prep_username(username: str) -> str:
    """Normalise a bare username (localpart) for storage and comparison."""
    return _prep_local(username)


def prep_domain(domain: str) -> str:
    return _prep_domain(domain)
