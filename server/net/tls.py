"""TLS contexts for the listeners, and the server certificate for channel binding."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TlsSetup:
    context: ssl.SSLContext
    certificate_pem: str  # for SCRAM-PLUS tls-server-end-point channel binding


def build_server_context(certificate: Path, key: Path) -> TlsSetup:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.load_cert_chain(str(certificate), str(key))
    context.set_alpn_protocols(["xmpp-client"])
    pem = certificate.read_text(encoding="ascii")
    return TlsSetup(context, pem)
