"""Account probing by timing: how long PLAIN and SCRAM take for an existing versus a missing account.

    python -m bench.auth_probing [--rounds 300]

Starts a server in its own process (loopback listed in trusted_networks, so the login throttle stays out
of the way), creates one account, then alternates attempts for it and for an unknown name on one stream
each and prints the median and p90 of each case in milliseconds. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.local_server import DOMAIN, create_users, free_port, wait_for_port

SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
HEADER = (
    "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)


def write_config(directory: Path, port: int) -> Path:
    from tigase_py.compat_tests.peers.tigase_py_config import Listener, render_config
    from tigase_py.server.config.certs import write_self_signed

    cert, key = write_self_signed(DOMAIN, directory / "certs")
    text = render_config(
        vhosts=[DOMAIN],
        storage_url=f"sqlite+aiosqlite:///{directory / 'tigase.db'}",
        certificate=cert,
        key=key,
        listeners=[Listener(port, "none", require_tls=False)],
        limits={"trusted_networks": ["127.0.0.0/8"]},
        auth={"allow_plain_without_tls": True},
        http_port=free_port(),
    )
    path = directory / "tigase.toml"
    path.write_text(text)
    return path


class Stream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.buffer = reader, writer, b""

    @classmethod
    async def open(cls, port: int) -> Stream:
        stream = cls(*await asyncio.open_connection("127.0.0.1", port))
        stream.writer.write(HEADER.encode())
        await stream.until(b"</stream:features>")
        return stream

    async def until(self, *markers: bytes) -> bytes:
        while not any(marker in self.buffer for marker in markers):
            chunk = await self.reader.read(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer, b""
        return data

    async def timed(self, stanza: str, *markers: bytes) -> float:
        start = time.perf_counter()
        self.writer.write(stanza.encode())
        await self.until(*markers)
        return (time.perf_counter() - start) * 1000


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def measure(port: int, rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    plain = await Stream.open(port)
    scram = await Stream.open(port)
    for index in range(rounds):
        for label, user in (("existing", "alice"), ("missing", f"ghost{index % 7}")):
            token = b64("\0" + user + "\0wrong-password")
            auth = f"<auth xmlns='{SASL}' mechanism='PLAIN'>{token}</auth>"
            results.setdefault(f"PLAIN wrong password, {label}", []).append(await plain.timed(auth, b"</failure>"))
            first = f"<auth xmlns='{SASL}' mechanism='SCRAM-SHA-256'>{b64(f'n,,n={user},r=nonce{index}')}</auth>"
            results.setdefault(f"SCRAM challenge, {label}", []).append(await scram.timed(first, b"</challenge>"))
            scram.writer.write(f"<abort xmlns='{SASL}'/>".encode())
            await scram.until(b"</failure>")
    return results


def report(results: dict[str, list[float]]) -> None:
    print(f"{'case':40} {'median ms':>10} {'p90 ms':>10}  n")
    for name, samples in sorted(results.items()):
        ordered = sorted(samples)
        p90 = ordered[int(len(ordered) * 0.9) - 1]
        print(f"{name:40} {statistics.median(ordered):10.3f} {p90:10.3f}  {len(ordered)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        port = free_port()
        config = write_config(directory, port)
        asyncio.run(create_users(directory, ["alice"]))
        server = subprocess.Popen(
            [sys.executable, "-m", "tigase_py.server", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_for_port(port, server)
            report(asyncio.run(measure(port, args.rounds)))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
