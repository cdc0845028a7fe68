"""tigase-py benchmark: ``python3 bench/run.py [--quick]`` prints a table and writes bench/results/latest.json.

Starts the server as a subprocess on loopback with a generated config (defaults as shipped: STARTTLS
required, SCRAM with 4096 iterations, all modules), creates the accounts through the storage API first,
then measures idle-session memory, login rate and one-to-one chat throughput/latency with load-generator
worker processes (``bench/loadgen.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import Target, worker_main  # noqa: E402
from bench.stats import CpuMeter, HostMeter, cpu_seconds, fd_count, percentile, rss_kib  # noqa: E402

DOMAIN = "localhost"
PASSWORD = "bench-secret"
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MSGS = 20_000
TARGET_KIB = 40


# -- server ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(directory: Path, port: int, max_connections: int) -> Path:
    from tigase_py.server.config.certs import write_self_signed

    cert, key = write_self_signed(DOMAIN, directory / "certs")
    text = f"""
[server]
vhosts = ["{DOMAIN}"]
pidfile = "tigase.pid"
log_level = "warning"

[storage]
url = "sqlite+aiosqlite:///{directory / "tigase.db"}"

[tls]
certificate = "{cert}"
key = "{key}"

[[listeners]]
type = "c2s"
address = "127.0.0.1"
port = {port}
tls = "starttls"
require_tls = true

[limits]
max_connections = {max_connections}

[http]
port = {free_port()}
"""
    path = directory / "tigase.toml"
    path.write_text(text)
    return path


async def create_users(directory: Path, names: list[str], batch: int = 64) -> float:
    from tigase_py.server.storage.engine import open_storage

    start = time.perf_counter()
    storage = await open_storage(f"sqlite+aiosqlite:///{directory / 'tigase.db'}", create=True)
    try:
        for i in range(0, len(names), batch):
            await asyncio.gather(*(storage.users.create(n, DOMAIN, PASSWORD) for n in names[i : i + batch]))
    finally:
        await storage.close()
    return time.perf_counter() - start


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("server did not open its port in time")


IDLE_SETTLE_SECONDS = 11.0


def wait_quiet(pid: int, threshold: float = 5.0, interval: float = 0.25, timeout: float = 15.0) -> None:
    """Poll until the server uses < ``threshold``% CPU over ``interval``."""
    meter = CpuMeter(pid)
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        meter.start(time.perf_counter())
        time.sleep(interval)
        if meter.percent(time.perf_counter()) < threshold:
            return


def wait_fds(pid: int, target: int, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and fd_count(pid) > target:
        time.sleep(0.05)


# -- workers -----------------------------------------------------------------------------------------
class Pool:
    def __init__(self, count: int, target: Target) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(count):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(theirs, target), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    def call_each(self, commands: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        replies = [pipe.recv() for pipe in self.pipes]
        for reply in replies:
            if "error" in reply:
                raise RuntimeError(f"worker failed: {reply['error']}")
        return replies

    def call_all(self, *command: Any) -> list[dict[str, Any]]:
        return self.call_each([command] * len(self.pipes))

    def split(self, items: list[Any]) -> list[list[Any]]:
        n = len(self.pipes)
        return [items[i::n] for i in range(n)]

    def shutdown(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("exit",))
                pipe.recv()
            except (OSError, EOFError):
                pass
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


def login(pool: Pool, pid: int, names: list[str], concurrency: int) -> dict[str, Any]:
    per_worker = max(1, concurrency // len(pool.pipes))
    meter, host = CpuMeter(pid), HostMeter()
    meter.start(time.perf_counter())
    host.start()
    start = time.perf_counter()
    replies = pool.call_each([("login", part, per_worker) for part in pool.split(names)])
    elapsed = time.perf_counter() - start
    ok = sum(r["ok"] for r in replies)
    return {
        "logins": len(names),
        "ok": ok,
        "failed": sum(r["failed"] for r in replies),
        "errors": [e for r in replies for e in r["errors"]][:10],
        "seconds": elapsed,
        "per_second": ok / elapsed if elapsed else float("nan"),
        "concurrency": per_worker * len(pool.pipes),
        "server_cpu_pct": meter.percent(time.perf_counter()),
        "generator_cpu_pct": 100.0 * sum(r["cpu"] for r in replies) / elapsed,
        "host_cpu_pct": host.percent(),
    }


def profile_command(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    try:
        return subprocess.Popen(
            ["py-spy", "record", "-d", str(seconds), "-r", "200", "-f", "raw", "--nonblocking"]
            + ["-o", str(out), "--pid", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        return None


def _function(frame: str) -> str:
    """``name (path:line)`` → ``name (path)``: aggregate a function's lines."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def top_frames(raw: Path, limit: int = 10) -> dict[str, list[tuple[str, float]]]:
    """Top self and inclusive frames of the event loop in py-spy's collapsed stacks, as % of its samples."""
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(f) for f in stack.split(";")]
        if not any(f.startswith("Runner.run ") for f in frames):
            continue  # other threads (aiosqlite's worker polling its queue) and truncated stacks
        total += count
        leaf = frames[-1]
        self_counts[leaf] = self_counts.get(leaf, 0) + count
        for frame in set(frames[1:]):
            incl_counts[frame] = incl_counts.get(frame, 0) + count

    def top(counts: dict[str, int]) -> list[tuple[str, float]]:
        ordered = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
        return [(name, 100.0 * c / total) for name, c in ordered]

    return {"self": top(self_counts), "inclusive": top(incl_counts)} if total else {"self": [], "inclusive": []}


def chat(
    pool: Pool, pid: int, pairs: int, window: int, warmup: float, duration: float, profile: Path | None
) -> dict[str, Any]:
    couples = [(f"u{2 * i}", f"u{2 * i + 1}") for i in range(pairs)]
    parts = pool.split(couples)
    per_worker = max(1, 32 // len(pool.pipes))
    replies = pool.call_each([("login", [n for c in part for n in c], per_worker) for part in parts])
    errors = [e for r in replies for e in r["errors"]]
    if errors:
        raise RuntimeError(f"chat logins failed: {errors}")
    for pipe, part in zip(pool.pipes, parts, strict=True):
        pipe.send(("chat", part, window, warmup, duration))
    time.sleep(warmup)
    meter, host = CpuMeter(pid), HostMeter()
    meter.start(time.perf_counter())
    host.start()
    spy = profile_command(pid, max(1, int(duration) - 1), profile) if profile else None
    time.sleep(duration)
    server_cpu = meter.percent(time.perf_counter())
    host_cpu = host.percent()
    replies = [pipe.recv() for pipe in pool.pipes]
    for reply in replies:
        if "error" in reply:
            raise RuntimeError(f"worker failed: {reply['error']}")
    profile_note = ""
    if spy is not None:
        _, err = spy.communicate(timeout=60)
        if spy.returncode:
            profile_note = err.decode(errors="replace")[-500:]
    pool.call_all("close")
    latencies = sorted(x for r in replies for x in r["latencies_ns"])
    counted = sum(r["counted"] for r in replies)
    return {
        "pairs": pairs,
        "window_per_direction": window,
        "duration_s": duration,
        "delivered": counted,
        "msgs_per_s": counted / duration,
        "sent_total": sum(r["sent"] for r in replies),
        "received_total": sum(r["received"] for r in replies),
        "p50_ms": percentile(latencies, 0.50) / 1e6,
        "p99_ms": percentile(latencies, 0.99) / 1e6,
        "max_ms": (latencies[-1] / 1e6) if latencies else float("nan"),
        "server_cpu_pct": server_cpu,
        "generator_cpu_pct": 100.0 * sum(r["cpu"] for r in replies) / duration,
        "host_cpu_pct": host_cpu,
        "closed_sessions": sum(r["closed_sessions"] for r in replies),
        "closures": [c for r in replies for c in r["closures"]][:5],
        "profile_error": profile_note,
    }


# -- report ------------------------------------------------------------------------------------------
def render(rows: list[tuple[str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def table(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [("metric", "value", "target")]
    for step in results["sessions"]:
        n = step["sessions"]
        per = f"{step['kib_per_session']:.1f} KiB"
        rows.append((f"server RSS per idle TLS session, N={n}", per, f"<= {TARGET_KIB} KiB"))
    for step in results["sessions"]:
        lg = step["login"]
        rows.append(
            (
                f"logins/s (STARTTLS+SCRAM+bind), {lg['logins']} @ {lg['concurrency']} concurrent",
                f"{lg['per_second']:.0f}/s (server CPU {lg['server_cpu_pct']:.0f}%,"
                f" gen {lg['generator_cpu_pct']:.0f}%, host {lg['host_cpu_pct']:.0f}%)",
                "",
            )
        )
    for run in results["chat"]:
        p = run["pairs"]
        rows.append((f"chat msgs/s delivered, {p} pairs", f"{run['msgs_per_s']:.0f}/s", f">= {TARGET_MSGS}/s"))
        rows.append((f"chat latency p50 / p99, {p} pairs", f"{run['p50_ms']:.2f} / {run['p99_ms']:.2f} ms", ""))
        rows.append(
            (
                f"CPU% during chat, {p} pairs (100 = 1 core)",
                f"server {run['server_cpu_pct']:.0f}%, generator {run['generator_cpu_pct']:.0f}%,"
                f" whole host {run['host_cpu_pct']:.0f}% of {100 * (os.cpu_count() or 1)}%",
                "",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="N=1000 only, 5 s chat runs")
    parser.add_argument("--sessions", type=int, nargs="*", help="idle session counts (default 1000 8000)")
    parser.add_argument("--pairs", type=int, nargs="*", help="chat pair counts (default 20 50)")
    parser.add_argument("--duration", type=float, help="seconds per chat run (default 20, quick 5)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--window", type=int, default=10, help="unacknowledged messages per direction")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent logins")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument("--mechanism", default="SCRAM-SHA-256", choices=["SCRAM-SHA-256", "SCRAM-SHA-1"])
    parser.add_argument("--profile", action="store_true", help="py-spy record the server during the last chat run")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, db, server log)")
    args = parser.parse_args()
    sessions = sorted(args.sessions or ([1000] if args.quick else [1000, 8000]))
    pair_counts = args.pairs or [20, 50]
    duration = args.duration or (5.0 if args.quick else 20.0)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = max([*sessions, 2 * max(pair_counts)])
    if needed + 100 > hard:
        print(f"warning: open-files hard limit {hard} is low for {needed} sessions", file=sys.stderr)

    directory = Path(tempfile.mkdtemp(prefix="tigase-bench-"))
    port = free_port()
    config = write_config(directory, port, max_connections=max(needed + 100, hard - 100))
    names = [f"u{i}" for i in range(needed)]
    print(f"temp dir {directory}; creating {len(names)} accounts (PBKDF2 4096)...", flush=True)
    create_s = asyncio.run(create_users(directory, names + [f"warm{i}" for i in range(4)]))
    print(f"  accounts created in {create_s:.1f}s", flush=True)

    log_path = directory / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "tigase_py.server", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=directory,
    )
    pid = server.pid
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
        "mechanism": args.mechanism,
        "accounts_create_s": create_s,
        "sessions": [],
        "chat": [],
    }
    pool: Pool | None = None
    try:
        results["server_ready_s"] = wait_for_port(port, server)
        pool = Pool(args.workers, Target("127.0.0.1", port, DOMAIN, PASSWORD, args.mechanism))
        # Warm-up: load lazy imports and TLS/SASL paths before the baseline.
        warm = login(pool, pid, [f"warm{i}" for i in range(4)], 4)
        if warm["failed"]:
            raise RuntimeError(f"warm-up login failed: {warm['errors']}")
        pool.call_all("close")
        wait_quiet(pid)
        base_fds = fd_count(pid)
        base_rss = rss_kib(pid)
        results["baseline"] = {"rss_kib": base_rss, "fds": base_fds}
        print(f"server pid {pid}, baseline RSS {base_rss} KiB", flush=True)

        have = 0
        for n in sessions:
            print(f"logging in up to {n} idle sessions...", flush=True)
            step_login = login(pool, pid, names[have:n], args.concurrency)
            have = n
            wait_quiet(pid)
            # Idle means idle: let the server's idle sweep (every 5 s) pass over every session twice.
            time.sleep(IDLE_SETTLE_SECONDS)
            wait_quiet(pid)
            rss = rss_kib(pid)
            ok_total = have - sum(s["login"]["failed"] for s in results["sessions"]) - step_login["failed"]
            step = {
                "sessions": n,
                "ok_sessions": ok_total,
                "rss_kib": rss,
                "kib_per_session": (rss - base_rss) / max(1, ok_total),
                "server_fds": fd_count(pid),
                "login": step_login,
            }
            results["sessions"].append(step)
            print(
                f"  N={n}: RSS {rss} KiB, {step['kib_per_session']:.1f} KiB/session, "
                f"{step_login['per_second']:.0f} logins/s, failed {step_login['failed']}",
                flush=True,
            )
        pool.call_all("close")
        wait_fds(pid, base_fds + 5)
        wait_quiet(pid)

        for i, p in enumerate(pair_counts):
            print(f"chat: {p} pairs for {duration:.0f}s...", flush=True)
            prof = directory / "profile.txt" if args.profile and i == len(pair_counts) - 1 else None
            run = chat(pool, pid, p, args.window, args.warmup, duration, prof)
            results["chat"].append(run)
            print(
                f"  {run['msgs_per_s']:.0f} msgs/s, p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms, "
                f"server CPU {run['server_cpu_pct']:.0f}%",
                flush=True,
            )
            if prof is not None and prof.exists():
                results["profile"] = top_frames(prof)
            wait_fds(pid, base_fds + 5)
    finally:
        if pool is not None:
            pool.shutdown()
        results["server_alive_at_end"] = server.poll() is None
        results["server_cpu_total_s"] = cpu_seconds(pid) if server.poll() is None else None
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        results["server_exit_code"] = server.returncode
        text = log_path.read_text(errors="replace")
        results["server_log_lines"] = len(text.splitlines())
        results["server_log_tail"] = text.splitlines()[-40:]
        results["temp_dir"] = str(directory)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(render(table(results)))
    if "profile" in results:
        print("\nserver profile (py-spy, chat phase), top self frames:")
        for name, pct in results["profile"]["self"]:
            print(f"  {pct:5.1f}%  {name}")
    if results["server_log_lines"]:
        print(f"\nserver log: {results['server_log_lines']} lines (warning+), last lines:")
        for line in results["server_log_tail"][-15:]:
            print("  " + line)
    print(f"\nresults: {RESULTS / 'latest.json'}; server log: {log_path}")
    if not args.keep:
        for name in ("tigase.db", "tigase.db-wal", "tigase.db-shm"):
            (directory / name).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
