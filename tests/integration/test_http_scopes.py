"""API key scopes and the REST login throttle (issue 12, defects 4 and 6), plus the in-band
registration throttle: each boundary against a live server."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.test_register import OPEN
from tests.xmpp_harness import TIMEOUT, RawClient, RunningServer, running_server

LEGACY = "test-api-key-0123456789"  # the harness's key, in the plain `name = "key"` form
READ = "read-only-key-0123456789"
ADMIN = "admin-scope-key-0123456789"
SCRIPTS = "scripts-scope-key-0123456789"
KEYS = {
    "tests": LEGACY,
    "reader": {"key": READ, "scopes": ["read"]},
    "operator": {"key": ADMIN, "scopes": ["admin"]},
    "deployer": {"key": SCRIPTS, "scopes": ["scripts"]},
}
SCRIPT = {
    "name": "hello.py",
    "source": "from tigase_py.server.core.commands import Command, CommandResult\n"
    "async def run(ctx, args):\n    return CommandResult(note='hi')\n"
    "command = Command(name='hello', title='Hello', description='Say hi', run=run)\n",
}


async def call(handle: RunningServer, method: str, path: str, key: str | None, body: Any = None) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{handle.server.config.http.port}{path}"
    headers = {"X-API-Key": key} if key else {}
    async with aiohttp.ClientSession() as http, http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def test_each_scope_reaches_only_its_endpoints(tmp_path: Path) -> None:
    options = {"api_keys": KEYS, "scripts_upload": True}
    async with running_server(tmp_path, http_options=options) as handle:
        new_user = {"jid": "carol@localhost", "password": "pw"}
        # read: statistics and listings only.
        assert (await call(handle, "GET", "/api/v1/stats", READ))[0] == 200
        status, body = await call(handle, "POST", "/api/v1/users", READ, new_user)
        assert status == 403 and body["error"] == 'this endpoint needs the "admin" scope; api-key:reader has: read'
        assert (await call(handle, "POST", "/api/v1/commands/get-online-users-num", READ, {}))[0] == 403
        assert (await call(handle, "POST", "/api/v1/scripts", READ, SCRIPT))[0] == 403
        # admin (which includes read): users and commands, never scripts.
        assert (await call(handle, "GET", "/api/v1/users", ADMIN))[0] == 200
        assert (await call(handle, "POST", "/api/v1/users", ADMIN, new_user))[0] == 201
        status, body = await call(handle, "POST", "/api/v1/scripts", ADMIN, SCRIPT)
        assert status == 403 and '"scripts" scope' in body["error"]
        # the plain `name = "key"` form means read + admin: scripts are never implied.
        assert (await call(handle, "GET", "/api/v1/stats", LEGACY))[0] == 200
        assert (await call(handle, "DELETE", "/api/v1/users/carol@localhost", LEGACY))[0] == 200
        assert (await call(handle, "POST", "/api/v1/scripts", LEGACY, SCRIPT))[0] == 403
        # scripts: uploads (when enabled) but cannot read statistics or run admin commands.
        status, body = await call(handle, "POST", "/api/v1/scripts", SCRIPTS, SCRIPT)
        assert status == 201 and body["command"] == "hello"
        assert (await call(handle, "GET", "/api/v1/stats", SCRIPTS))[0] == 403
        assert (await call(handle, "DELETE", "/api/v1/scripts/hello.py", SCRIPTS))[0] == 200


async def test_script_upload_is_off_by_default_with_a_clear_message(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "hello.py").write_text(SCRIPT["source"])  # scripts_dir still loads
    async with running_server(tmp_path, http_options={"api_keys": KEYS}) as handle:
        assert handle.server.config.http.scripts_upload is False
        status, body = await call(handle, "POST", "/api/v1/scripts", SCRIPTS, SCRIPT)
        assert status == 403 and "script upload is disabled" in body["error"] and "scripts_upload" in body["error"]
        assert (await call(handle, "DELETE", "/api/v1/scripts/hello.py", SCRIPTS))[0] == 403
        assert (scripts / "hello.py").exists()
        status, body = await call(handle, "POST", "/api/v1/commands/hello", LEGACY, {})
        assert status == 200 and body["note"] == "hi"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_rest_login_failures_get_429_with_retry_after(tmp_path: Path) -> None:
    extra = '\n[limits]\ntrusted_networks = []\nhttp_auth_failures_per_ip = 5\nlogin_lockout = "2m"\n'
    async with running_server(tmp_path, extra=extra, admins=("admin@localhost",)) as handle:
        await handle.add_user("admin@localhost", "right")
        url = f"http://127.0.0.1:{handle.server.config.http.port}/api/v1/stats"
        async with aiohttp.ClientSession() as http:
            statuses = []
            for attempt in range(8):
                async with http.get(url, headers=basic("admin@localhost", f"wrong{attempt}")) as response:
                    statuses.append(response.status)
                    if response.status == 429:
                        retry_after = int(response.headers["Retry-After"])
                        error = (await response.json())["error"]
            assert statuses == [401] * 5 + [429] * 3
            assert 0 < retry_after <= 120 and "try again in" in error
            async with http.get(url, headers=basic("admin@localhost", "right")) as response:
                assert response.status == 429  # locked: even the right password waits
            async with http.get(url, headers={"X-API-Key": LEGACY}) as response:
                assert response.status == 429
        handle.server.login_guard.unlock_ip("127.0.0.1")
        assert (await call(handle, "GET", "/api/v1/stats", LEGACY))[0] == 200


def complete_iq(data: bytes) -> bool:
    """A whole ``<iq>`` arrived: a self-closing one or one with its end tag."""
    head = data.find(b">", data.find(b"<iq"))
    return head > 0 and (data[head - 1 : head] == b"/" or b"</iq>" in data)


async def register(handle: RunningServer, payload: str, iq_type: str = "set") -> str:
    """One registration IQ on a fresh stream; returns the reply."""
    raw = await RawClient.connect(handle.plain_port)
    try:
        await raw.open_stream()
        raw.received = b""
        await raw.send(f"<iq type='{iq_type}' id='r1'><query xmlns='jabber:iq:register'>{payload}</query></iq>")
        for _ in range(100):
            if complete_iq(raw.received):
                return raw.received.decode()
            chunk = await asyncio.wait_for(raw.reader.read(65536), TIMEOUT)
            assert chunk, f"closed before the reply; got {raw.received!r}"
            raw.received += chunk
        raise AssertionError(f"no complete reply in 100 reads: {raw.received!r}")
    finally:
        raw.close()


async def test_registrations_per_ip_are_limited(tmp_path: Path) -> None:
    extra = OPEN + "[limits]\ntrusted_networks = []\nregistrations_per_ip = 3\n"
    async with running_server(tmp_path, extra=extra) as handle:
        for index in range(3):
            reply = await register(handle, f"<username>new{index}</username><password>pw</password>")
            assert reply.startswith('<iq type="result"'), reply
        refused = await register(handle, "<username>new9</username><password>pw</password>")
        assert "<resource-constraint" in refused and "too many registrations" in refused and "try again in" in refused
        assert not await handle.server.storage.users.exists("new9", "localhost")
        form = await register(handle, "", iq_type="get")
        assert "<instructions>" in form  # asking for the form is not counted or refused
