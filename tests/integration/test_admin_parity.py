"""Every admin operation through every door gives the same answer and fires the same events: REST
(``POST /api/v1/commands/<name>`` over real HTTP), XEP-0050 ad-hoc commands (a slixmpp admin client) and
the CLI (``tigase-py admin <name> --json``, through the admin socket: as a subprocess for a few, in a
thread for the rest). The doors are driven
from the operation declarations (``server/admin``), so a new operation is covered by adding a scenario."""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from slixmpp.exceptions import IqError
from typer.testing import CliRunner

from tests.helpers import cli_command
from tests.integration.test_adhoc import PLUGINS, install_script
from tests.integration.test_adhoc import run as run_adhoc
from tests.xmpp_harness import TIMEOUT, Client, RunningServer, login, running_server
from tigase_py.cli import main
from tigase_py.server.admin import builtin_operations
from tigase_py.server.admin.operation import Operation

KEY = {"X-API-Key": "test-api-key-0123456789"}
# The CLI door runs as the console script for these (a process start costs seconds on a loaded machine);
# the others run the same typer app in a thread.
BY_SUBPROCESS = ("add-user", "list-sessions", "remove-vhost")
runner = CliRunner()
DOORS = ("rest", "adhoc", "cli")
OPERATIONS = {operation.name: operation for operation in builtin_operations()}
EVENTS = ("user.created", "user.deleted", "vhost.added", "vhost.removed")


@dataclass
class Outcome:
    error: str | None = None
    note: str = ""
    values: dict[str, list[str]] = field(default_factory=dict)
    rows: list[dict[str, list[str]]] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)


def texts(value: Any) -> list[str]:
    """One value as the ad-hoc form carries it: a list of strings (bool → 1/0, nothing → [])."""
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        return ["1" if value else "0"]
    if isinstance(value, list | tuple):
        return [t for item in value for t in texts(item)]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


def outcome(note: str, values: dict[str, Any], rows: list[dict[str, Any]]) -> Outcome:
    return Outcome(
        None,
        note,
        {key: texts(value) for key, value in values.items() if key != "FORM_TYPE"},
        [{key: texts(value) for key, value in row.items()} for row in rows],
    )


def cli_argv(operation: Operation, args: dict[str, Any]) -> list[str]:
    """The CLI arguments of an operation, from its declaration (as ``cli/commands/admin.py`` builds them)."""
    argv: list[str] = []
    for param in operation.params:
        value = args.get(param.name)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            argv += [str(item)] if param.positional else [param.cli_flag, str(item)]
    return argv


async def console_script(argv: list[str]) -> tuple[int, str, str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        *cli_command(), *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def in_thread(argv: list[str]) -> tuple[int, str, str]:
    done = await asyncio.to_thread(runner.invoke, main.app, argv, env={"COLUMNS": "200"})
    return done.exit_code, done.stdout, done.stderr


class Doors:
    def __init__(self, handle: RunningServer, admin: Client | None) -> None:
        self.handle = handle
        self.admin = admin
        self.fired: list[tuple[str, str]] = []
        for name in EVENTS:
            handle.server.bus.on(name, self.recorder(name))

    def recorder(self, name: str) -> Any:
        async def record(*_: Any, owner: str = "", vhost: str = "", **__: Any) -> None:
            self.fired.append((name, owner or vhost))

        return record

    async def rest(self, name: str, args: dict[str, Any]) -> Outcome:
        url = f"http://127.0.0.1:{self.handle.server.config.http.port}/api/v1/commands/{name}"
        async with aiohttp.ClientSession(headers=KEY) as http, http.post(url, json=args) as response:
            document = await response.json()
        if response.status != 200:
            return Outcome(document["error"])
        return outcome(document["note"], document["values"], document["rows"])

    async def adhoc(self, name: str, args: dict[str, Any]) -> Outcome:
        assert self.admin is not None, "the ad-hoc door needs an admin client"
        try:
            reply = await run_adhoc(self.admin, OPERATIONS[name].xmpp_node, args)
        except IqError as exc:
            return Outcome(exc.text)
        command = reply["command"]
        notes = [text for _, text in command["notes"]]
        form = command["form"] if command.xml.find("{jabber:x:data}x") is not None else None
        values = dict(form.get_values()) if form is not None else {}
        rows = [dict(item) for item in form.get_items()] if form is not None else []
        return outcome(notes[0] if notes else "", values, rows)

    async def cli(self, name: str, args: dict[str, Any]) -> Outcome:
        argv = ["--config", str(self.handle.directory / "tigase.toml"), "admin", name,
                *cli_argv(OPERATIONS[name], args), "--json"]  # fmt: skip
        if name in BY_SUBPROCESS:
            code, out, err = await console_script(argv)
        else:
            code, out, err = await in_thread(argv)
        if code != 0:
            lines = [line for line in err.splitlines() if line.startswith("error: ")]
            assert code == 1 and len(lines) == 1, err
            return Outcome(lines[0].removeprefix("error: "))
        document = json.loads(out)
        return outcome(document["note"], document["values"], document["rows"])

    async def through(self, door: str, name: str, args: dict[str, Any]) -> Outcome:
        mark = len(self.fired)
        done: Outcome = await getattr(self, door)(name, args)
        done.events = self.fired[mark:]
        return done


def same_across_doors(name: str, outcomes: dict[str, Outcome], per_door: bool) -> Outcome:
    """The outcomes with each door's own names (``rest-1@localhost``) and resources made equal."""

    def plain(door: str, done: Outcome) -> str:
        text = json.dumps(done.__dict__, sort_keys=True)
        if per_door:
            text = text.replace(door, "DOOR")
        return re.sub(r"(@localhost)/[^\"\s,]+", r"\1/RESOURCE", text)

    shown = {door: plain(door, done) for door, done in outcomes.items()}
    assert len(set(shown.values())) == 1, f"{name}: the doors disagree:\n" + "\n".join(
        f"  {door}: {text}" for door, text in shown.items()
    )
    return outcomes["rest"]


async def each_door(doors: Doors, name: str, args: dict[str, Any]) -> Outcome:
    """Run ``name`` through each door (``{door}`` in an argument names the door) and compare."""
    outcomes: dict[str, Outcome] = {}
    for door in DOORS:
        concrete = json.loads(json.dumps(args).replace("{door}", door))
        outcomes[door] = await doors.through(door, name, concrete)
    return same_across_doors(name, outcomes, "{door}" in json.dumps(args))


async def test_every_operation_answers_the_same_through_every_door(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=("admin@localhost",)) as handle:
        await handle.add_user("admin@localhost")
        await handle.add_user("bob@localhost")
        for door in DOORS:
            await handle.add_user(f"victim-{door}@localhost")
        admin = await login(handle, "admin@localhost", plugins=PLUGINS)
        bob = await login(handle, "bob@localhost")
        victims = {door: await login(handle, f"victim-{door}@localhost") for door in DOORS}
        doors = Doors(handle, admin)
        covered: set[str] = set()

        async def check(name: str, args: dict[str, Any], expected: str | None = None) -> Outcome:
            covered.add(name)
            done = await each_door(doors, name, args)
            declared = OPERATIONS[name]  # the result has the declared shape
            assert set(done.values) <= set(declared.returns), (name, done.values)
            assert all(set(row) <= set(declared.columns) for row in done.rows), (name, done.rows)
            if expected is not None:
                assert expected in json.dumps(done.__dict__), (name, done)
            return done

        created = await check("add-user", {"accountjid": "{door}-1@localhost", "password": "pw"})
        assert created.events == [("user.created", "rest-1@localhost")]
        assert created.note == "User rest-1@localhost created"
        await check("add-user", {"accountjid": "bob@localhost", "password": "pw"}, "bob@localhost already exists")
        await check("add-user", {"accountjid": "x@nowhere.example", "password": "pw"}, "nowhere.example is not served")
        await check("change-user-password", {"accountjid": "{door}-1@localhost", "password": "pw2"}, "changed")
        for door in DOORS:
            assert await handle.server.storage.users.verify_password(f"{door}-1", "localhost", "pw2")
        await check("user-exists", {"accountjid": "rest-1@localhost"}, '"exists": ["1"]')
        await check("user-info", {"accountjid": "bob@localhost"}, "bob@localhost/")
        await check("get-registered-users-num", {}, '"registeredusersnum": ["8"]')
        await check("get-registered-users-list", {"max_items": "all"}, "victim-rest@localhost")
        deleted = await check("delete-user", {"accountjids": ["{door}-1@localhost"]})
        assert deleted.events == [("user.deleted", "rest-1@localhost")]
        await check("delete-user", {"accountjids": ["nobody@localhost"]}, "no such user: nobody@localhost")

        await check("get-online-users-num", {}, '"onlineusersnum": ["5"]')
        await check("get-online-users-list", {"max_items": "25"}, "bob@localhost")
        await check("list-sessions", {}, "victim-cli@localhost/")
        ended = await check("end-user-session", {"accountjids": ["victim-{door}@localhost"]}, "Ended 1 session(s)")
        assert ended.events == []
        for victim in victims.values():
            assert await asyncio.wait_for(victim.failed, TIMEOUT) == "stream_error:policy-violation"
        await check("end-user-session", {"accountjids": ["victim-rest@localhost"]}, "no session of victim-rest")

        await check("send-message", {"to": "bob@localhost", "body": "hello", "type": "chat"}, "sent to bob@localhost")
        await check("announce", {"announcement": "maintenance"}, "Announcement sent to")
        got = [await bob.next_message() for _ in range(2 * len(DOORS))]
        assert sorted(m["body"] for m in got) == ["hello"] * 3 + ["maintenance"] * 3

        await check("add-vhost", {"domain": "{door}.example"}, "Virtual host rest.example added")
        assert {f"{door}.example" for door in DOORS} <= handle.server.vhosts
        await check("list-vhosts", {}, "storage")
        removed = await check("remove-vhost", {"domain": "{door}.example"})
        assert removed.events == [("vhost.removed", "rest.example")]
        await check("remove-vhost", {"domain": "localhost"}, "configured in the config file")

        await check("get-statistics", {"filter": "sess-man/Open user sessions"}, "Open user sessions")
        await check("list-login-lockouts", {}, "0 lockout(s)")
        await check("unlock-login", {"ip": "203.0.113.7"}, "No failures recorded for 203.0.113.7")
        assert covered == set(OPERATIONS), f"operations without a scenario: {set(OPERATIONS) - covered}"


async def test_the_rest_routes_of_user_operations_fire_the_same_events(tmp_path: Path) -> None:
    """``POST /api/v1/users`` and ``DELETE /api/v1/users/{jid}`` are the add-user/delete-user operations."""
    async with running_server(tmp_path) as handle:
        doors = Doors(handle, None)
        base = f"http://127.0.0.1:{handle.server.config.http.port}/api/v1/users"
        async with aiohttp.ClientSession(headers=KEY) as http:
            async with http.post(base, json={"jid": "carol@localhost", "password": "pw"}) as response:
                assert response.status == 201 and await response.json() == {"result": "User carol@localhost created"}
            async with http.get(f"{base}/carol@localhost") as response:
                assert await response.json() == {"jid": "carol@localhost", "resources": []}
            async with http.delete(f"{base}/carol@localhost") as response:
                assert response.status == 200
            async with http.get(f"{base}/carol@localhost") as response:
                assert response.status == 404
        assert doors.fired == [("user.created", "carol@localhost"), ("user.deleted", "carol@localhost")]


async def test_a_runtime_script_is_a_cli_subcommand_while_the_server_runs(tmp_path: Path) -> None:
    """``tigase-py admin`` lists what the running server offers besides the builtin operations."""
    script = (
        "from tigase_py.server.core.commands import Command, CommandResult, Param\n\n\n"
        "async def run(ctx, args):\n"
        "    return CommandResult(note='hello ' + args['who'])\n\n\n"
        "command = Command(name='greet', title='Greet', description='Say hello', run=run,\n"
        "                  params=(Param('who', 'text-single', 'Whom', required=True, positional=True),))\n"
    )
    async with running_server(tmp_path) as handle:
        await install_script(handle, "greet", script)
        code, out, err = await in_thread(["--config", str(tmp_path / "tigase.toml"), "admin", "greet", "cli", "--json"])
        assert code == 0, err
        assert json.loads(out)["note"] == "hello cli"
    code, _, err = await in_thread(["--config", str(tmp_path / "tigase.toml"), "admin", "greet", "cli"])
    assert code == 2 and "No such command 'greet'" in err


async def test_without_an_admin_socket_the_cli_goes_through_rest(tmp_path: Path) -> None:
    """A running server without an admin socket still runs the CLI's operations itself (REST, admin key)."""
    async with running_server(tmp_path, extra="[admin_socket]\nenabled = false\n") as handle:
        doors = Doors(handle, None)
        config = ["--config", str(tmp_path / "tigase.toml")]
        code, _, err = await in_thread([*config, "user", "add", "dora@localhost", "--password", "pw"])
        assert code == 0, err
        code, out, err = await in_thread([*config, "session", "list", "--json"])
        assert code == 0 and json.loads(out)["sessions"] == [], err
        code, _, err = await in_thread([*config, "user", "add", "dora@localhost", "--password", "pw"])
        assert code == 1 and err.strip() == "error: dora@localhost already exists"
        assert doors.fired == [("user.created", "dora@localhost")]
