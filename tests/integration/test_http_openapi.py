"""The OpenAPI document matches the served API: every route is documented, and schemathesis, driven by
the document alone, finds no server error and no response outside the documented schemas."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest

from tests.xmpp_harness import login, running_server
from tigase_py.server.http_api import all_routes

KEY = "test-api-key-0123456789"


async def test_the_document_lists_every_route(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        url = f"http://127.0.0.1:{handle.server.config.http.port}/api/v1/openapi.json"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            document = await response.json()
    assert document["openapi"].startswith("3.1")
    served = {(route.method.lower(), route.openapi_path) for route in all_routes()}
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert served == documented
    assert len(served) >= 20
    stats = document["paths"]["/api/v1/stats"]["get"]
    assert {"200", "401", "403"} <= set(stats["responses"]) and stats["security"]
    assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    kick = document["paths"]["/api/v1/sessions/{full_jid}"]["delete"]
    assert kick["parameters"][0]["name"] == "full_jid"


async def test_jids_and_command_parameters_are_described(tmp_path: Path) -> None:
    import re

    async with running_server(tmp_path) as handle:
        url = f"http://127.0.0.1:{handle.server.config.http.port}/api/v1/openapi.json"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            document = await response.json()
        commands = handle.server.commands.all()
    schemas = document["components"]["schemas"]
    for name, good, bad in (
        ("BareJid", ["alice@example.org", "ünï@example.org"], ["example.org", "alice@example.org/phone", "a b@x"]),
        ("FullJid", ["alice@example.org/phone", "a@b/c/d"], ["alice@example.org", "alice@/x"]),
        ("Jid", ["example.org", "alice@example.org", "alice@example.org/r"], ["@example.org", "a@b@c"]),
    ):
        schema = schemas[name]
        assert schema["type"] == "string" and schema["format"] == "jid" and schema["examples"], name
        pattern = re.compile(schema["pattern"])
        assert all(pattern.search(text) for text in good + schema["examples"]), name
        assert not any(pattern.search(text) for text in bad), name
    users = document["paths"]["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert users["properties"]["jid"] == {"$ref": "#/components/schemas/BareJid"}
    kick = document["paths"]["/api/v1/sessions/{full_jid}"]["delete"]["parameters"][0]
    assert kick["schema"] == {"$ref": "#/components/schemas/FullJid"}
    run = document["paths"]["/api/v1/commands/{name}"]["post"]
    body = run["requestBody"]["content"]["application/json"]["schema"]
    assert len(body["anyOf"]) == len(commands) >= 10
    for command in commands:
        schema = schemas[f"Command.{command.name}"]
        assert f"`{command.name}`" in run["description"]
        assert set(schema["properties"]) == {param.name for param in command.params}
        assert schema["additionalProperties"] is False
        assert set(schema.get("required", [])) == {param.name for param in command.params if param.required}
        for param in command.params:
            described = schema["properties"][param.name]
            assert described["title"] == param.label
            if param.type == "jid-single":
                assert described["allOf"] == [{"$ref": "#/components/schemas/Jid"}]
            if param.type == "list-single" and param.choices:
                assert described["enum"] == list(param.choices)


async def test_method_not_allowed_names_the_allowed_methods(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        base = f"http://127.0.0.1:{handle.server.config.http.port}"
        async with aiohttp.ClientSession() as http:
            for method, path, allowed in (
                ("PATCH", "/api/v1/users", {"GET", "POST"}),
                ("DELETE", "/api/v1/health", {"GET"}),
                ("GET", "/api/v1/commands/list-sessions", {"POST"}),
                ("POST", "/metrics", {"GET", "HEAD"}),
                ("PUT", "/jolokia", {"GET", "HEAD", "POST"}),
            ):
                async with http.request(method, base + path, headers={"X-API-Key": KEY}) as response:
                    assert response.status == 405, (method, path)
                    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed, (method, path)
                    assert (await response.json())["error"]


async def test_command_input_errors_are_client_errors(tmp_path: Path) -> None:
    """Found by schemathesis once the command parameters were documented: jid-malformed was a 500."""
    async with running_server(tmp_path) as handle:
        url = f"http://127.0.0.1:{handle.server.config.http.port}/api/v1/commands/add-user"
        async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as http:
            for body in (
                {"accountjid": "0", "password": "secret"},
                {"accountjid": "a@b@c", "password": "secret"},
                {"accountjid": "bob@localhost", "password": "one", "password-verify": "two"},
            ):
                async with http.post(url, json=body) as response:
                    assert response.status == 400, (body, await response.text())


def schemathesis_command() -> list[str]:
    executable = shutil.which("schemathesis") or shutil.which("st")
    if executable is None:
        pytest.skip("schemathesis is not installed")
    return [executable]


@pytest.mark.timeout(600)
async def test_schemathesis_finds_no_server_error_or_schema_violation(tmp_path: Path) -> None:
    command = schemathesis_command()
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        await login(handle, "alice@localhost")
        url = f"http://127.0.0.1:{handle.server.config.http.port}/api/v1/openapi.json"
        process = await asyncio.create_subprocess_exec(
            *command,
            "run",
            url,
            "--header",
            f"X-API-Key: {KEY}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "20",
            "--mode",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--generation-deterministic",
            "--exclude-operation-id",
            "uploadScript",
            "--workers",
            "1",
            "--no-color",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 540)
        text = output.decode(errors="replace")
        assert process.returncode == 0, text[-6000:]
        assert "openapi" in text.lower() or "passed" in text.lower(), text[-2000:]
        # The server is still healthy after the run.
        async with aiohttp.ClientSession() as http, http.get(url.replace("openapi.json", "health")) as response:
            assert response.status == 200
