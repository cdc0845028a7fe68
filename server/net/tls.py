"""TLS contexts for the listeners, and the server certificate for channel binding."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path

from scramp.core import CBindData

FIRST_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TlsSetup:
    context: ssl.SSLContext
    end_point_binding: bytes  # RFC 5929 tls-server-end-point data of the leaf, for SCRAM-PLUS


def end_point_binding(certificate_pem: str) -> bytes:
    """The tls-server-end-point channel-binding data of the first certificate in a PEM chain."""
    match = FIRST_CERTIFICATE.search(certificate_pem)
    if match is None:
        raise ValueError("no CERTIFICATE block in the certificate file")
    return bytes(CBindData.from_der(ssl.PEM_cert_to_DER_cert(match.group(0))))


def build_server_context(certificate: Path, key: Path) -> TlsSetup:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.load_cert_chain(str(certificate), str(key))
    context.set_alpn_protocols(["xmpp-client"])
    pem = certificate.read_text(encoding="ascii")
    return TlsSetup(context, end_point_binding(pem))
