"""Modules run on fake capabilities alone: no server, no storage engine, no sockets."""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.unit.module_fakes import Fakes, FakeSessions, StubStorage, online
from tigase_py.server import jid as jids
from tigase_py.server import modules as modules_package
from tigase_py.server.config.schema import ModulesConfig
from tigase_py.server.core.capabilities import ServerSettings
from tigase_py.server.core.commands import Command, CommandResult
from tigase_py.server.core.events import EventBus
from tigase_py.server.core.module import IqContext, Module, ModuleContext, StanzaContext
from tigase_py.server.core.registry import ModuleRegistry
from tigase_py.server.core.router import Router
from tigase_py.server.core.session import SessionManager
from tigase_py.server.core.stats import CoreMetrics
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules import adhoc, blocking, last, offline, ping, presence, version
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element


async def test_ping_answers_with_no_server() -> None:
    fakes = Fakes()
    ctx = fakes.context(ping.module)
    reply = await ping.answer_ping(fakes.iq(ctx, "get", "example.com", Element("ping", ns=ns.PING)))
    assert reply.attrs == {"type": "result", "id": "q1", "to": "juliet@example.com/balcony", "from": "example.com"}
    assert not hasattr(ctx, "server")


async def test_version_reads_its_own_typed_config() -> None:
    fakes = Fakes()
    ctx = fakes.context(version.module, options={"show_os": True})
    reply = await version.answer_version(fakes.iq(ctx, "get", "example.com", Element("query", ns=ns.VERSION)))
    query = reply.first_child()
    assert query is not None and query.find("os", ns.VERSION) is not None


async def test_last_server_uptime_comes_from_settings() -> None:
    fakes = Fakes(settings=ServerSettings(started_at=time.time() - 42))
    ctx = fakes.context(last.module)
    reply = await last.server_uptime(fakes.iq(ctx, "get", "example.com", Element("query", ns=ns.LAST)))
    query = reply.first_child()
    assert query is not None and int(query.attrs["seconds"]) in (42, 43)


async def test_last_account_online_is_zero_seconds() -> None:
    fakes = Fakes(sessions=FakeSessions(online("juliet@example.com/balcony")))
    ctx = fakes.context(last.module)
    reply = await last.account_last(fakes.iq(ctx, "get", "juliet@example.com", Element("query", ns=ns.LAST)))
    query = reply.first_child()
    assert query is not None and query.attrs["seconds"] == "0"


class LastActivityRecorder:
    def __init__(self) -> None:
        self.records: dict[str, tuple[int, str]] = {}

    async def set(self, owner: str, seconds: int, status: str) -> None:
        self.records[owner] = (seconds, status)


@pytest.mark.parametrize("other_resource", [False, True])
async def test_last_records_logout_only_when_no_resource_remains(other_resource: bool) -> None:
    store = LastActivityRecorder()
    leaving = online("juliet@example.com/balcony")
    remaining = [online("juliet@example.com/garden")] if other_resource else []
    fakes = Fakes(sessions=FakeSessions(*remaining), storage=StubStorage(last_activity=store))
    await last.record_logout(fakes.context(last.module), leaving)
    assert ("juliet@example.com" in store.records) is not other_resource


def test_blocking_asks_hosts_which_senders_are_local() -> None:
    fakes = Fakes(vhosts={"example.com"})
    ctx = fakes.context(blocking.module)
    assert blocking.is_local(ctx, jids.parse("romeo@example.com/x"))
    assert not blocking.is_local(ctx, jids.parse("romeo@elsewhere.example/x"))
    fakes.vhosts.add("elsewhere.example")  # a vhost added at run time is local at once
    assert blocking.is_local(ctx, jids.parse("romeo@elsewhere.example/x"))


class FullQueue:
    async def push(self, owner: str, xml: str, limit: int) -> bool:
        return False


async def test_offline_counts_refusals_in_the_metric_it_declares_and_drops_it_on_unload() -> None:
    fakes = Fakes(storage=StubStorage(offline=FullQueue()), settings=ServerSettings(offline_queue_size=5))
    ctx = fakes.context(offline.module)
    for start in offline.module.declared.starts:
        await start(ctx)
    message = Element("message", {"type": "chat", "to": "juliet@example.com"})
    message.add("body", text="hello")
    with pytest.raises(StanzaError) as refused:
        await offline.store_message(ctx, message, "juliet@example.com")
    assert refused.value.condition == "resource-constraint"
    assert fakes.metrics.snapshot() == {"offline/Messages refused, queue full[vhost=example.com]": 1.0}
    ctx.undo_all()
    assert fakes.metrics.metrics == {}


async def test_offline_queue_size_zero_stores_nothing() -> None:
    fakes = Fakes(storage=StubStorage(offline=FullQueue()), settings=ServerSettings(offline_queue_size=0))
    message = Element("message", {"type": "chat"})
    message.add("body", text="hello")
    assert await offline.store_message(fakes.context(offline.module), message, "juliet@example.com") is None


async def test_two_vhosts_share_a_declared_metric_until_both_unload() -> None:
    fakes = Fakes()
    one, two = fakes.context(offline.module, "a.example"), fakes.context(offline.module, "b.example")
    one.metrics.counter("queue_full", "Refused", "refused").plain.value += 1
    two.metrics.counter("queue_full", "Refused", "refused").plain.value += 2
    one.undo_all()
    assert fakes.metrics.snapshot() == {"offline/Refused[vhost=b.example]": 2.0}
    two.undo_all()
    assert fakes.metrics.snapshot() == {}


async def test_background_task_of_an_unloaded_module_is_cancelled() -> None:
    fakes = Fakes()
    ctx = fakes.context(ping.module)
    task = ctx.track(asyncio.Event().wait())
    done = ctx.track(asyncio.sleep(0))
    await done
    ctx.undo_all()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fakes.tracked == [task, done]


async def noop(_ctx: Any, _args: dict[str, Any]) -> CommandResult:
    return CommandResult(note="ran")


async def test_commands_a_module_registers_go_away_on_unload_and_run_with_admin_checks() -> None:
    fakes = Fakes(settings=ServerSettings(admins=frozenset({"admin@example.com"})))
    ctx = fakes.context(adhoc.module)
    ctx.commands.register(Command(name="noop", title="No-op", description="does nothing", run=noop))
    assert [c.name for c in ctx.commands.all()] == ["noop"]
    command = ctx.commands.by_node("noop")
    assert command is not None
    assert adhoc.may_run(ctx, "admin@example.com", command)
    assert not adhoc.may_run(ctx, "juliet@example.com", command)
    result = await ctx.commands.execute("noop", "local:uid=0", "example.com", {})
    assert result.note == "ran"
    ctx.undo_all()
    assert fakes.commands.all() == []


def test_no_module_reaches_the_server_object() -> None:
    """Modules use ``ctx`` capabilities; ``register``'s pre-auth path is driven by the stream (its
    ``connection.server``) until the stream offers pre-auth features through the module contract."""
    root = Path(modules_package.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "server":
                owner = node.value.id if isinstance(node.value, ast.Name) else ast.dump(node.value)
                if not (path.name == "register.py" and owner == "connection"):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno} {owner}.server")
            if isinstance(node, ast.ImportFrom) and node.module == "tigase_py.server.core.server":
                offenders.append(f"{path.relative_to(root)}:{node.lineno} imports core.server")
    assert offenders == []


def registry_over_fakes(fakes: Fakes, *declared: Module) -> tuple[ModuleRegistry, Router, EventBus]:
    bus = EventBus()
    stats = CoreMetrics(fakes.metrics)

    async def exists(_owner: str) -> bool:
        return True

    router = Router(SessionManager(), bus, stats, fakes.vhosts, exists)
    registry = ModuleRegistry(ModulesConfig(enabled=()), fakes.storage, fakes.capabilities(), router, bus, stats)
    registry.modules = list(declared)
    registry.configs = {module.name: None for module in declared}
    return registry, router, bus


def journaling(name: str, journal: list[str], fail: bool = False) -> Module:
    declared = Module(name=name)

    @declared.iq("get", f"urn:example:{name}", "query", to="server")
    async def answer(ctx: IqContext) -> Element:
        return ctx.result()

    @declared.on("user.deleted")
    async def forget(ctx: ModuleContext, owner: str) -> None:
        journal.append(f"{name} forgets {owner}")

    @declared.on_start
    async def start(ctx: ModuleContext) -> None:
        if fail:
            raise RuntimeError(f"{name} cannot start")
        journal.append(f"start {name}")

    @declared.on_stop
    async def stop(ctx: ModuleContext) -> None:
        journal.append(f"stop {name}")

    return declared


async def test_registry_starts_modules_on_fakes_and_unloads_everything_they_registered() -> None:
    journal: list[str] = []
    registry, router, bus = registry_over_fakes(Fakes(), journaling("a", journal), journaling("b", journal))
    await registry.load_vhost("example.com")
    assert len(router.iq_handlers) == 2 and registry.is_loaded("example.com", "b")
    await bus.fire("user.deleted", "example.com", owner="juliet@example.com")
    await registry.unload_vhost("example.com")
    await bus.fire("user.deleted", "example.com", owner="romeo@example.com")
    assert journal == ["start a", "start b", "a forgets juliet@example.com", "b forgets juliet@example.com",
                       "stop b", "stop a"]  # fmt: skip
    assert router.iq_handlers == {} and not registry.is_loaded("example.com", "a")


async def test_a_module_failing_to_start_unloads_the_modules_started_before_it() -> None:
    journal: list[str] = []
    modules = (journaling("a", journal), journaling("b", journal), journaling("c", journal, fail=True))
    registry, router, bus = registry_over_fakes(Fakes(), *modules)
    with pytest.raises(RuntimeError, match="c cannot start"):
        await registry.load_vhost("example.com")
    assert journal == ["start a", "start b", "stop b", "stop a"]  # c never started: its on_stop does not run
    assert router.iq_handlers == {} and "example.com" not in registry.loaded
    assert not bus.has("user.deleted", "example.com")


class Accounts:
    def __init__(self, *owners: str) -> None:
        self.owners = set(owners)

    async def exists(self, local: str, domain: str) -> bool:
        return f"{local}@{domain}" in self.owners


class Roster:
    async def get_item(self, owner: str, contact: str) -> None:
        return None


def probe(ctx: ModuleContext, prober: str, to: str) -> StanzaContext:
    stanza = Element("presence", {"type": "probe", "from": prober, "to": to})
    return StanzaContext(ctx, stanza, jids.parse(prober), jids.parse(to), None)


async def test_presence_probe_answered_from_fake_sessions_and_routed() -> None:
    balcony = online("juliet@example.com/balcony")
    balcony.presence = Element("presence", {"from": balcony.full})
    balcony.presence.add("show", text="away")
    storage = StubStorage(users=Accounts("juliet@example.com"), roster=Roster())
    fakes = Fakes(sessions=FakeSessions(balcony, online("juliet@example.com/hidden", available=False)), storage=storage)
    ctx = fakes.context(presence.module)
    await presence.answer_probe(probe(ctx, "juliet@example.com/garden", "juliet@example.com"))
    assert [(p.attrs, p.find_text("show")) for p in fakes.routed] == [
        ({"from": "juliet@example.com/balcony", "to": "juliet@example.com/garden"}, "away")
    ]
    fakes.routed.clear()
    await presence.answer_probe(probe(ctx, "romeo@example.com/x", "juliet@example.com"))  # not subscribed
    await presence.answer_probe(probe(ctx, "romeo@example.com/x", "nobody@example.com"))  # no such account
    assert [p.attrs for p in fakes.routed] == [
        {"from": "juliet@example.com", "to": "romeo@example.com", "type": "unsubscribed"},
        {"from": "nobody@example.com", "to": "romeo@example.com", "type": "unsubscribed"},
    ]
