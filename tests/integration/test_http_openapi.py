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
