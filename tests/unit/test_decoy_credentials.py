"""Decoy SCRAM credentials for unknown accounts and the server secret they come from (issue 12, defect 5)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tigase_py.server.storage import users as users_module
from tigase_py.server.storage.engine import Storage


def test_decoys_are_stable_per_name_and_shaped_like_real_credentials() -> None:
    secret = b"s" * 32
    first = users_module.decoy_credentials(secret, "ghost", "example.com", "SHA-256", 4096)
    assert first == users_module.decoy_credentials(secret, "ghost", "example.com", "SHA-256", 4096)
    assert len(first.salt) == 32 and len(first.stored_key) == len(first.server_key) == 32
    sha1 = users_module.decoy_credentials(secret, "ghost", "example.com", "SHA-1", 4096)
    assert len(sha1.salt) == 32 and len(sha1.stored_key) == 20 and sha1.salt != first.salt
    assert users_module.decoy_credentials(secret, "ghost2", "example.com", "SHA-256", 4096).salt != first.salt
    assert users_module.decoy_credentials(b"t" * 32, "ghost", "example.com", "SHA-256", 4096).salt != first.salt


def test_secret_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "server-secret"
    secret = users_module.load_secret(path)
    assert len(secret) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert users_module.load_secret(path) == secret
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        users_module.load_secret(path)


async def test_unknown_account_gets_decoy_with_the_store_iterations(storage: Storage) -> None:
    storage.users.iterations = 5000
    await storage.users.create("alice", "example.com", "pw")
    real = await storage.users.get_scram_or_decoy("alice", "example.com", "SHA-256")
    decoy = await storage.users.get_scram_or_decoy("ghost", "example.com", "SHA-256")
    assert real.iterations == decoy.iterations == 5000 and len(real.salt) == len(decoy.salt)
    assert not await storage.users.verify_password("ghost", "example.com", "pw")  # does the PBKDF2 work too
