"""Self-signed certificates for a fresh install (``tigase-py init``).

``cryptography`` is imported inside the function so importing this module stays cheap.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

VALIDITY_DAYS = 3650


def write_self_signed(vhost: str, directory: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write ``<directory>/<vhost>.crt`` and ``.key`` (EC P-256, SAN DNS=vhost, 10 years).

    An existing pair is kept unless ``force``; the key file is created with mode 0600.
    """
    certificate = directory / f"{vhost}.crt"
    key = directory / f"{vhost}.key"
    if certificate.is_file() and key.is_file() and not force:
        return certificate, key

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, vhost)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(vhost)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_bytes = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key_bytes)
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return certificate, key
