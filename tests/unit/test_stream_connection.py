"""The transport half of a stream connection (server/net/connection.py) and admission
(server/net/admission.py), driven with a fake asyncio transport."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tigase_py.server.config import types
from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.load import load_config
from tigase_py.server.config.schema import LimitsConfig
from tigase_py.server.core.metrics import MetricsRegistry
from tigase_py.server.core.stats import CoreMetrics
from tigase_py.server.net.admission import Admission, TokenBucket
from tigase_py.server.net.connection import FEEDER, StreamConnection


class FakeTransport:
    def __init__(self, peer: str = "198.51.100.7") -> None:
        self.written: list[bytes] = []
        self.buffered = 0
        self.reading = True
        self.closed = False
        self.aborted = False
        self.peer = (peer, 40000)

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def set_write_buffer_limits(self, high: int, low: int) -> None:
        self.limits = (high, low)

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return self.peer if name == "peername" else None


def fake_server(**limits: Any) -> Any:
    config = LimitsConfig(**limits)
    return SimpleNamespace(
        config=SimpleNamespace(limits=config),
        stats=CoreMetrics(MetricsRegistry()),
        admission=Admission(config),
        connections=set(),
    )


def connect(server: Any, peer: str = "198.51.100.7") -> tuple[StreamConnection, FakeTransport]:
    connection = StreamConnection(server)
    transport = FakeTransport(peer)
    connection.connection_made(cast(asyncio.Transport, transport))
    return connection, transport


def errors(server: Any, condition: str) -> float:
    return float(server.stats.stream_errors.labels(condition).value)


async def test_issue12_defect1_passing_the_hard_mark_closes_once_without_recursion() -> None:
    server = fake_server(output_buffer_soft=1024, output_buffer_hard=4096)
    connection, transport = connect(server)
    transport.buffered = 5000  # the peer stopped reading
    connection.write(b"<message>" + b"x" * 5000 + b"</message>")
    connection.flush()  # was: flush → close_with_error → close → flush → … RecursionError
    assert connection.closing and transport.closed
    assert errors(server, "policy-violation") == 1
    assert transport.written[-1].endswith(b"</stream:stream>") and b"<policy-violation " in transport.written[-1]
    connection.write(b"<message>more</message>")
    connection.flush()
    connection.close_with_error("policy-violation")
    assert errors(server, "policy-violation") == 1 and len(transport.written) == 2
    assert connection not in server.connections or connection.closing


async def test_a_feeder_pauses_while_the_recipient_is_above_its_soft_mark() -> None:
    server = fake_server(output_buffer_soft=1024, output_buffer_hard=1 << 20)
    sender, sender_transport = connect(server, "198.51.100.1")
    recipient, recipient_transport = connect(server, "198.51.100.2")
    assert recipient_transport.limits == (1024, 256)
    recipient.pause_writing()  # the transport says: above the soft mark
    token = FEEDER.set(sender)
    try:
        recipient.write(b"<message/>")
    finally:
        FEEDER.reset(token)
    assert not sender_transport.reading and sender.is_reading_paused
    assert server.stats.reads_paused.labels("backpressure").value == 1
    recipient.resume_writing()  # drained below the low mark
    assert sender_transport.reading and not sender.is_reading_paused
    assert errors(server, "policy-violation") == 0


async def test_queued_bytes_above_the_soft_mark_pause_the_feeder_until_flushed() -> None:
    server = fake_server(output_buffer_soft=1024, output_buffer_hard=1 << 20)
    sender, sender_transport = connect(server, "198.51.100.1")
    recipient, _ = connect(server, "198.51.100.2")
    token = FEEDER.set(sender)
    try:
        recipient.write(b"x" * 2000)
    finally:
        FEEDER.reset(token)
    assert not sender_transport.reading
    recipient.flush()  # the socket took it all at once: no pause_writing will follow
    assert sender_transport.reading


async def test_a_recipient_that_stops_draining_is_closed_after_the_slow_reader_timeout() -> None:
    server = fake_server(output_buffer_soft=1024, output_buffer_hard=1 << 20, slow_reader_timeout=0.05)
    sender, sender_transport = connect(server, "198.51.100.1")
    recipient, recipient_transport = connect(server, "198.51.100.2")
    recipient_transport.buffered = 5000
    recipient.pause_writing()
    token = FEEDER.set(sender)
    try:
        recipient.write(b"<message/>")
    finally:
        FEEDER.reset(token)
    deadline = asyncio.get_running_loop().time() + 5
    while not recipient.closing and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert recipient.closing and recipient_transport.closed
    assert errors(server, "policy-violation") == 1
    assert sender_transport.reading, "the sender reads again once the recipient is gone"


async def test_a_slow_but_draining_recipient_is_kept() -> None:
    server = fake_server(output_buffer_soft=1024, output_buffer_hard=1 << 20, slow_reader_timeout=60)
    recipient, transport = connect(server)
    transport.buffered = 5000
    recipient.pause_writing()
    for _ in range(3):
        transport.buffered -= 300  # more than a quarter of the soft mark per timeout
        recipient._stalled()  # what the slow_reader_timeout timer calls
    assert not recipient.closing
    recipient._stalled()  # no progress since the last look: a reader that stopped
    assert recipient.closing and errors(server, "policy-violation") == 1


async def test_the_byte_rate_pauses_reading_until_tokens_refill() -> None:
    server = fake_server(pre_auth_byte_rate=10_000, pre_auth_byte_burst=1000)
    connection, transport = connect(server)
    connection.count_read(900)
    assert transport.reading
    connection.count_read(600)  # 500 over: 50 ms at 10,000 B/s
    assert not transport.reading
    paused_at = asyncio.get_running_loop().time()
    while not transport.reading and asyncio.get_running_loop().time() < paused_at + 5:
        await asyncio.sleep(0.01)
    assert transport.reading and asyncio.get_running_loop().time() - paused_at >= 0.04
    assert server.stats.reads_paused.labels("byte_rate").value == 1


def test_token_bucket_refills_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=100, burst=50, now=0.0)
    assert bucket.take(50, 0.0) == 0.0
    assert bucket.take(10, 0.0) == pytest.approx(0.1)
    bucket.refill(100.0)
    assert bucket.tokens == 50


def test_admission_caps_connections_rate_and_pre_auth_per_address() -> None:
    admission = Admission(
        LimitsConfig(max_connections=100, ip_connection_rate=1.0, ip_connection_burst=5, max_pre_auth_per_ip=3)
    )
    results = [admission.admit("203.0.113.9", 10, trusted=False) for _ in range(6)]
    assert results[:3] == [None, None, None]
    assert results[3] is not None and results[3][0] == "ip_pre_auth"
    assert results[5] is not None and results[5][0] == "ip_rate"
    admission.release_pre_auth("203.0.113.9")
    assert admission.admit("203.0.113.10", 100, trusted=False) == (
        "max_connections",
        "resource-constraint",
        "the server has reached its connection limit",
    )
    assert admission.admit("127.0.0.1", 10, trusted=True) is None


def test_trusted_networks_match_addresses_and_mapped_ipv4() -> None:
    admission = Admission(LimitsConfig(trusted_networks=("10.0.0.0/8", "::1/128")))
    assert admission.is_trusted("10.1.2.3") and admission.is_trusted("::1") and admission.is_trusted("::ffff:10.0.0.1")
    assert not admission.is_trusted("192.0.2.1") and not admission.is_trusted("not-an-address")


def test_rate_and_byte_rate_parsers() -> None:
    assert types.parse_rate("10/s") == 10 and types.parse_rate("300/m") == 5 and types.parse_rate(2) == 2
    assert types.parse_byte_rate("64KiB/s") == 65536 and types.parse_byte_rate("1MiB") == 1 << 20
    assert types.parse_networks(["10.0.0.1/8", "::1"]) == ("10.0.0.0/8", "::1/128")
    for bad, parse in (("fast", types.parse_rate), ("0/s", types.parse_rate), ("x/s", types.parse_byte_rate)):
        with pytest.raises(ValueError):
            parse(bad)


def test_limits_section_reads_the_transport_keys(tmp_path: Path) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(
        '[[listeners]]\ntls = "none"\nrequire_tls = false\n[limits]\noutput_buffer_soft = "512KiB"\n'
        'output_buffer_hard = "4MiB"\nslow_reader_timeout = "10s"\nidle_ping_timeout = "30s"\n'
        'trusted_networks = ["10.0.0.0/8"]\nip_connection_rate = "60/m"\nip_connection_burst = 7\n'
        'max_pre_auth_per_ip = 4\npre_auth_byte_rate = "4KiB/s"\npre_auth_byte_burst = "16KiB"\n'
        'byte_rate = "1MiB/s"\nbyte_burst = "2MiB"\n'
    )
    limits = load_config(path).limits
    assert (limits.output_buffer_soft, limits.output_buffer_hard) == (512 * 1024, 4 << 20)
    assert (limits.slow_reader_timeout, limits.idle_ping_timeout) == (10.0, 30.0)
    assert limits.trusted_networks == ("10.0.0.0/8",) and limits.ip_connection_rate == 1.0
    assert (limits.ip_connection_burst, limits.max_pre_auth_per_ip) == (7, 4)
    assert (limits.pre_auth_byte_rate, limits.pre_auth_byte_burst) == (4096, 16384)
    assert (limits.byte_rate, limits.byte_burst) == (1 << 20, 2 << 20)


def test_a_soft_mark_above_the_hard_mark_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(
        '[[listeners]]\ntls = "none"\nrequire_tls = false\n'
        '[limits]\noutput_buffer_soft = "8MiB"\noutput_buffer_hard = "1MiB"\n'
    )
    with pytest.raises(ConfigError, match="output_buffer_soft"):
        load_config(path)


def test_accept_failing_for_lack_of_descriptors_is_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    from tigase_py.server.app import accept_error_handler

    server = fake_server()
    handler = accept_error_handler(server)
    loop = asyncio.new_event_loop()
    try:
        for _ in range(3):
            exc = OSError(errno.EMFILE, "Too many open files")
            handler(loop, {"message": "socket.accept() out of system resource", "exception": exc})
    finally:
        loop.close()
    assert server.admission.fd_exhausted == 3 and server.admission.is_fd_exhausted
    assert len(caplog.records) == 1, "three failures, one log line per interval"
    assert "too many open files" in caplog.records[0].getMessage() and "Traceback" not in caplog.text


def test_status_names_the_open_files_limit_from_the_health_limits_block() -> None:
    from tigase_py.monitoring import http, status

    health = {"db_up": True, "limits": {"fd_exhausted": True, "open_files": 150, "open_files_limit": 160}}
    result = http.from_documents("http://127.0.0.1:5280", 1.0, health, None)
    assert (result.fd_exhausted, result.open_files, result.open_files_limit) == (True, 150, 160)
    verdict = status.fold([result])
    assert verdict.exit_code == 1 and "too many open files" in verdict.problems[0]


async def test_writes_to_a_closed_recipient_never_pause_the_feeder() -> None:
    server = fake_server(output_buffer_soft=1024, output_buffer_hard=4096)
    sender, sender_transport = connect(server, "198.51.100.1")
    recipient, recipient_transport = connect(server, "198.51.100.2")
    recipient.pause_writing()
    recipient_transport.buffered = 5000
    recipient.write(b"x")
    recipient.flush()  # past the hard mark: closed
    recipient.connection_lost(None)
    token = FEEDER.set(sender)
    try:
        recipient.write(b"<message/>")  # routed before the session is unregistered
    finally:
        FEEDER.reset(token)
    assert sender_transport.reading and not sender.is_reading_paused
