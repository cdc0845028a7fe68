"""Accounts for a load run: ``load0 … loadN-1`` (the target's pattern), all with one password.

Here: in-band registration (XEP-0077) on the target, which Prosody allows when ``allow_registration``
is on. Our own server's accounts can also be written straight into its storage (``tigase-py load run
--create-accounts``, in ``cli/commands/load.py``: nothing under ``compat_tests`` imports the server).
For other servers create them beforehand (``prosodyctl register``, ``ejabberdctl register``) and only
name the pattern and password.
"""

from __future__ import annotations

import asyncio
import ssl

from tigase_py.compat_tests.load.client import LoginError, Session, tls_context
from tigase_py.compat_tests.load.scenario import LoadTarget

NS_REGISTER = "jabber:iq:register"
CONCURRENCY = 16
TIMEOUT = 20.0


class AccountError(RuntimeError):
    """Accounts could not be created (storage refused, registration not offered or refused)."""


async def _register_one(target: LoadTarget, context: ssl.SSLContext | None, username: str) -> bool:
    """Register ``username`` on a fresh stream; False when it already exists (conflict)."""
    direct = context if target.tls == "direct" else None
    reader, writer = await asyncio.open_connection(
        target.host, target.port, ssl=direct, server_hostname=target.domain if direct else None
    )
    session = Session(reader, writer, target.domain)
    try:
        session.open_stream()
        features = await session.read_until(b"</stream:features>")
        if target.tls == "starttls" and context is not None:
            if b"<starttls" not in features:
                raise AccountError("no STARTTLS offered")
            session.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            await session.read_until(b"<proceed")
            await writer.start_tls(context, server_hostname=target.domain)
            session.open_stream()
            await session.read_until(b"</stream:features>")
        fields = f"<username>{username}</username><password>{target.password}</password>"
        session.send(f"<iq type='set' id='reg1'><query xmlns='{NS_REGISTER}'>{fields}</query></iq>".encode())
        reply = await session.read_until(b"</iq>", b"/>")
        reply += session.buffer
        if b"result" in reply[: reply.find(b">") + 1]:
            return True
        if b"conflict" in reply:
            return False
        raise AccountError(f"registration of {username} refused: {reply[:200].decode(errors='replace')}")
    except LoginError as exc:
        raise AccountError(f"registration of {username} failed: {exc}") from None
    finally:
        await session.close()


async def register_in_band(target: LoadTarget, count: int) -> int:
    """XEP-0077 for the first ``count`` accounts; existing ones are kept. Returns how many were new."""
    context = tls_context(target.verify_tls) if target.tls != "plain" else None
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> bool:
        async with gate:
            return await asyncio.wait_for(_register_one(target, context, target.username(n)), TIMEOUT)

    done = await asyncio.gather(*(one(n) for n in range(count)))
    return sum(done)
