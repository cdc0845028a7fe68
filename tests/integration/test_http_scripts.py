"""Runtime admin scripts: a file in the scripts folder becomes a command without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.xmpp_harness import RunningServer, running_server

KEY = {"X-API-Key": "test-api-key-0123456789"}
DEPLOYER = {"X-API-Key": "test-deployer-key-0123456789"}
# Script upload is off by default; this server allows it for a key with the "scripts" scope.
UPLOAD_ENABLED = {
    "scripts_upload": True,
    "api_keys": {
        "tests": "test-api-key-0123456789",
        "deployer": {"key": "test-deployer-key-0123456789", "scopes": ["scripts"]},
    },
}

GREET = """
from tigase_py.server.core.commands import Command, CommandResult, Param


async def run(ctx, args):
    return CommandResult(note="{greeting} " + args.get("who", "nobody"), values={{"caller": ctx.caller}})

command = Command(name="greet", title="Greet", description="Say hello", run=run,
                  params=(Param("who", "text-single", "Whom"),))
"""

EXPLODE = """
from tigase_py.server.core.commands import Command


async def run(ctx, args):
    raise RuntimeError("the disk is on fire")

command = Command(name="explode", title="Explode", description="Always fails", run=run)
"""


async def call(
    handle: RunningServer, method: str, path: str, json: Any = None, headers: dict[str, str] = KEY
) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{handle.server.config.http.port}{path}"
    async with aiohttp.ClientSession() as http, http.request(method, url, json=json, headers=headers) as response:
        return response.status, await response.json()


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` (a coroutine factory) until it returns something truthy, or fail at the deadline."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "condition not reached before the deadline"
        await asyncio.sleep(0.1)


async def command_names(handle: RunningServer) -> set[str]:
    status, data = await call(handle, "GET", "/api/v1/commands")
    assert status == 200
    return {command["name"] for command in data["commands"]}


async def test_a_dropped_script_is_a_command_until_it_is_deleted(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    async with running_server(tmp_path) as handle:
        (scripts / "greet.py").write_text(GREET.format(greeting="hello"))
        await until(lambda: _has(handle, "greet"))
        listed = [c for c in (await call(handle, "GET", "/api/v1/commands"))[1]["commands"] if c["name"] == "greet"]
        assert listed[0]["source"] == "script:greet.py" and listed[0]["params"][0]["name"] == "who"
        assert handle.server.commands.by_node("greet") is not None  # the ad-hoc door sees it too
        status, result = await call(handle, "POST", "/api/v1/commands/greet", {"who": "world"})
        assert status == 200
        assert result == {"note": "hello world", "values": {"caller": "api-key:tests"}, "rows": []}
        assert (await call(handle, "POST", "/api/v1/commands/greet", {"bogus": 1}))[0] == 400

        (scripts / "greet.py").write_text(GREET.format(greeting="good evening"))

        async def changed() -> bool:
            return (await call(handle, "POST", "/api/v1/commands/greet", {"who": "all"}))[1].get("note") == (
                "good evening all"
            )

        await until(changed)
        (scripts / "greet.py").unlink()
        await until(lambda: _lacks(handle, "greet"))
        assert (await call(handle, "POST", "/api/v1/commands/greet", {}))[0] == 404


async def _has(handle: RunningServer, name: str) -> bool:
    return name in await command_names(handle)


async def _lacks(handle: RunningServer, name: str) -> bool:
    return name not in await command_names(handle)


async def test_broken_and_failing_scripts_never_take_the_server_down(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "broken.py").write_text("this is not python(\n")
    (scripts / "empty.py").write_text("x = 1\n")
    async with running_server(tmp_path, http_options=UPLOAD_ENABLED) as handle:
        status, data = await call(handle, "GET", "/api/v1/scripts")
        assert status == 200
        by_file = {script["file"]: script for script in data["scripts"]}
        assert by_file["broken.py"]["loaded"] is False and "SyntaxError" in by_file["broken.py"]["error"]
        assert by_file["empty.py"]["loaded"] is False and "command = Command" in by_file["empty.py"]["error"]

        status, uploaded = await call(
            handle, "POST", "/api/v1/scripts", {"name": "explode.py", "source": EXPLODE}, DEPLOYER
        )
        assert status == 201 and uploaded == {"file": "explode.py", "loaded": True, "command": "explode"}
        status, failure = await call(handle, "POST", "/api/v1/commands/explode", {})
        assert status == 500
        assert failure["error"] == "script explode.py failed: RuntimeError: the disk is on fire"

        status, bad = await call(
            handle, "POST", "/api/v1/scripts", {"name": "bad.py", "source": "raise SystemExit(3)"}, DEPLOYER
        )
        assert status == 400 and bad["loaded"] is False and "SystemExit" in bad["error"]
        assert (await call(handle, "POST", "/api/v1/scripts", {"name": "../evil.py", "source": ""}, DEPLOYER))[0] == 400
        assert (await call(handle, "GET", "/api/v1/health"))[0] == 200

        assert (await call(handle, "DELETE", "/api/v1/scripts/explode.py", headers=DEPLOYER))[0] == 200
        assert not (scripts / "explode.py").exists()
        assert "explode" not in await command_names(handle)
        assert (await call(handle, "DELETE", "/api/v1/scripts/explode.py", headers=DEPLOYER))[0] == 404
