"""/jolokia's standard java.lang MBeans, read as Jolokia clients read them (JSON shape, a JVM HTTP client),
and ``tigase-py status --via jmx`` reading our own /jolokia from the config."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.test_monitoring_cli import cli
from tests.xmpp_harness import RunningServer, running_server
from tigase_py.server import __version__

MEMORY = "java.lang:type=Memory"
JAVA_CLIENT = """
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class HeapQuery {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        URI heap = URI.create(args[0] + "/read/java.lang:type=Memory/HeapMemoryUsage");
        HttpRequest request = HttpRequest.newBuilder(heap)
            .header("Accept", "application/json").build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        Matcher used = Pattern.compile("\\"used\\"\\\\s*:\\\\s*(\\\\d+)").matcher(response.body());
        Matcher status = Pattern.compile("\\"status\\"\\\\s*:\\\\s*(\\\\d+)").matcher(response.body());
        if (response.statusCode() != 200 || !used.find() || !status.find()) {
            System.out.println("bad answer " + response.statusCode() + " " + response.body());
            System.exit(1);
        }
        System.out.println("http=" + response.statusCode() + " status=" + status.group(1) + " used=" + used.group(1));
    }
}
"""


def base(handle: RunningServer) -> str:
    return f"http://127.0.0.1:{handle.server.config.http.port}/jolokia"


async def get(handle: RunningServer, path: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(base(handle) + path) as response:
        assert response.status == 200  # as Jolokia's agent: errors are in the body's status
        return await response.json()


async def test_java_lang_beans_answer_in_jolokia_shape(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        heap = await get(handle, f"/read/{MEMORY}/HeapMemoryUsage")
        assert heap["status"] == 200 and isinstance(heap["timestamp"], int)
        assert heap["request"] == {"type": "read", "mbean": MEMORY, "attribute": "HeapMemoryUsage"}
        usage = heap["value"]
        assert set(usage) == {"init", "used", "committed", "max"}
        assert 1_000_000 < usage["used"] <= usage["committed"] and usage["init"] == -1
        assert usage["max"] == -1 or usage["max"] >= usage["committed"]
        used = await get(handle, f"/read/{MEMORY}/HeapMemoryUsage/used")  # Jolokia inner path
        assert used["status"] == 200 and isinstance(used["value"], int) and used["value"] > 1_000_000
        threads = (await get(handle, "/read/java.lang:type=Threading"))["value"]
        assert threads["ThreadCount"] >= 1 and threads["PeakThreadCount"] >= threads["ThreadCount"]
        assert 0 <= threads["DaemonThreadCount"] <= threads["ThreadCount"]
        runtime = (await get(handle, "/read/java.lang:type=Runtime"))["value"]
        assert runtime["Uptime"] >= 0 and runtime["StartTime"] > 1_700_000_000_000
        assert runtime["VmName"] == "CPython" and runtime["Name"].startswith(f"{os.getpid()}@")
        assert isinstance(runtime["InputArguments"], list)
        system = (await get(handle, "/read/java.lang:type=OperatingSystem"))["value"]
        assert 0 < system["OpenFileDescriptorCount"] < system["MaxFileDescriptorCount"]
        assert system["ProcessCpuTime"] > 0 and system["AvailableProcessors"] >= 1
        assert system["SystemLoadAverage"] >= 0
        several = await get(handle, "/read/java.lang:type=Runtime/Uptime,VmVersion")
        assert set(several["value"]) == {"Uptime", "VmVersion"}
        missing = await get(handle, "/read/java.lang:type=Compilation")
        assert missing["status"] == 404 and missing["error_type"] == "javax.management.InstanceNotFoundException"
        assert "value" not in missing
        no_attribute = await get(handle, f"/read/{MEMORY}/HeapMemoryUsed")
        assert no_attribute["status"] == 404 and "AttributeNotFound" in no_attribute["error_type"]


async def test_search_list_and_pattern_reads(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        found = (await get(handle, "/search/java.lang:*"))["value"]
        assert {MEMORY, "java.lang:type=Threading", "java.lang:type=Runtime", "java.lang:type=OperatingSystem"} <= set(
            found
        )
        assert "java.lang:name=gen0,type=GarbageCollector" in found  # canonical: keys in order
        assert (await get(handle, "/search/*:type=Memory,*"))["value"] == [MEMORY]
        assert (await get(handle, "/search/*:type=Memory"))["value"] == [MEMORY]
        collectors = await get(handle, "/read/java.lang:type=GarbageCollector,name=*/CollectionCount")
        assert len(collectors["value"]) == 3
        assert all(bean["CollectionCount"] >= 0 for bean in collectors["value"].values())
        reordered = await get(handle, "/read/java.lang:type=GarbageCollector,name=gen2/CollectionCount")
        assert reordered["status"] == 200
        async with aiohttp.ClientSession() as http, http.post(base(handle), json={"type": "list"}) as response:
            listing = (await response.json())["value"]
        heap_attr = listing["java.lang"]["type=Memory"]["attr"]["HeapMemoryUsage"]
        assert heap_attr["type"] == "javax.management.openmbean.CompositeData" and "RssAnon" in heap_attr["desc"]
        bulk = [
            {"type": "read", "mbean": MEMORY, "attribute": "HeapMemoryUsage", "path": "committed"},
            {"type": "read", "mbean": "java.lang:type=Threading", "attribute": "ThreadCount"},
        ]
        async with aiohttp.ClientSession() as http, http.post(base(handle), json=bulk) as response:
            answers = await response.json()
        assert [answer["status"] for answer in answers] == [200, 200]
        assert answers[0]["value"] > 0 and answers[1]["value"] >= 1


@pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime (default-jre-headless)")
async def test_a_jvm_http_client_reads_the_heap(tmp_path: Path) -> None:
    source = tmp_path / "HeapQuery.java"
    source.write_text(JAVA_CLIENT)
    async with running_server(tmp_path) as handle:
        process = await asyncio.create_subprocess_exec(
            "java", str(source), base(handle), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    text = out.decode()
    assert process.returncode == 0, text
    assert text.startswith("http=200 status=200 used=") and int(text.split("used=")[1]) > 1_000_000


async def test_status_via_jmx_reads_our_own_jolokia(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        done = await cli("--config", tmp_path / "tigase.toml", "status", "--via", "jmx", "--json")
        assert done.returncode == 0, done.stderr
        (probe,) = json.loads(done.stdout)["probes"]
        assert probe["target"] == base(handle) and probe["ok"]
        assert probe["version"] == f"tigase-py {__version__}"
        assert probe["heap_used_bytes"] > 1_000_000 and probe["threads"] >= 1
        assert probe["open_files"] > 0 and probe["open_files_limit"] > probe["open_files"]
        assert probe["sessions"] == 0 and probe["uptime_seconds"] >= 0
        table = await cli("--config", tmp_path / "tigase.toml", "status", "--via", "jmx")
        assert table.returncode == 0 and "heap" in table.stdout and "HEALTHY" in table.stdout, table.stderr
        refused = await cli(
            "--config", tmp_path / "tigase.toml", "status", "--via", "jmx", "--jmx-url", "http://127.0.0.1:1/jolokia"
        )
    assert refused.returncode == 3 and "cannot connect" in refused.stderr
