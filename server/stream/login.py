"""The two login steps of a client stream: SASL (RFC 6120 §6) and resource binding (§7)."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from tigase_py.server import jid as jids
from tigase_py.server.core.session import Session
from tigase_py.server.errors import StanzaError, StreamError
from tigase_py.server.storage.errors import StorageError
from tigase_py.server.stream import sasl
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.stream.c2s import C2SStream

log = logging.getLogger("tigase_py.c2s")


async def sasl_step(stream: C2SStream, stanza: Element) -> None:
    """Handle ``<auth/>``, ``<response/>`` or ``<abort/>``; on success the client restarts its stream."""
    services, transport = stream.services, stream.transport
    if not stream.may_carry_credentials:
        raise StreamError("policy-violation", "STARTTLS is required before authentication")
    try:
        if stanza.name == "auth":
            binding = services.channel_binding if stream.secure else None
            stream.sasl = sasl.SaslExchange(
                services.storage, stream.domain, stream.mechanisms(), binding,
                services.login_guard, stream.ip,
            )  # fmt: skip
            result = await stream.sasl.start(stanza)
        elif stanza.name == "response" and stream.sasl is not None:
            result = await stream.sasl.respond(stanza)
        elif stanza.name == "abort":
            stream.sasl = None
            raise sasl.SaslFailure("aborted")
        else:
            raise sasl.SaslFailure("malformed-request")
    except StorageError as exc:  # RFC 6120 §6.5.11; not counted as a failed login
        log.warning("auth_storage_failed peer=%s reason=%s", transport.peer, exc)
        stream.sasl = None
        transport.write(sasl.SaslFailure("temporary-auth-failure").to_element().to_bytes())
        return
    except sasl.SaslFailure as failure:
        mechanism = stream.sasl.mechanism if stream.sasl is not None else "other"
        stream.sasl = None
        services.auth_failed()
        services.stats.auth_failure.labels(mechanism).value += 1
        log.info("auth_failed peer=%s condition=%s", transport.peer, failure.condition)
        transport.write(failure.to_element().to_bytes())
        return
    transport.write(result.reply.to_bytes())
    if result.username is not None:
        assert stream.sasl is not None
        services.stats.auth_success.labels(stream.sasl.mechanism).value += 1
        stream.username = result.username
        stream.sasl = None
        transport.restart(authenticated=True)


async def bind(stream: C2SStream, stanza: Element, request: Element) -> None:
    """Bind the requested (or a generated) resource; a session on the same full JID is replaced
    unless ``resource_conflict = "refuse"``."""
    services, transport = stream.services, stream.transport
    assert stream.username is not None
    requested = (request.find_text("resource", ns.BIND) or "").strip(" \t\r\n")  # ASCII only: PRECIS refuses U+0085
    resource = requested or secrets.token_hex(6)
    owner = f"{stream.username}@{stream.domain}"
    try:
        full = jids.parse(f"{owner}/{resource}")
    except jids.JidError as exc:  # RFC 6120 §7.7.2.1; the resource must pass PRECIS OpaqueString
        raise StanzaError("bad-request", str(exc)) from None
    sessions = services.sessions
    existing = sessions.get(full)
    config = services.config
    if existing is None and sessions.resource_count(owner) >= config.limits.max_sessions_per_user:
        raise StanzaError("resource-constraint", "too many sessions for this account")
    if existing is not None and config.server.resource_conflict == "refuse":
        raise StanzaError("conflict", "resource in use")
    session = Session(transport, full, transport.peer, stream.secure)
    previous = sessions.add(session)
    services.stats.sessions_bound.plain.value += 1
    if previous is not None:
        services.stats.sessions_replaced.plain.value += 1
    stream.session = session
    if previous is not None:
        previous.writer.close_with_error("conflict", "replaced by a new session")
    reply = Element("iq", {"type": "result", "id": stanza.get("id") or ""})
    reply.add("bind", ns=ns.BIND).add("jid", text=str(full))
    transport.write(reply.to_bytes())
    transport.session_bound()
    await services.bus.fire("session.bound", stream.domain, session=session)
