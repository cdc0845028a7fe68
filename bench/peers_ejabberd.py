"""A fresh Debian ejabberd 23.01 for ``bench/peers.py``, set up like the other two peers.

The compat suite's throwaway node (``compat_tests/peers/ejabberd.py``: own node name, cookie and
distribution port, STARTTLS required, the ``c2s_shaper`` set to ``none``) with SCRAM credential storage
(``auth_password_format: scram``), logs at warning and no message archive (mod_mam off, as the other
two keep none). Debian's ejabberd is built without Lua, so it
cannot import Prosody's account files; the accounts are made by in-band registration (XEP-0077) over
STARTTLS, ``REGISTER_CONCURRENCY`` at a time. ejabberd picks a fresh salt per account, so unlike the
other two peers the generator runs PBKDF2 once per account at login: its login rate is not comparable.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tigase_py.compat_tests.peers import ejabberd
from tigase_py.compat_tests.peers.common import PeerError, free_port, wait_for_port

REGISTER_CONCURRENCY = 32
STREAM = (
    "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)


async def _read_until(reader: asyncio.StreamReader, buffer: bytearray, *markers: bytes) -> bytes:
    while not any(m in buffer for m in markers):
        chunk = await reader.read(65536)
        if not chunk:
            raise PeerError(f"ejabberd closed the stream: {bytes(buffer[-300:])!r}")
        buffer += chunk
    data = bytes(buffer)
    buffer.clear()
    return data


async def _register_one(port: int, domain: str, username: str, password: str, context: ssl.SSLContext) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buffer = bytearray()
    try:
        writer.write(STREAM.format(domain=domain).encode())
        await _read_until(reader, buffer, b"</stream:features>")
        writer.write(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await _read_until(reader, buffer, b"<proceed")
        await writer.start_tls(context, server_hostname=domain)
        writer.write(STREAM.format(domain=domain).encode())
        await _read_until(reader, buffer, b"</stream:features>")
        writer.write(
            f"<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>{username}</username>"
            f"<password>{password}</password></query></iq>".encode()
        )
        reply = await _read_until(reader, buffer, b"</iq>", b"/>")
        if b"type='result'" not in reply and b'type="result"' not in reply:
            raise PeerError(f"registering {username} failed: {reply[:300]!r}")
        writer.write(b"</stream:stream>")
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def register(port: int, domain: str, names: list[str], password: str) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    gate = asyncio.Semaphore(REGISTER_CONCURRENCY)

    async def one(name: str) -> None:
        async with gate:
            await asyncio.wait_for(_register_one(port, domain, name, password, context), 60)

    await asyncio.gather(*(one(n) for n in names))


def node_pid_when_up(directory: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = ejabberd.node_pid(directory)
        if pid is not None:
            return pid
        if process.poll() is not None:
            raise PeerError(f"ejabberd exited with {process.returncode}")
        time.sleep(0.1)
    raise PeerError("ejabberd wrote no pidfile")


@contextlib.contextmanager
def running(names: list[str], password: str, timeout: float = 60.0) -> Iterator[tuple[int, int]]:
    """A fresh ejabberd with ``names`` registered; yields (c2s port, beam PID); stopped on exit."""
    ejabberd.check_installed()
    with tempfile.TemporaryDirectory(prefix="peers-ejabberd-", dir=ejabberd.temp_parent()) as tmp:
        directory = Path(tmp)
        ports = {name: free_port() for name in ("c2s", "direct", "http", "component", "dist")}
        node = f"peers{secrets.token_hex(4)}@localhost"
        config, ctl_config = ejabberd.prepare(directory, ports, node, secrets.token_hex(16))
        text = config.read_text().replace("loglevel: info", "loglevel: warning")
        # No message archive: the other two peers keep none either (and Mnesia MAM caps chat at ~300/s).
        text = text.replace("  mod_mam:\n    default: always\n", "").replace(
            "    default_room_options:\n      mam: true\n", ""
        )
        config.write_text(text + "\nauth_password_format: scram\n")
        ctl = ejabberd.ctl_args(directory, config, ctl_config)
        with open(directory / "stdout.log", "wb") as out:
            process = subprocess.Popen(
                [*ctl, "foreground"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=directory, start_new_session=True,
            )  # fmt: skip
        try:
            wait_for_port(ports["c2s"], process, directory / "logs" / "ejabberd.log", timeout)
            asyncio.run(register(ports["c2s"], ejabberd.DOMAIN, names, password))
            yield ports["c2s"], node_pid_when_up(directory, process, timeout)
        finally:
            ejabberd.shutdown(ctl, process, directory, node)
