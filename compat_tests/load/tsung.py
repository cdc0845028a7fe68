"""Run a load :class:`Scenario` with Debian's Tsung and import its figures as a :class:`LoadResult`.

Tsung's controller can spread users over many client hosts (``<clients>``); this adapter writes the
scenario for the local host (``use_controller_vm``), starts ``tsung -f FILE -l DIR start`` with a
one-second statistics interval, follows ``tsung.log`` for progress and turns its blocks into the
same per-second series, latency summary and memory samples our own generator reports.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import platform
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tigase_py.compat_tests.load import tsung_xml
from tigase_py.compat_tests.load.engine import check_reachable
from tigase_py.compat_tests.load.results import Latency, LoadResult, MemorySample, SecondSample
from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario
from tigase_py.compat_tests.load.tsung_log import DELIVERY_NOTE, Dump, find_log_dir, parse_latencies, parse_log

Progress = Callable[[SecondSample], None]
STATS_INTERVAL_MS = 1000


class TsungError(RuntimeError):
    """Tsung is missing, refused the scenario or wrote no statistics."""


def tsung_version() -> str:
    binary = shutil.which("tsung")
    if binary is None:
        raise TsungError("tsung is not installed (apt-get install tsung)")
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip().removeprefix("Tsung version ").strip()


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_with_tsung(
    target: LoadTarget,
    scenario: Scenario,
    out_dir: Path,
    progress: Progress | None = None,
) -> LoadResult:
    """Run ``scenario`` against ``target`` with Tsung; keep its files under ``out_dir``; return the import.

    A scenario Tsung cannot express gives a result with ``status="not-supported"`` and the reason.
    Raises ``engine.Unreachable`` when nothing listens at the target, :class:`TsungError` when Tsung
    is missing, overruns its time bound or ends without statistics.
    """
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    base = LoadResult(
        engine="tsung", scenario=scenario.to_dict(), target=target.to_dict(), started=started,
        generator={"host": platform.node(), "cpus": os.cpu_count() or 1, "tsung": tsung_version()},
    )  # fmt: skip
    reason = tsung_xml.unsupported_reason(scenario)
    if reason is not None:
        base.status, base.note = "not-supported", reason
        return base
    check_reachable(target)  # engine.Unreachable, as with our own generator
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    accounts = out_dir / "accounts.csv"
    accounts.write_text(tsung_xml.users_csv(target, scenario))
    config = out_dir / "tsung.xml"
    config.write_text(tsung_xml.scenario_xml(target, scenario, accounts.resolve()))
    logs = out_dir / "log"
    logs.mkdir(exist_ok=True)

    baseline = rss_kib(target.server_pid) if target.server_pid else None
    rss_by_time: list[tuple[float, int]] = []
    clock = time.monotonic()
    deadline = clock + tsung_xml.planned_seconds(scenario) + tsung_xml.SLACK_S + 30
    run_id = f"tp{uuid.uuid4().hex[:8]}"  # own controller node name and cookie: runs may overlap
    command = ["tsung", "-n", "-i", run_id, "-f", str(config.resolve()), "-l", str(logs.resolve()), "start"]
    env = {**os.environ, "ERL_FLAGS": f"-tsung_controller dumpstats_interval {STATS_INTERVAL_MS}"}
    with open(out_dir / "tsung.out", "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    reported = 0
    try:
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise TsungError(f"tsung ran past its bound of {deadline - clock:.0f}s; files in {out_dir}")
            if target.server_pid:
                rss = rss_kib(target.server_pid)
                if rss is not None:
                    rss_by_time.append((time.time(), rss))
            reported = _report_progress(logs, reported, progress)
            time.sleep(0.5)
    finally:
        _stop(process)
    run_dir = find_log_dir(logs)
    if run_dir is None:
        tail = (out_dir / "tsung.out").read_text(errors="replace")[-600:]
        raise TsungError(f"tsung wrote no tsung.log (exit {process.returncode}): {tail.strip()}")
    _report_progress(logs, reported, progress)
    dumps = parse_log((run_dir / "tsung.log").read_text(errors="replace"))
    fullstats = run_dir / "tsung-fullstats.log"
    latencies = parse_latencies(fullstats.read_text(errors="replace")) if fullstats.exists() else []
    result = import_run(base, scenario, dumps, latencies, baseline, rss_by_time)
    result.elapsed_s = time.monotonic() - clock
    result.generator["log_dir"] = str(run_dir)
    notes = [n for n in (tsung_xml.mechanism_note(target), result.note) if n]
    result.note = "; ".join(notes)
    return result


def _report_progress(logs: Path, already: int, progress: Progress | None) -> int:
    """Call ``progress`` for every complete block written since the last call; return how many there are."""
    if progress is None:
        return already
    run_dir = find_log_dir(logs) if logs.exists() else None
    if run_dir is None:
        return already
    dumps = parse_log((run_dir / "tsung.log").read_text(errors="replace"))
    for t, dump in enumerate(dumps[already:], start=already):
        progress(_sample(t, dump))
    return len(dumps)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _sample(t: int, dump: Dump) -> SecondSample:
    sent = dump.count("tr_chat") + dump.count("tr_presence")
    return SecondSample(
        t=t, sessions=int(dump.totals.get("connected", 0)), sent=sent, delivered=dump.count("xmpp_msg_latency"),
        errors=dump.errors(), logins=dump.count("tr_login"),
    )  # fmt: skip


def import_run(
    base: LoadResult,
    scenario: Scenario,
    dumps: list[Dump],
    latencies: list[float],
    baseline_rss: int | None = None,
    rss_by_time: list[tuple[float, int]] | None = None,
) -> LoadResult:
    """Fill ``base`` from Tsung's per-interval blocks and latency samples.

    Logins are the ``login`` transactions; ``login_s`` runs from the first to the last interval with
    logins (one-second resolution). The measured window starts ``warmup`` seconds after the last login
    and lasts ``duration`` seconds; ``sent`` and ``delivered`` are summed over it.
    """
    if not dumps:
        raise TsungError("tsung.log holds no statistics block")
    series = [_sample(t, d) for t, d in enumerate(dumps)]
    base.series = series
    login_seconds = [s.t for s in series if s.logins]
    base.sessions_ok = sum(s.logins for s in series)
    base.sessions_failed = max(0, scenario.session_count - base.sessions_ok)
    base.errors = sum(s.errors for s in series)
    if login_seconds:
        base.login_s = float(login_seconds[-1] - login_seconds[0] + 1) * STATS_INTERVAL_MS / 1000
    last_login = login_seconds[-1] if login_seconds else 0
    start = last_login + 1 + math.ceil(scenario.warmup)
    window = [s for s in series if start <= s.t < start + math.ceil(scenario.duration)]
    if scenario.kind in ("one-to-one", "presence-storm", "muc-fanout"):
        active = [s for s in window if s.sent or s.delivered]
        base.measured_s = float(len(active))
        base.sent = sum(s.sent for s in active)
        base.delivered = sum(s.delivered for s in active)
        if scenario.kind == "presence-storm":
            base.note = "tsung does not count received presence: delivered stays 0"
        else:
            base.note = DELIVERY_NOTE
    else:
        base.measured_s = float(len(window))
    base.latency = Latency.from_samples(latencies)
    if baseline_rss is not None and rss_by_time:
        base.baseline_rss_kib = baseline_rss
        base.memory = _memory(dumps, baseline_rss, rss_by_time)
    if base.sessions_ok == 0:
        base.status = "failed"
        base.error_messages.append("no session logged in (see tsung_controller*.log in the log directory)")
    return base


def _memory(dumps: list[Dump], baseline: int, rss_by_time: list[tuple[float, int]]) -> list[MemorySample]:
    """Server RSS at the end of each interval in which all sessions were connected."""
    samples: list[MemorySample] = []
    first = dumps[0].at
    peak = max(int(d.totals.get("connected", 0)) for d in dumps)
    for dump in dumps:
        sessions = int(dump.totals.get("connected", 0))
        if sessions < peak:
            continue  # still logging in or already closing: RSS and count do not match
        earlier = [rss for at, rss in rss_by_time if at <= dump.at + 0.5]
        if not earlier or sessions <= 0:
            continue
        rss = earlier[-1]
        samples.append(MemorySample(t=float(dump.at - first), sessions=sessions, rss_kib=rss,
                                    kib_per_session=(rss - baseline) / sessions))  # fmt: skip
    return samples
