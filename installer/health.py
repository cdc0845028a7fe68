"""Check a fresh install from the controller: an XMPP stream opens, the HTTP health endpoint answers."""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

STREAM_OPEN = (
    "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def xmpp(address: str, port: int, domain: str, timeout: float = 10.0) -> Check:
    """Open a client stream and wait for the server's stream features."""
    deadline = time.monotonic() + timeout
    received = b""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.sendall(STREAM_OPEN.format(domain=domain).encode())
            while b"</stream:features>" not in received:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    return Check("xmpp", False, f"{address}:{port} closed the stream before its features")
                received += chunk
    except OSError as exc:
        return Check("xmpp", False, f"{address}:{port}: {exc.strerror or exc}")
    return Check("xmpp", True, f"{address}:{port} offers stream features for {domain}")


def http(address: str, port: int, timeout: float = 10.0) -> Check:
    url = f"http://{address}:{port}/api/v1/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Check("http", response.status == 200, f"{url} answered {response.status}")
    except urllib.error.HTTPError as exc:
        return Check("http", False, f"{url} answered {exc.code}")
    except OSError as exc:
        return Check("http", False, f"{url}: {exc}")


def check_host(address: str, c2s_port: int, http_port: int, domain: str) -> list[Check]:
    """XMPP always; HTTP from here only when the host is this machine (the API listens on loopback)."""
    checks = [xmpp(address, c2s_port, domain)]
    if is_loopback(address):
        checks.append(http(address, http_port))
    return checks
