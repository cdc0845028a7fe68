"""Issue 12, output side: a client that stops reading is closed once, and a fast sender to a slow
reader is paused instead of anything being dropped. Each case runs against a server in its own
process while a bystander pings every 100 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.stays_up import bystander, logged_in_raw, server_process
from tests.xmpp_harness import RawClient

RSS_BOUND_KIB = 200 * 1024  # the server stays under 200 MiB resident (it was 1 GB in 8 s)
POLICY_VIOLATIONS = "c2s/Stream errors sent[condition=policy-violation]"
BACKPRESSURE_PAUSES = "c2s/Reads paused[reason=backpressure]"
BODY = "x" * 64 * 1024


def shrink_receive_buffer(raw: RawClient, size: int = 4096) -> None:
    sock: socket.socket = raw.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


async def flood(sender: RawClient, to: str, count: int, kind: str, body: str = BODY) -> None:
    for index in range(count):
        await sender.send(f"<message to='{to}' type='{kind}' id='m{index}'><body>{index}:{body}</body></message>")


def flood_from_thread(sender: RawClient, to: str, count: int, stop: threading.Event) -> threading.Thread:
    """The same flood with blocking writes on a duplicate of the sender's socket, in a thread, so the
    attacker's work does not delay the bystander's event loop in this process."""
    sock = socket.socket(fileno=os.dup(sender.writer.get_extra_info("socket").fileno()))
    sock.setblocking(True)
    sock.settimeout(0.5)

    def run() -> None:
        with sock:
            index = 0
            while index < count and not stop.is_set():
                stanza = f"<message to='{to}' type='headline' id='m{index}'><body>{index}:{BODY}</body></message>"
                try:
                    sock.sendall(stanza.encode())
                except TimeoutError:
                    continue  # the server stopped reading us: try again unless told to stop
                except OSError:
                    return
                index += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def wait_metric(server: object, key: str, minimum: float, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        metrics = await server.metrics()  # type: ignore[attr-defined]
        if metrics.get(key, 0) >= minimum or time.monotonic() > deadline:
            return metrics
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    ("marks", "how"),
    [
        ('output_buffer_soft = "256KiB"\noutput_buffer_hard = "4MiB"\nslow_reader_timeout = "2s"', "stalled"),
        ('output_buffer_soft = "1MiB"\noutput_buffer_hard = "1MiB"', "hard mark"),
    ],
    ids=["slow-reader-timeout", "hard-mark"],
)
async def test_issue12_defect1_a_client_that_stops_reading_is_closed_once(tmp_path: Path, marks: str, how: str) -> None:
    """Defect 1: past the output limit the server recursed flush → close → flush for ever, never closed
    the stream and grew to 1 GB. Now the non-reading receiver gets one policy-violation and goes."""
    async with server_process(tmp_path, extra=f"\n[limits]\n{marks}\n") as server:
        async with bystander(server.plain_port) as watcher:
            await watcher.warm_up()
            receiver = await logged_in_raw(server.plain_port, "alice", "secret", resource="sink")
            shrink_receive_buffer(receiver)  # and it never reads again
            sender = await logged_in_raw(server.plain_port, "alice", "secret", resource="flood")
            stop = threading.Event()
            flooding = flood_from_thread(sender, "alice@localhost/sink", 400, stop)
            peak_rss = 0
            deadline = time.monotonic() + 20
            metrics = await server.metrics()
            while metrics.get(POLICY_VIOLATIONS, 0) < 1 and time.monotonic() < deadline:
                peak_rss = max(peak_rss, server.rss_kib())
                await asyncio.sleep(0.2)
                metrics = await server.metrics()
            stop.set()
            await asyncio.to_thread(flooding.join, 5)
            # The sender is not stuck once the receiver is gone: it still gets its ping answered.
            sender.received = b""
            with contextlib.suppress(OSError, ConnectionError):
                ping = "<iq type='get' id='after'><ping xmlns='urn:xmpp:ping'/></iq>"
                await asyncio.wait_for(sender.send(ping), 20)
            answered = await sender.read_until(b'id="after"', timeout=10)
            await asyncio.sleep(0.5)  # a second error would have been counted by now
            metrics = await server.metrics()
            peak_rss = max(peak_rss, server.rss_kib())
            sender.close()
            receiver.close()
        p99 = watcher.p99_ms()
        print(f"\n{how}: peak RSS {peak_rss} KiB, bystander p99 {p99:.1f} ms over {len(watcher.round_trips)}")
        assert metrics[POLICY_VIOLATIONS] == 1, f"closed by {how}: one policy-violation, got {metrics}"
        assert b"after" in answered
        assert "slow_reader_closed" in server.log_text() or "output_limit_closed" in server.log_text()
        assert peak_rss < RSS_BOUND_KIB, f"peak RSS {peak_rss} KiB"
        assert not watcher.failures and watcher.round_trips
        assert watcher.p99_ms() < 100.0, f"bystander p99 {watcher.p99_ms():.1f} ms"
    assert server.tracebacks() == 0


async def read_slowly(raw: RawClient, count: int, chunk: int, pause: float) -> list[int]:
    """Read ``chunk`` bytes every ``pause`` seconds until ``count`` message bodies arrived; their numbers."""
    seen: list[int] = []
    pattern = re.compile(rb"<body>(\d+):")
    buffer = bytearray()
    position = 0
    while len(seen) < count:
        data = await asyncio.wait_for(raw.reader.read(chunk), 20)
        if not data:
            raise ConnectionError(f"closed after {len(seen)} messages")
        buffer += data
        while (match := pattern.search(buffer, position)) is not None:
            seen.append(int(match.group(1)))
            position = match.end()
        if position > 1 << 20:
            del buffer[:position]
            position = 0
        await asyncio.sleep(pause)
    return seen


async def test_a_fast_sender_to_a_slow_reader_is_paused_and_nothing_is_dropped(tmp_path: Path) -> None:
    extra = '\n[limits]\noutput_buffer_soft = "256KiB"\noutput_buffer_hard = "16MiB"\nslow_reader_timeout = "20s"\n'
    count = 400  # 400 × 32 KiB = 12.5 MiB, well past what the kernel buffers on loopback (4 MiB)
    body = "y" * 32 * 1024
    async with server_process(tmp_path, extra=extra) as server:
        async with bystander(server.plain_port) as watcher:
            await watcher.warm_up()
            receiver = await logged_in_raw(server.plain_port, "alice", "secret", resource="slow")
            shrink_receive_buffer(receiver, 65536)
            sender = await logged_in_raw(server.plain_port, "alice", "secret", resource="fast")
            started = time.monotonic()
            reading = asyncio.get_running_loop().create_task(read_slowly(receiver, count, 65536, 0.01))
            await asyncio.wait_for(flood(sender, "alice@localhost/slow", count, "chat", body), 30)
            sender.received = b""
            await sender.send("<iq type='get' id='other'><ping xmlns='urn:xmpp:ping'/></iq>")
            other_traffic = await sender.read_until(b'id="other"', timeout=20)
            seen = await reading
            elapsed = time.monotonic() - started
            metrics = await server.metrics()
            rss = server.rss_kib()
            sender.close()
            receiver.close()
        pauses = metrics[BACKPRESSURE_PAUSES]
        print(f"\np99 {watcher.p99_ms():.1f} ms; {count} in {elapsed:.1f} s; pauses {pauses}; rss {rss} KiB")
        assert seen == list(range(count)), "every message arrives, in order"
        assert b"other" in other_traffic
        assert metrics[BACKPRESSURE_PAUSES] >= 1, "the sender was paused while the reader caught up"
        assert metrics.get(POLICY_VIOLATIONS, 0) == 0
        assert rss < RSS_BOUND_KIB
        assert not watcher.failures and watcher.p99_ms() < 100.0, f"bystander p99 {watcher.p99_ms():.1f} ms"
    assert server.tracebacks() == 0
