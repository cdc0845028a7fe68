"""The admin layer without a running server: operations on offline dependencies (events recorded, live
state refused), the declarations every door reads, and ``tigase-py admin`` on config + storage."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.server.admin import builtin_operations, deps
from tigase_py.server.admin.operation import AdminError, Call, Registry
from tigase_py.server.config import load
from tigase_py.server.storage.errors import UserExists

runner = CliRunner()


class MemoryUsers:
    def __init__(self) -> None:
        self.passwords: dict[tuple[str, str], str] = {}

    async def create(self, username: str, domain: str, password: str) -> None:
        if (username, domain) in self.passwords:
            raise UserExists(f"{username}@{domain}")
        self.passwords[(username, domain)] = password

    async def set_password(self, username: str, domain: str, password: str) -> None:
        self.passwords[(username, domain)] = password

    async def delete(self, username: str, domain: str) -> bool:
        return self.passwords.pop((username, domain), None) is not None

    async def exists(self, username: str, domain: str) -> bool:
        return (username, domain) in self.passwords

    async def list(self, domain: str | None = None) -> builtins.list[str]:
        return sorted(f"{u}@{d}" for u, d in self.passwords if domain in (None, d))

    async def count(self, domain: str | None = None) -> int:
        return len(await self.list(domain))


class MemoryVhosts:
    def __init__(self) -> None:
        self.names: set[str] = set()

    async def list(self) -> builtins.list[str]:
        return sorted(self.names)

    async def add(self, domain: str) -> bool:
        added = domain not in self.names
        self.names.add(domain)
        return added

    async def remove(self, domain: str) -> bool:
        removed = domain in self.names
        self.names.discard(domain)
        return removed


class MemoryStorage:
    def __init__(self) -> None:
        self.users = MemoryUsers()
        self.vhosts = MemoryVhosts()


async def offline_registry() -> tuple[Registry, deps.AdminDeps]:
    found = await deps.offline(("example.org",), ("root@example.org",), MemoryStorage())
    registry = Registry(lambda: found)
    for operation in builtin_operations():
        registry.register(operation)
    return registry, found


async def test_offline_operations_record_the_events_they_cannot_fire() -> None:
    registry, found = await offline_registry()
    await registry.run("add-vhost", "local:cli", None, {"domain": "chat.example.org"})
    await registry.run("add-user", "local:cli", None, {"accountjid": "amy@chat.example.org", "password": "pw"})
    await registry.run("delete-user", "local:cli", None, {"accountjids": ["amy@chat.example.org"]})
    assert [name for name, _ in found.fired] == ["vhost.added", "user.created", "user.deleted"]
    assert found.fired[1][1] == {"vhost": "chat.example.org", "owner": "amy@chat.example.org"}
    listed = await registry.run("list-vhosts", "local:cli", None, {})
    assert listed.rows == [
        {"name": "example.org", "source": "config"},
        {"name": "chat.example.org", "source": "storage"},
    ]


async def test_offline_refusals_name_their_condition() -> None:
    registry, _ = await offline_registry()
    cases = [
        ("list-sessions", {}, "service-unavailable"),
        ("remove-vhost", {"domain": "example.org"}, "not-allowed"),
        ("add-user", {"accountjid": "amy@other.org", "password": "pw"}, "item-not-found"),
        ("add-user", {"accountjid": "not a jid", "password": "pw"}, "jid-malformed"),
        ("add-user", {"accountjid": "amy@example.org"}, "bad-request"),
        ("delete-user", {"accountjids": ["nobody@example.org"]}, "item-not-found"),
    ]
    for name, args, condition in cases:
        with pytest.raises(AdminError) as refused:
            await registry.run(name, "local:cli", None, args)
        assert refused.value.condition == condition, (name, str(refused.value))
    with pytest.raises(AdminError) as stranger:
        await registry.run("add-user", "mallory@example.org", None, {"accountjid": "x@example.org", "password": "p"})
    assert stranger.value.condition == "forbidden"


def test_every_declaration_is_complete_for_every_door() -> None:
    operations = builtin_operations()
    assert len({op.name for op in operations}) == len({op.xmpp_node for op in operations}) == len(operations)
    for operation in operations:
        assert operation.scope in ("read", "admin"), operation.name
        if operation.rest is not None:
            names = {param.rest_name for param in operation.params}
            assert set(operation.rest.query) <= names, operation.name
            assert operation.rest.method == "GET" or operation.scope == "admin", operation.name


def test_call_needs_dependencies_not_the_server() -> None:
    assert set(Call.__dataclass_fields__) == {"deps", "caller", "vhost"}
    assert "server" not in deps.AdminDeps.__dataclass_fields__


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(main.app, ["init", "site", "--vhost", "example.org"]).exit_code == 0
    path = tmp_path / "site" / "tigase.toml"
    monkeypatch.setenv(load.ENV_VAR, str(path))
    return path


def test_admin_cli_runs_operations_on_storage_when_the_server_is_down(site: Path) -> None:
    listed = runner.invoke(main.app, ["admin", "--help"], env={"COLUMNS": "200"})
    assert all(op.name in listed.stdout for op in builtin_operations())
    added = runner.invoke(main.app, ["admin", "add-user", "amy@example.org", "--password", "pw"])
    assert added.exit_code == 0 and "User amy@example.org created" in added.stderr
    exists = runner.invoke(main.app, ["admin", "user-exists", "amy@example.org", "--json"])
    assert json.loads(exists.stdout)["values"] == {"jid": "amy@example.org", "exists": True}
    info = runner.invoke(main.app, ["user", "info", "amy@example.org", "--json"])
    assert json.loads(info.stdout) == {"jid": "amy@example.org", "resources": None}
    foreign = runner.invoke(main.app, ["admin", "add-user", "amy@other.org", "--password", "pw"])
    assert foreign.exit_code == 1
    assert foreign.stderr.splitlines() == [
        "error: other.org is not served here",
        "hint: other.org is not a virtual host of this server; add it with `tigase-py vhost add other.org`",
    ]
    missing = runner.invoke(main.app, ["admin", "add-user"])
    assert missing.exit_code == 2
    live = runner.invoke(main.app, ["admin", "list-sessions"])
    assert live.exit_code == 3 and live.stderr.startswith("error: list-sessions needs the server: the server is not")
