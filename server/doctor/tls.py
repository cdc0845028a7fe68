"""The certificate check: it loads, it is valid now and for a while, its key matches, and its
subjectAltNames cover every vhost (RFC 6125 DNS-ID, with one leftmost wildcard label)."""

from __future__ import annotations

import datetime
from pathlib import Path

from tigase_py.server.doctor.model import Finding, ok, problem, skipped, warning

NAME = "certificates"
WARN_DAYS = 14


def covers(pattern: str, host: str) -> bool:
    """Whether a DNS-ID from the certificate matches `host`: exact, or `*.` for one leftmost label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern == host:
        return True
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return False


def dns_names(certificate: object) -> list[str]:
    from cryptography import x509

    assert isinstance(certificate, x509.Certificate)
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(extension.value.get_values_for_type(x509.DNSName))


def key_matches(certificate: object, key_path: Path) -> str | None:
    """None when the private key loads and belongs to the certificate, else why not."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    assert isinstance(certificate, x509.Certificate)
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        return f"cannot load the key {key_path}: {exc}"
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, public)
    theirs = certificate.public_key().public_bytes(serialization.Encoding.DER, public)
    return None if mine == theirs else f"the key {key_path} does not belong to this certificate"


def certificates(
    cert_path: Path | None, key_path: Path | None, vhosts: tuple[str, ...], now: datetime.datetime
) -> list[Finding]:
    if cert_path is None or key_path is None:
        return [skipped(NAME, "[tls]", "no certificate configured: STARTTLS and direct TLS are off")]
    from cryptography import x509

    subject = str(cert_path)
    try:
        chain = x509.load_pem_x509_certificates(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        return [problem(NAME, subject, f"cannot load: {exc}")]
    leaf = chain[0]
    found: list[Finding] = []
    not_after = leaf.not_valid_after_utc
    days_left = (not_after - now).total_seconds() / 86400
    expiry = not_after.strftime("%Y-%m-%d")
    if leaf.not_valid_before_utc > now:
        found.append(problem(NAME, subject, f"not valid before {leaf.not_valid_before_utc:%Y-%m-%d}"))
    elif days_left < 0:
        found.append(problem(NAME, subject, f"expired on {expiry}"))
    elif days_left < WARN_DAYS:
        found.append(warning(NAME, subject, f"expires on {expiry}, in {days_left:.0f} days"))
    else:
        found.append(ok(NAME, subject, f"valid until {expiry} ({days_left:.0f} days)"))
    mismatch = key_matches(leaf, key_path)
    if mismatch is not None:
        found.append(problem(NAME, str(key_path), mismatch))
    names = dns_names(leaf)
    for vhost in vhosts:
        matching = [name for name in names if covers(name, vhost)]
        if matching:
            found.append(ok(NAME, vhost, f"covered by subjectAltName {matching[0]}"))
        else:
            listed = ", ".join(names) or "none"
            found.append(problem(NAME, vhost, f"not in the certificate's subjectAltNames ({listed})"))
    return found
