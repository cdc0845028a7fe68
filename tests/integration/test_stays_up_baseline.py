"""The stays-up harness itself: a quiet server answers the bystander fast and logs no traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.stays_up import bystander, server_process


async def test_a_quiet_server_answers_the_bystander_within_100_ms(tmp_path: Path) -> None:
    async with server_process(tmp_path) as server:
        async with bystander(server.plain_port) as watcher:
            while len(watcher.round_trips) < 10 and not watcher.failures:
                await asyncio.sleep(0.1)
        assert not watcher.failures
        assert len(watcher.round_trips) >= 10
        assert watcher.p99_ms() < 100.0
        assert server.rss_kib() > 0
    assert server.tracebacks() == 0
