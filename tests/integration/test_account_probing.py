"""Account probing (issue 12, defect 5): a SCRAM challenge for an unknown account looks like a real one
(same salt length and iterations, stable across connections and restarts), from a 0600 server secret."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

from tests.login_attempts import SASL
from tests.xmpp_harness import RawClient, running_server


async def scram_challenge(port: int, user: str) -> tuple[bytes, int]:
    """The salt and iteration count a SCRAM-SHA-256 server-first message offers for ``user``."""
    raw = await RawClient.connect(port)
    try:
        await raw.open_stream()
        raw.received = b""
        first = base64.b64encode(f"n,,n={user},r=clientnonce0123".encode()).decode()
        await raw.send(f"<auth xmlns='{SASL}' mechanism='SCRAM-SHA-256'>{first}</auth>")
        data = (await raw.read_until(b"</challenge>")).decode()
    finally:
        raw.close()
    text = base64.b64decode(data.split("<challenge", 1)[1].split(">", 1)[1].split("<", 1)[0]).decode()
    fields = dict(part.split("=", 1) for part in text.split(","))
    return base64.b64decode(fields["s"]), int(fields["i"])


async def test_unknown_accounts_get_stable_salts_like_real_ones(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        real_salt, real_iterations = await scram_challenge(handle.plain_port, "alice")
        ghost = await scram_challenge(handle.plain_port, "ghost")
        assert ghost == await scram_challenge(handle.plain_port, "ghost")  # stable across connections
        other = await scram_challenge(handle.plain_port, "phantom")
    assert len(ghost[0]) == len(real_salt) == 32
    assert ghost[1] == real_iterations == 4096
    assert other[0] != ghost[0]  # derived per username
    secret = tmp_path / "server-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) == 32

    async with running_server(tmp_path) as handle:  # same data directory: same secret, same salts
        assert await scram_challenge(handle.plain_port, "ghost") == ghost
        assert await scram_challenge(handle.plain_port, "alice") == (real_salt, real_iterations)
