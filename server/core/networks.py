"""Trusted networks: the ``[limits] trusted_networks`` allow-list shared by admission and login throttles."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(ip: str) -> Address | None:
    """The peer address without an IPv6 zone, IPv4-mapped IPv6 as IPv4; None when it is not an address."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedNetworks:
    """Membership test over CIDR networks (``"10.0.0.0/8"``, ``"::1/128"``)."""

    __slots__ = ("networks",)

    def __init__(self, cidrs: Iterable[str]) -> None:
        self.networks = tuple(ipaddress.ip_network(text, strict=False) for text in cidrs)

    def __contains__(self, ip: object) -> bool:
        address = parse_address(ip) if isinstance(ip, str) else None
        return address is not None and any(address in network for network in self.networks)
