"""Memory stays bounded under sustained one-to-one chat: no growth per message once warmed up.

Two accounts log in over STARTTLS + SCRAM-SHA-1 with the benchmark's raw client and exchange batches of
chat messages through an in-process server. After a warm-up, the process RSS and the number of
gc-tracked objects are sampled against the delivered count; a leak of even one object or a few dozen
bytes per message shows up as a count growing with traffic and a steep RSS slope.

The CI case runs about 20 s of traffic; the ``slow`` case runs five minutes and is only run when
``TIGASE_SLOW=1`` is set (``bench/soak.py`` is the ten-minute, out-of-process version).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from pathlib import Path

import pytest

from bench.client import XmppClient, insecure_context, login
from bench.soak import slope_per_million
from bench.stats import rss_kib
from tests.xmpp_harness import running_server

BATCH = 200
MARKER = b"</message>"
# A leaked element tree per message is ~1 KiB: about 1 GiB per million (measured: ~750 MiB when every
# stanza was kept). Without a leak the slope measured ~0.05 MiB per million; 4 MiB leaves room for noise.
MAX_SLOPE_KIB_PER_MILLION = 4 * 1024
MAX_OBJECT_GROWTH = 3000


async def exchange(sender: XmppClient, receiver: XmppClient, count: int) -> None:
    """Send ``count`` chat messages and wait until all of them arrived."""
    stanza = f"<message to='{receiver.jid}' type='chat'><body>soak</body></message>".encode()
    sender.writer.write(stanza * count)
    got, tail = 0, b""
    while got < count:
        data = await asyncio.wait_for(receiver.reader.read(1 << 16), 10)
        assert data, "the server closed the stream"
        buffer = tail + data
        assert b"<stream:error" not in buffer, buffer[-300:]
        got += buffer.count(MARKER)
        tail = buffer[-(len(MARKER) - 1) :]
    assert got == count


def object_count() -> int:
    gc.collect()
    return len(gc.get_objects())


async def soak(tmp_path: Path, warmup_s: float, measure_s: float) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost", "secret")
        await handle.add_user("bob@localhost", "secret")
        context = insecure_context()
        port = handle.starttls_port
        alice = await login("127.0.0.1", port, "localhost", "alice", "secret", "a", context, "SCRAM-SHA-1")
        bob = await login("127.0.0.1", port, "localhost", "bob", "secret", "b", context, "SCRAM-SHA-1")
        try:
            delivered = 0
            deadline = time.monotonic() + warmup_s
            while time.monotonic() < deadline:
                await exchange(alice, bob, BATCH)
                await exchange(bob, alice, BATCH)
                delivered += 2 * BATCH
            objects_before = object_count()
            samples: list[tuple[int, int]] = []
            measured = 0
            deadline = time.monotonic() + measure_s
            while time.monotonic() < deadline:
                for _ in range(10):
                    await exchange(alice, bob, BATCH)
                    await exchange(bob, alice, BATCH)
                    measured += 2 * BATCH
                samples.append((measured, rss_kib(os.getpid())))
            objects_after = object_count()
        finally:
            await alice.close()
            await bob.close()
    assert delivered > 0 and measured >= 20 * BATCH * 5, f"too little traffic to judge ({measured} messages)"
    growth = objects_after - objects_before
    assert growth < MAX_OBJECT_GROWTH, f"{growth} more live objects after {measured} messages"
    slope = slope_per_million(samples)
    assert slope < MAX_SLOPE_KIB_PER_MILLION, f"RSS grows {slope:.0f} KiB per 1M messages ({samples})"


@pytest.mark.timeout(90)
async def test_memory_flat_under_chat_traffic(tmp_path: Path) -> None:
    await soak(tmp_path, warmup_s=5.0, measure_s=20.0)


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.skipif(os.environ.get("TIGASE_SLOW") != "1", reason="five-minute soak; set TIGASE_SLOW=1")
async def test_memory_flat_under_chat_traffic_five_minutes(tmp_path: Path) -> None:
    await soak(tmp_path, warmup_s=30.0, measure_s=300.0)
