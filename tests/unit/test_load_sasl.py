"""The load client's SASL (compat_tests/load/sasl.py, also the benchmark's): RFC vectors, scramp's server, the cache."""

from __future__ import annotations

import pytest
import scramp

from tigase_py.compat_tests.load import sasl


def test_scram_sha1_matches_rfc5802_example() -> None:
    client = sasl.ScramClient("SCRAM-SHA-1", "user", "pencil", nonce="fyko+d2lbbFgONRv9qkxdawL")
    assert client.first() == "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    final = client.final("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    assert final == "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    client.verify("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")


def test_scram_sha256_matches_rfc7677_example_and_caches_the_salted_password() -> None:
    sasl.clear_cache()
    server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    for _ in range(2):
        client = sasl.ScramClient("SCRAM-SHA-256", "user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
        final = client.final(server_first)
        assert final.endswith(",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        client.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert sasl.cache_size() == 1


def test_scram_rejects_a_forged_server_signature() -> None:
    client = sasl.ScramClient("SCRAM-SHA-1", "user", "pencil", nonce="abc")
    client.final("r=abcdef,s=QSXCR+Q6sek8bf92,i=16")
    with pytest.raises(sasl.SaslError):
        client.verify("v=AAAA")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_proof_accepted_by_scramp_server_and_server_signature_verified(mechanism: str) -> None:
    auth = scramp.ScramMechanism(mechanism).make_auth_info("pencil", iteration_count=4096)
    asked: list[str] = []
    server = scramp.ScramMechanism(mechanism).make_server(lambda name: asked.append(name) or auth)
    client = sasl.ScramClient(mechanism, "user,=name", "pencil")
    server.set_client_first(client.first())
    final = client.final(server.get_server_first())
    server.set_client_final(final)  # raises when the proof is wrong
    assert asked == ["user,=name"]
    client.verify(server.get_server_final())


def test_wrong_password_is_refused_by_server() -> None:
    auth = scramp.ScramMechanism("SCRAM-SHA-1").make_auth_info("pencil", iteration_count=4096)
    server = scramp.ScramMechanism("SCRAM-SHA-1").make_server(lambda _name: auth)
    client = sasl.ScramClient("SCRAM-SHA-1", "user", "pen")
    server.set_client_first(client.first())
    final = client.final(server.get_server_first())
    with pytest.raises(scramp.ScramException):
        server.set_client_final(final)


def test_server_nonce_must_extend_client_nonce() -> None:
    client = sasl.ScramClient("SCRAM-SHA-1", "user", "pencil")
    client.first()
    with pytest.raises(sasl.SaslError):
        client.final("r=othernonce,s=c2FsdA==,i=4096")


def test_salted_password_is_computed_once_per_salt() -> None:
    sasl.clear_cache()
    first = sasl.salted_password("sha1", "pencil", b"salt-a", 4096)
    again = sasl.salted_password("sha1", "pencil", b"salt-a", 4096)
    other = sasl.salted_password("sha1", "pencil", b"salt-b", 4096)
    assert first is again
    assert other != first
    assert sasl.cache_size() == 2
