"""A running server reports into its registry: connections, logins, stanzas, storage, process."""

from __future__ import annotations

from pathlib import Path

from tests.xmpp_harness import login, running_server


async def test_a_login_and_a_message_show_in_the_metrics(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        client = await login(handle, "alice@localhost", mechanism="SCRAM-SHA-256")
        client.send_message(mto=client.boundjid.full, mbody="count me")
        await client.next_message()
        snapshot = handle.server.metrics.snapshot()
        assert snapshot["c2s/Authentication successes[mechanism=SCRAM-SHA-256]"] == 1
        assert snapshot["c2s/Stanzas received[kind=message]"] >= 1
        assert snapshot["c2s/Stanzas sent[kind=message]"] >= 1
        assert snapshot["c2s/STARTTLS upgrades"] == 1
        assert sum(v for k, v in snapshot.items() if k.startswith("c2s/Open connections[")) == 1
        assert snapshot["sess-man/Open user sessions"] == 1
        assert snapshot["storage/Operation latency count[store=users,op=get_scram]"] >= 1
        assert snapshot["process/Resident memory"] > 10_000_000
        assert snapshot["process/Open files"] <= snapshot["process/Open files limit"]
        assert len(snapshot) >= 200, len(snapshot)
