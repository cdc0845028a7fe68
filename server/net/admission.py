"""Who may open a connection: the server-wide cap, and per address a new-connection rate and a cap on
connections that have not yet established a session. Trusted networks skip the per-address limits.

    refusal = admission.admit("203.0.113.7", open_connections=120, trusted=False)
    if refusal is not None: ...                  # (metric reason, stream error condition, text)
    admission.release_pre_auth("203.0.113.7")     # bound a session, or closed before it did
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tigase_py.server.core import networks

if TYPE_CHECKING:
    from tigase_py.server.config.schema import LimitsConfig

Refusal = tuple[str, str, str]  # metric reason, stream error condition, text
FORGET_AFTER = 300.0  # seconds an idle per-address record is kept
FD_RESERVE = 32  # descriptors kept free for HTTP, storage and logs when clients exhaust the limit
FD_LOG_INTERVAL = 10.0
FD_RECENT = 60.0  # seconds after the last refusal that health still reports exhaustion

log = logging.getLogger("tigase_py.c2s")


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; :meth:`take` returns the seconds until it is paid."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, amount: float, now: float) -> float:
        """Spend ``amount`` (the balance may go negative); the wait until it is back to zero."""
        self.refill(now)
        self.tokens -= amount
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass(slots=True)
class Address:
    bucket: TokenBucket
    pre_auth: int = 0
    seen: float = 0.0


class Admission:
    """Connection admission for the c2s listeners (shared by all of them)."""

    def __init__(self, limits: LimitsConfig) -> None:
        self.limits = limits
        self.trusted = networks.TrustedNetworks(limits.trusted_networks)
        self.addresses: dict[str, Address] = {}
        self._swept = time.monotonic()
        self.fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.fd_exhausted = 0  # refusals and failed accepts for lack of descriptors
        self.fd_exhausted_at = 0.0
        self._fd_logged = 0.0

    def out_of_fds(self, detail: str) -> None:
        """Count a connection lost to the open-files limit; log it at most once per interval."""
        now = time.monotonic()
        self.fd_exhausted += 1
        self.fd_exhausted_at = now
        if now - self._fd_logged >= FD_LOG_INTERVAL:
            self._fd_logged = now
            log.error(
                "too many open files: refusing client connections (%s, limit %d; %d so far); "
                "raise LimitNOFILE / ulimit -n or lower max_connections",
                detail,
                self.fd_limit,
                self.fd_exhausted,
            )

    @property
    def is_fd_exhausted(self) -> bool:
        return self.fd_exhausted_at > 0 and time.monotonic() - self.fd_exhausted_at < FD_RECENT

    def check_fds(self, transport: object) -> Refusal | None:
        """Refuse while the new socket's descriptor is within FD_RESERVE of the open-files limit
        (descriptors are allocated lowest-first, so its number tracks how many are open)."""
        sock = getattr(transport, "get_extra_info", lambda _name: None)("socket")
        fileno = sock.fileno() if sock is not None else -1
        if fileno < 0 or fileno < self.fd_limit - FD_RESERVE:
            return None
        self.out_of_fds(f"descriptor {fileno}")
        return ("fd_limit", "resource-constraint", "the server is out of file descriptors")

    def is_trusted(self, ip: str) -> bool:
        return ip in self.trusted

    def admit(self, ip: str, open_connections: int, trusted: bool) -> Refusal | None:
        """Count a new connection from ``ip``; return why it is refused, or None."""
        if open_connections >= self.limits.max_connections:
            return ("max_connections", "resource-constraint", "the server has reached its connection limit")
        if trusted:
            return None
        now = time.monotonic()
        self._forget_idle(now)
        entry = self.addresses.get(ip)
        if entry is None:
            bucket = TokenBucket(self.limits.ip_connection_rate, self.limits.ip_connection_burst, now)
            entry = self.addresses[ip] = Address(bucket)
        entry.seen = now
        if entry.bucket.take(1, now) > 0:
            entry.bucket.tokens += 1  # a refused attempt does not dig the hole deeper
            return ("ip_rate", "policy-violation", "too many new connections from your address; slow down")
        if entry.pre_auth >= self.limits.max_pre_auth_per_ip:
            return ("ip_pre_auth", "policy-violation", "too many unauthenticated connections from your address")
        entry.pre_auth += 1
        return None

    def release_pre_auth(self, ip: str) -> None:
        """A connection from ``ip`` left the pre-auth state (it bound a session, or it closed)."""
        entry = self.addresses.get(ip)
        if entry is not None and entry.pre_auth > 0:
            entry.pre_auth -= 1

    def _forget_idle(self, now: float) -> None:
        if now - self._swept < FORGET_AFTER:
            return
        self._swept = now
        stale = [ip for ip, entry in self.addresses.items() if entry.pre_auth == 0 and now - entry.seen > FORGET_AFTER]
        for ip in stale:
            del self.addresses[ip]
