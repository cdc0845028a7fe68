"""The measured traffic of a phase: paced (open loop) or windowed (closed loop) senders.

Every sent element carries the send time (monotonic ns, one clock for all processes of the host) at
the start of its text, padded to the scenario's message size; :meth:`Session.read_loop` turns the
received ones into latencies. A plan (from :mod:`.engine`) says who sends what:

- ``one-to-one``: ``pairs`` of account numbers, both in this worker; chat to the partner's full JID;
- ``muc-fanout``: ``senders`` as ``[n, room_jid]``; groupchat to the room;
- ``pubsub-fanout``: ``senders`` as ``[n, service, node]``; publish an item whose payload has a body;
- ``presence-storm``: ``senders`` as ``[n]``; presence broadcasts with the time in ``<status/>``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tigase_py.compat_tests.load.client import Counters, Session, body_text

STEP = 0.02  # pacing granularity, seconds
DRAIN = 2.0  # seconds to let in-flight messages arrive after the window
NS_LOAD = "urn:tigase-py:load"


@dataclass
class Sender:
    session: Session
    prefix: bytes
    suffix: bytes
    offset: float = 0.0  # fraction of a period, spreads senders over time
    sent: int = 0
    credits: int = 0
    wake: asyncio.Future[None] | None = None

    def credit(self, n: int) -> None:
        self.credits += n
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)


def senders_for(sessions: dict[int, Session], scenario: Any, plan: dict[str, Any]) -> list[Sender]:
    kind = scenario.kind
    found: list[Sender] = []
    if kind == "one-to-one":
        for a, b in plan.get("pairs", []):
            if a in sessions and b in sessions:
                sa, sb = sessions[a], sessions[b]
                found.append(Sender(sa, f"<message to='{sb.jid}' type='chat'><body>".encode(), b"</body></message>"))
                found.append(Sender(sb, f"<message to='{sa.jid}' type='chat'><body>".encode(), b"</body></message>"))
    elif kind == "muc-fanout":
        for n, room in plan.get("senders", []):
            if n in sessions:
                prefix = f"<message to='{room}' type='groupchat'><body>".encode()
                found.append(Sender(sessions[n], prefix, b"</body></message>"))
    elif kind == "pubsub-fanout":
        for n, service, node in plan.get("senders", []):
            if n in sessions:
                prefix = (
                    f"<iq type='set' to='{service}' id='pub'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                    f"<publish node='{node}'><item><entry xmlns='{NS_LOAD}'><body>"
                ).encode()
                found.append(Sender(sessions[n], prefix, b"</body></entry></item></publish></pubsub></iq>"))
    elif kind == "presence-storm":
        for (n,) in plan.get("senders", []):
            if n in sessions:
                found.append(Sender(sessions[n], b"<presence><status>", b"</status></presence>"))
    for i, sender in enumerate(found):
        sender.offset = i / len(found)
    return found


async def run(
    sessions: dict[int, Session], counters: Counters, scenario: Any, plan: dict[str, Any], stop: asyncio.Event
) -> float:
    """Send for warm-up + duration (or until ``stop``), let in-flight messages arrive; the measured seconds."""
    senders = senders_for(sessions, scenario, plan)
    now = time.monotonic_ns()
    start, end = now + int(scenario.warmup * 1e9), now + int((scenario.warmup + scenario.duration) * 1e9)
    counters.window = (start, end)
    size = int(scenario.message_size)
    if scenario.kind == "one-to-one" and scenario.rate_mode == "window":
        by_session = {id(s.session): s for s in senders}
        for sender in senders:
            # What a session receives is what its partner sent: credit the partner's sender.
            partner = by_session[id(sessions_partner(sender, senders))]
            sender.session.on_body = partner.credit
            partner.credits = int(scenario.window)
        tasks = [asyncio.create_task(windowed(s, counters, size, stop)) for s in senders]
    else:
        rate = float(plan.get("rate_per_sender", scenario.rate))
        tasks = [asyncio.create_task(paced(senders, counters, size, rate, stop))] if senders else []
    remaining = (end - time.monotonic_ns()) / 1e9
    if remaining > 0:
        try:
            await asyncio.wait_for(stop.wait(), remaining)
        except TimeoutError:
            pass
    stop.set()
    stopped = time.monotonic_ns()
    counters.window = (start, min(end, stopped))
    for sender in senders:
        sender.credit(0)
    await asyncio.gather(*tasks, return_exceptions=True)
    drain_until = time.monotonic() + DRAIN
    last = -1
    while time.monotonic() < drain_until and counters.delivered != last:
        last = counters.delivered
        await asyncio.sleep(0.2)
    for session in sessions.values():
        session.on_body = None
    return max(0.0, (min(end, stopped) - start) / 1e9)


def sessions_partner(sender: Sender, senders: Sequence[Sender]) -> Session:
    """In one-to-one the senders come in pairs (a→b, b→a): the other one of the pair."""
    i = senders.index(sender)
    return senders[i ^ 1].session


def _write(sender: Sender, counters: Counters, size: int, n: int) -> None:
    now = time.monotonic_ns()
    stanza = sender.prefix + body_text(now, size) + sender.suffix
    sender.session.send(stanza * n)
    sender.sent += n
    counters.sent += n
    start, end = counters.window
    if start <= now < end:
        counters.measured_sent += n


def due_ranges(before: float, now: float, count: int) -> list[range]:
    """Which of ``count`` senders (sender i has offset i/count) may owe a message as the number of
    periods elapsed goes from ``before`` to ``now``: sender i sends when ``now + i/count`` passes an
    integer. Only those are visited, so many slow senders cost little; the ranges are widened by one
    on each side against rounding (a visited sender that owes nothing sends nothing)."""
    if now - before >= 1.0:
        return [range(count)]
    low, high = (-now) % 1.0, (-before) % 1.0
    first, last = max(0, int(low * count) - 1), min(count, int(high * count) + 2)
    if low <= high:
        return [range(first, last)]
    return [range(first, count), range(0, last)]


async def paced(senders: list[Sender], counters: Counters, size: int, rate: float, stop: asyncio.Event) -> None:
    """Open loop: each sender sends ``rate`` per second, whatever the server answers."""
    begin = time.monotonic()
    before = 0.0
    while not stop.is_set():
        periods = rate * (time.monotonic() - begin)
        for indices in due_ranges(before, periods, len(senders)):
            for i in indices:
                sender = senders[i]
                due = int(periods + sender.offset) - sender.sent
                if due > 0 and sender.session.closed is None:
                    _write(sender, counters, size, due)
        before = periods
        await asyncio.sleep(STEP)


async def windowed(sender: Sender, counters: Counters, size: int, stop: asyncio.Event) -> None:
    """Closed loop: keep ``window`` messages in flight; each delivery lets one more go."""
    loop = asyncio.get_running_loop()
    transport = sender.session.writer.transport
    while not stop.is_set() and sender.session.closed is None:
        if sender.credits <= 0:
            sender.wake = loop.create_future()
            await sender.wake
            sender.wake = None
            continue
        n, sender.credits = sender.credits, 0
        _write(sender, counters, size, n)
        if transport.get_write_buffer_size() > 1 << 20:
            await sender.session.writer.drain()
