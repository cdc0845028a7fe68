"""Shared by the peer launchers: free ports, readiness polling, self-signed certificates, stopping."""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tigase_py.compat_tests.target import Account, Target

START_TIMEOUT = 30.0
PASSWORD = "compat-secret"
USERS = ("alice", "bob", "carol")


class PeerError(RuntimeError):
    """The throwaway server could not be started (binary missing, config refused, no port)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, log: Path | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise PeerError(f"the server exited with {process.returncode}{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise PeerError(f"nothing listened on 127.0.0.1:{port} within {timeout:g}s{tail(log)}")


def tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n  " + "\n  ".join(text) if text else ""


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group we started, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


def self_signed(domain: str, directory: Path, names: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """Write ``DOMAIN.crt`` and ``DOMAIN.key`` (RSA 2048, valid a day) into ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    alt = x509.SubjectAlternativeName([x509.DNSName(n) for n in (domain, *names)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(alt, critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{domain}.crt", directory / f"{domain}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o640)
    return cert_path, key_path


def loopback_target(
    name: str, domain: str, users: Sequence[str], ports: Mapping[str, int], bosh_path: str, websocket_path: str
) -> Target:
    """A full peer on loopback: STARTTLS c2s, in-band registration, ``admin``, BOSH and WebSocket over
    ``ports["http"]``, a component port; every account (and the component secret) uses ``PASSWORD``."""
    return Target(
        host="127.0.0.1",
        port=ports["c2s"],
        domain=domain,
        tls="starttls",
        accounts=[Account(f"{u}@{domain}", PASSWORD) for u in users],
        register=True,
        admin=Account(f"admin@{domain}", PASSWORD),
        bosh_url=f"http://127.0.0.1:{ports['http']}{bosh_path}",
        websocket_url=f"ws://127.0.0.1:{ports['http']}{websocket_path}",
        component_port=ports["component"],
        component_secret=PASSWORD,
        name=name,
        deviations=name,
    )
