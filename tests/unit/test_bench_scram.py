"""The benchmark's SCRAM client (bench/scram.py) against scramp's server, and its salted-password cache."""

from __future__ import annotations

import base64

import pytest
import scramp

from bench import scram


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_proof_accepted_by_scramp_server_and_server_signature_verified(mechanism: str) -> None:
    auth = scramp.ScramMechanism(mechanism).make_auth_info("pencil", iteration_count=4096)
    asked: list[str] = []
    server = scramp.ScramMechanism(mechanism).make_server(lambda name: asked.append(name) or auth)
    client = scram.ScramClient(mechanism, "user,=name", "pencil")
    server.set_client_first(client.first())
    final = client.final(server.get_server_first())
    server.set_client_final(final)  # raises when the proof is wrong
    assert asked == ["user,=name"]
    client.verify(server.get_server_final())


def test_wrong_password_is_refused_by_server() -> None:
    auth = scramp.ScramMechanism("SCRAM-SHA-1").make_auth_info("pencil", iteration_count=4096)
    server = scramp.ScramMechanism("SCRAM-SHA-1").make_server(lambda _name: auth)
    client = scram.ScramClient("SCRAM-SHA-1", "user", "pen")
    server.set_client_first(client.first())
    final = client.final(server.get_server_first())
    with pytest.raises(scramp.ScramException):
        server.set_client_final(final)


def test_forged_server_signature_is_refused() -> None:
    client = scram.ScramClient("SCRAM-SHA-1", "user", "pencil")
    client.first()
    salt = base64.b64encode(b"salt-salt").decode()
    client.final(f"r={client.nonce}XYZ,s={salt},i=4096")
    with pytest.raises(scram.ScramError):
        client.verify("v=" + base64.b64encode(b"x" * 20).decode())


def test_server_nonce_must_extend_client_nonce() -> None:
    client = scram.ScramClient("SCRAM-SHA-1", "user", "pencil")
    client.first()
    with pytest.raises(scram.ScramError):
        client.final("r=othernonce,s=c2FsdA==,i=4096")


def test_salted_password_is_computed_once_per_salt() -> None:
    scram._SALTED.clear()
    first = scram.salted_password("sha1", "pencil", b"salt-a", 4096)
    again = scram.salted_password("sha1", "pencil", b"salt-a", 4096)
    other = scram.salted_password("sha1", "pencil", b"salt-b", 4096)
    assert first is again
    assert other != first
    assert len(scram._SALTED) == 2
