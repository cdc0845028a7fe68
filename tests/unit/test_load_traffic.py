"""Open-loop pacing of the load generator: every sender keeps its rate, visiting only the due ones."""

from __future__ import annotations

import asyncio
import time

from tigase_py.compat_tests.load import traffic
from tigase_py.compat_tests.load.client import Counters


class FakeSession:
    def __init__(self) -> None:
        self.closed: str | None = None
        self.written: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.written.append(data)


def test_due_ranges_cover_every_sender_that_passes_an_integer() -> None:
    count = 1000
    steps = [i * 0.0137 for i in range(400)]
    for before, now in zip(steps, steps[1:], strict=False):
        visited = {i for r in traffic.due_ranges(before, now, count) for i in r}
        owing = {i for i in range(count) if int(now + i / count) > int(before + i / count)}
        assert owing <= visited
        assert len(visited) <= len(owing) + 4


def test_paced_senders_each_keep_the_rate() -> None:
    sessions = [FakeSession() for _ in range(200)]
    senders = [traffic.Sender(s, b"<m><body>", b"</body></m>", offset=i / 200) for i, s in enumerate(sessions)]  # type: ignore[arg-type]
    counters = Counters()
    stop = asyncio.Event()

    async def run() -> float:
        task = asyncio.create_task(traffic.paced(senders, counters, 40, 5.0, stop))
        start = time.monotonic()
        await asyncio.sleep(1.0)
        stop.set()
        await task
        return time.monotonic() - start

    elapsed = asyncio.run(run())
    per_sender = [s.sent for s in senders]
    assert min(per_sender) >= 4 and max(per_sender) <= int(5.0 * elapsed) + 1
    assert counters.sent == sum(per_sender)
    body = sessions[0].written[0]
    assert body.startswith(b"<m><body>") and len(body) == len(b"<m><body></body></m>") + 40
