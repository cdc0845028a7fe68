"""The admin REST API against a running server, over real HTTP, with slixmpp clients on the other side."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.xmpp_harness import RunningServer, login, running_server

KEY = {"X-API-Key": "test-api-key-0123456789"}
ADMIN = "admin@localhost"


def base(handle: RunningServer) -> str:
    return f"http://127.0.0.1:{handle.server.config.http.port}"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def call(
    handle: RunningServer, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, base(handle) + path, json=json, headers=KEY if headers is None else headers) as response,
    ):
        body = await response.json() if response.content_type == "application/json" else await response.text()
        return response.status, body, response


async def with_admin(handle: RunningServer) -> None:
    await handle.add_user(ADMIN, "admin-pass")
    await handle.add_user("bob@localhost", "bob-pass")
    configured = handle.server.is_admin
    handle.server.is_admin = lambda bare: bare == ADMIN or configured(bare)  # type: ignore[method-assign]


PROTECTED = [
    ("GET", "/api/v1/stats", None),
    ("GET", "/api/v1/vhosts", None),
    ("POST", "/api/v1/vhosts", {"vhost": "x.example"}),
    ("DELETE", "/api/v1/vhosts/x.example", None),
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"jid": "x@localhost", "password": "p"}),
    ("DELETE", "/api/v1/users/x@localhost", None),
    ("PUT", "/api/v1/users/x@localhost/password", {"password": "p"}),
    ("GET", "/api/v1/sessions", None),
    ("DELETE", "/api/v1/sessions/x@localhost/r", None),
    ("POST", "/api/v1/messages", {"to": "x@localhost", "body": "b"}),
    ("POST", "/api/v1/broadcast", {"body": "b"}),
    ("GET", "/api/v1/commands", None),
    ("GET", "/api/v1/scripts", None),
]


async def test_every_admin_endpoint_needs_an_admin(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await with_admin(handle)
        for method, path, body in PROTECTED:
            status, data, response = await call(handle, method, path, body, headers={})
            assert status == 401, (method, path, data)
            assert response.headers["WWW-Authenticate"].startswith("Basic")
            status, data, _ = await call(handle, method, path, body, headers=basic("bob@localhost", "bob-pass"))
            assert status == 403, (method, path, data)
            assert "not an administrator" in data["error"]
        wrong = basic(ADMIN, "wrong")
        assert (await call(handle, "GET", "/api/v1/stats", headers=wrong))[0] == 401
        assert (await call(handle, "GET", "/api/v1/stats", headers={"X-API-Key": "nope"}))[0] == 401
        bearer = {"Authorization": "Bearer test-api-key-0123456789"}
        assert (await call(handle, "GET", "/api/v1/stats", headers=bearer))[0] == 200
        assert (await call(handle, "GET", "/api/v1/stats", headers=basic(ADMIN, "admin-pass")))[0] == 200


async def test_health_ready_and_stats(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        status, health, _ = await call(handle, "GET", "/api/v1/health", headers={})
        assert status == 200 and health["status"] == "ok" and health["db_up"] is True
        assert health["uptime_seconds"] >= 0 and health["version"]
        assert (await call(handle, "GET", "/api/v1/ready", headers={}))[1] == {"ready": True}
        await handle.add_user("alice@localhost")
        await login(handle, "alice@localhost")
        status, stats, _ = await call(handle, "GET", "/api/v1/stats")
        assert status == 200
        assert stats["vhosts"] == ["localhost"] and stats["sessions"] == 1
        assert stats["metrics"]["sess-man/Open user sessions"] == 1


async def test_vhosts_are_added_and_removed(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        assert (await call(handle, "POST", "/api/v1/vhosts", {"vhost": "Extra.Example"}))[0] == 201
        assert (await call(handle, "GET", "/api/v1/vhosts"))[1] == {"vhosts": ["extra.example", "localhost"]}
        assert "extra.example" in await handle.server.storage.vhosts.list()
        assert (await call(handle, "POST", "/api/v1/vhosts", {"vhost": "extra.example"}))[0] == 409
        assert (await call(handle, "POST", "/api/v1/vhosts", {"vhost": "a@b"}))[0] == 400
        assert (await call(handle, "POST", "/api/v1/vhosts", ["not", "an", "object"]))[0] == 400
        assert (await call(handle, "DELETE", "/api/v1/vhosts/extra.example"))[0] == 200
        assert "extra.example" not in handle.server.vhosts
        assert (await call(handle, "DELETE", "/api/v1/vhosts/extra.example"))[0] == 404
        assert (await call(handle, "DELETE", "/api/v1/vhosts/localhost"))[0] == 409


async def test_a_user_added_over_rest_logs_in_and_is_managed(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        body = {"jid": "carol@localhost", "password": "first"}
        assert (await call(handle, "POST", "/api/v1/users", body))[0] == 201
        assert (await call(handle, "POST", "/api/v1/users", body))[0] == 409
        assert (await call(handle, "POST", "/api/v1/users", {"jid": "x@elsewhere", "password": "p"}))[0] == 400
        assert (await call(handle, "GET", "/api/v1/users?vhost=localhost"))[1] == {"users": ["carol@localhost"]}
        await login(handle, "carol@localhost", "first")
        path = "/api/v1/users/carol@localhost/password"
        assert (await call(handle, "PUT", path, {"password": "second"}))[0] == 200
        assert (await call(handle, "PUT", "/api/v1/users/nobody@localhost/password", {"password": "x"}))[0] == 404
        await login(handle, "carol@localhost", "second")
        with pytest.raises(AssertionError, match="failed_auth"):
            await login(handle, "carol@localhost", "first")
        online = await login(handle, "carol@localhost", "second")
        assert (await call(handle, "DELETE", "/api/v1/users/carol@localhost"))[0] == 200
        assert await asyncio.wait_for(online.failed, 10) == "stream_error:not-authorized"
        assert (await call(handle, "DELETE", "/api/v1/users/carol@localhost"))[0] == 404
        assert (await call(handle, "GET", "/api/v1/users"))[1] == {"users": []}


async def test_sessions_are_listed_and_kicked(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        client = await login(handle, "alice@localhost")
        status, data, _ = await call(handle, "GET", "/api/v1/sessions")
        assert status == 200
        [session] = data["sessions"]
        full = client.boundjid.full
        assert session["jid"] == full and session["resource"] == client.boundjid.resource
        assert session["secure"] is True and session["peer"].startswith("127.0.0.1")
        assert (await call(handle, "DELETE", f"/api/v1/sessions/{full}"))[0] == 200
        assert await asyncio.wait_for(client.failed, 10) == "stream_error:policy-violation"
        deadline = asyncio.get_running_loop().time() + 10
        while (await call(handle, "DELETE", f"/api/v1/sessions/{full}"))[0] != 404:
            assert asyncio.get_running_loop().time() < deadline, "the kicked session is still bound"
            await asyncio.sleep(0.05)
        assert (await call(handle, "GET", "/api/v1/sessions"))[1] == {"sessions": []}


async def test_messages_and_broadcasts_reach_clients(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        await handle.add_user("bob@localhost")
        alice = await login(handle, "alice@localhost")
        bob = await login(handle, "bob@localhost")
        await asyncio.sleep(0)
        status, _, _ = await call(handle, "POST", "/api/v1/messages", {"to": "alice@localhost", "body": "hi"})
        assert status == 202
        got = await alice.next_message()
        assert got["body"] == "hi" and got["from"].full == "localhost" and got["type"] == "chat"
        assert (await call(handle, "POST", "/api/v1/messages", {"to": "a@remote.example", "body": "x"}))[0] == 400
        assert (await call(handle, "POST", "/api/v1/messages", {"to": "alice@localhost"}))[0] == 400
        status, data, _ = await call(handle, "POST", "/api/v1/broadcast", {"body": "maintenance at noon"})
        assert status == 200 and data == {"delivered": 2}
        for client in (alice, bob):
            message = await client.next_message()
            assert message["body"] == "maintenance at noon" and message["type"] == "headline"
        assert (await call(handle, "POST", "/api/v1/broadcast", {"body": "x", "vhost": "nowhere"}))[0] == 404


async def test_cors_and_traversal(tmp_path: Path) -> None:
    extra = 'cors_origins = ["https://admin.example"]'
    async with running_server(tmp_path, extra=extra) as handle:
        good = {**KEY, "Origin": "https://admin.example"}
        _, _, response = await call(handle, "GET", "/api/v1/vhosts", headers=good)
        assert response.headers["Access-Control-Allow-Origin"] == "https://admin.example"
        _, _, response = await call(handle, "GET", "/api/v1/vhosts", headers={**KEY, "Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in response.headers
        preflight = {"Origin": "https://admin.example", "Access-Control-Request-Method": "DELETE"}
        status, _, response = await call(handle, "OPTIONS", "/api/v1/users/x@localhost", headers=preflight)
        assert status == 204 and "DELETE" in response.headers["Access-Control-Allow-Methods"]
        assert "X-API-Key" in response.headers["Access-Control-Allow-Headers"]
        evil = {**preflight, "Origin": "https://evil.example"}
        assert (await call(handle, "OPTIONS", "/api/v1/users/x@localhost", headers=evil))[0] == 403
        async with aiohttp.ClientSession() as http:
            for raw in ("/api/v1/%2e%2e/v1/stats", "/api/v1/vhosts/..%2f..%2fetc", "/api/v1/users/%252e%252e"):
                url = aiohttp.client.URL(base(handle) + raw, encoded=True)
                async with http.get(url, headers=KEY) as response:
                    assert response.status == 404, raw


async def test_health_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:

        async def down() -> bool:
            raise ConnectionError("database gone")

        handle.server.storage.ping = down  # type: ignore[method-assign]
        status, health, _ = await call(handle, "GET", "/api/v1/health", headers={})
        assert status == 503 and health["db_up"] is False and health["status"] == "degraded"
        assert (await call(handle, "GET", "/api/v1/ready", headers={}))[0] == 200
