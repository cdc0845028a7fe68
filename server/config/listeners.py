"""Every endpoint a config makes the server open, in one list: for ``config check``, ``server start``
and the server's start-up log line, so no listener (HTTP, SNMP) goes unmentioned."""

from __future__ import annotations

from dataclasses import dataclass

from tigase_py.server.config.schema import ServerConfig

HTTP_SERVES = "REST API, /metrics, /jolokia"


@dataclass(frozen=True, slots=True)
class Endpoint:
    kind: str  # c2s | http | snmp
    address: str
    port: int
    detail: str  # c2s: its TLS mode; http/snmp: what it serves

    @property
    def where(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.kind} {self.where} ({self.detail})"

    def as_dict(self) -> dict[str, object]:
        tls = self.detail if self.kind == "c2s" else None
        return {"type": self.kind, "address": self.address, "port": self.port, "tls": tls, "detail": self.detail}


def endpoints(config: ServerConfig) -> list[Endpoint]:
    """The ``[[listeners]]`` in order, then ``[http]`` and ``[snmp]`` when enabled."""
    found = [Endpoint(item.kind, item.address, item.port, item.tls) for item in config.listeners]
    if config.http.enabled:
        found.append(Endpoint("http", config.http.address, config.http.port, HTTP_SERVES))
    if config.snmp.enabled:
        versions = ("v2c, " if config.snmp.community is not None else "") + "v3" * bool(config.snmp.users)
        found.append(Endpoint("snmp", config.snmp.address, config.snmp.port, f"udp {versions.rstrip(', ')}".strip()))
    return found


def listening_on(config: ServerConfig) -> str:
    """One line: ``c2s 127.0.0.1:5222 (starttls), ..., http 127.0.0.1:5280 (REST API, /metrics, /jolokia)``."""
    return ", ".join(str(endpoint) for endpoint in endpoints(config))
