"""CPU a hostile unfinished tag costs the server, and what a pinging bystander sees meanwhile.

    python3 bench/hostile_xml.py [--mib 50] [--trickle 3000]

Starts a server in its own process (the interpreter running this script decides which tigase-py is
measured), logs a bystander in, then per case opens one attacking connection and sends:

- ``header``: ``<stream:stream to='`` followed by ``a`` in 64 KiB writes, before authentication;
- ``stanza``: after logging in, ``<message to='`` followed by ``a`` in 64 KiB writes;
- ``trickle``: after logging in, ``<message to='`` and 200 KiB of ``a``, then one byte per write
  (TCP_NODELAY), the read pattern that makes expat re-scan the unfinished tag on every read.

For each case it prints the bytes the server took before closing the connection, the server's CPU
seconds (utime + stime from /proc/PID/stat), the wall time and the bystander's p99 and worst ping.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stays_up import bystander, logged_in_raw, server_process
from tests.xmpp_harness import RawClient

CHUNK = 64 * 1024
CASE_SECONDS = 60.0
HEADER_PREFIX = (
    b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' to='"
)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def send_until_closed(raw: RawClient, prefix: bytes, total: int, chunk: int, deadline: float) -> int:
    """Write ``prefix`` then ``a`` bytes; return how many were written before the server hung up."""
    sent = 0
    payload = b"a" * chunk
    with contextlib.suppress(OSError, ConnectionError):
        await raw.send(prefix)
        sent = len(prefix)
        while sent < total and time.monotonic() < deadline and not raw.reader.at_eof():
            await raw.send(payload)
            sent += chunk
    return sent


async def run_case(name: str, port: int, pid: int, total: int, trickle: int) -> dict[str, object]:
    async with bystander(port) as watcher:
        before = cpu_seconds(pid)
        started = time.monotonic()
        deadline = started + CASE_SECONDS
        if name == "header":
            raw = await RawClient.connect(port)
            sent = await send_until_closed(raw, HEADER_PREFIX, total, CHUNK, deadline)
        elif name == "stanza":
            raw = await logged_in_raw(port, "alice", "secret", resource="attacker")
            sent = await send_until_closed(raw, b"<message to='", total, CHUNK, deadline)
        else:
            raw = await logged_in_raw(port, "alice", "secret", resource="trickler")
            sock = raw.writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sent = await send_until_closed(raw, b"<message to='" + b"a" * 200 * 1024, 0, 1, deadline)
            with contextlib.suppress(OSError, ConnectionError):
                for _ in range(trickle):
                    if time.monotonic() > deadline or raw.reader.at_eof():
                        break
                    await raw.send(b"a")
                    sent += 1
        with contextlib.suppress(TimeoutError, OSError, ConnectionError):
            await raw.read_to_close(timeout=max(1.0, deadline - time.monotonic()))
        closed_by_server = b"policy-violation" in raw.received
        raw.close()
        wall = time.monotonic() - started
        cpu = cpu_seconds(pid) - before
        await asyncio.sleep(0.5)
    worst = max(watcher.round_trips, default=float("inf")) * 1000
    return {
        "case": name,
        "sent_bytes": sent,
        "error_read": closed_by_server,
        "server_cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "bystander_p99_ms": round(watcher.p99_ms(), 1),
        "bystander_max_ms": round(worst, 1),
        "bystander_failures": len(watcher.failures),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=50, help="MiB of 'a' per flood case")
    parser.add_argument("--trickle", type=int, default=3000, help="one-byte writes in the trickle case")
    parser.add_argument("--cases", nargs="*", default=["header", "stanza", "trickle"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        async with server_process(Path(directory), extra='[limits]\npre_auth_timeout = "120s"\n') as server:
            for case in args.cases:
                result = await run_case(case, server.plain_port, server.pid, args.mib * 1024 * 1024, args.trickle)
                print(" | ".join(f"{key}={value}" for key, value in result.items()), flush=True)
            print(f"rss_kib={server.rss_kib()} tracebacks={server.tracebacks()}")


if __name__ == "__main__":
    asyncio.run(main())
