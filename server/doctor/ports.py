"""The ports check: every configured listener's port is free, or held by the running server itself.

A port that cannot be bound is traced to the listening socket's inode in /proc/net/{tcp,udp}[6]
and from there to the server's descriptors; a port held by anything else is a problem.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from tigase_py.server.doctor.model import Finding, ok, problem

NAME = "ports"
TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"


@dataclass(frozen=True, slots=True)
class Port:
    purpose: str  # "c2s", "http", "snmp"
    address: str
    port: int
    udp: bool = False

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.purpose} {host}:{self.port}/{'udp' if self.udp else 'tcp'}"


def bind_error(port: Port) -> OSError | None:
    """None when the port could be bound now (it is free), else the error."""
    family = socket.AF_INET6 if ":" in port.address else socket.AF_INET
    kind = socket.SOCK_DGRAM if port.udp else socket.SOCK_STREAM
    with socket.socket(family, kind) as probe:
        if not port.udp:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's listeners do
        try:
            probe.bind((port.address, port.port))
        except OSError as exc:
            return exc
    return None


def socket_inodes(port: Port) -> set[str]:
    """Inodes of the sockets bound to `port.port` (listening, for TCP) in this network namespace."""
    inodes: set[str] = set()
    for table in ("udp", "udp6") if port.udp else ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local_port = int(fields[1].rpartition(":")[2], 16)
            state = fields[3]
            if local_port == port.port and state == (UDP_UNCONNECTED if port.udp else TCP_LISTEN):
                inodes.add(fields[9])
    return inodes


def held_by(pid: int, inodes: set[str]) -> bool:
    """Whether process `pid` has one of these sockets open (needs permission to read its fds)."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return True
            except OSError:
                continue
    except OSError:
        return False
    return False


def port_findings(ports: list[Port], server_pid: int | None) -> list[Finding]:
    found: list[Finding] = []
    for port in ports:
        error = bind_error(port)
        subject = str(port)
        if error is None:
            found.append(ok(NAME, subject, "free"))
        elif error.errno == errno.EADDRINUSE:
            if server_pid is not None and held_by(server_pid, socket_inodes(port)):
                found.append(ok(NAME, subject, f"held by the running server (pid {server_pid})"))
            else:
                found.append(problem(NAME, subject, "in use by another process"))
        elif error.errno == errno.EACCES:
            found.append(problem(NAME, subject, "permission denied: ports below 1024 need CAP_NET_BIND_SERVICE"))
        elif error.errno == errno.EADDRNOTAVAIL:
            found.append(problem(NAME, subject, "address not available on this host"))
        else:
            found.append(problem(NAME, subject, f"cannot bind: {error.strerror or error}"))
    return found
