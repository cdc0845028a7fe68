"""tigase-py benchmark: ``python3 bench/run.py [--quick]`` prints a table and writes bench/results/latest.json.

Starts the server as a subprocess on loopback with a generated config (defaults as shipped: STARTTLS
required, SCRAM with 4096 iterations, all modules), creates the accounts through the storage API first,
then measures idle-session memory, login rate and one-to-one chat throughput/latency with load-generator
worker processes (``bench/loadgen.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import Target  # noqa: E402
from bench.local_server import (  # noqa: E402
    DOMAIN,
    IDLE_SETTLE_SECONDS,
    PASSWORD,
    LocalServer,
    wait_fds,
    wait_for_port,
    wait_quiet,
)
from bench.phases import Pool, chat, login  # noqa: E402
from bench.report import render, table, top_frames  # noqa: E402
from bench.stats import fd_count, rss_kib  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="N=1000 only, 5 s chat runs")
    parser.add_argument("--sessions", type=int, nargs="*", help="idle session counts (default 1000 8000; 0 skips)")
    parser.add_argument("--pairs", type=int, nargs="*", help="chat pair counts (default 20 50)")
    parser.add_argument("--duration", type=float, help="seconds per chat run (default 20, quick 5)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--window", type=int, default=10, help="unacknowledged messages per direction")
    parser.add_argument("--rate", type=float, default=0.0, help="fixed total msgs/s (open loop); 0 = closed loop")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent logins (idle phase)")
    parser.add_argument("--login-sample", type=int, default=400, help="accounts in the warm login-rate phase")
    parser.add_argument("--login-concurrency", type=int, default=20, help="concurrent logins (login-rate phase)")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument("--mechanism", default="SCRAM-SHA-256", choices=["SCRAM-SHA-256", "SCRAM-SHA-1"])
    parser.add_argument("--profile", action="store_true", help="py-spy record the server during the last chat run")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, db, server log)")
    parser.add_argument("--target", help="HOST:PORT of an already running server (accounts u0.. and warm0..3)")
    parser.add_argument("--target-pid", type=int, help="pid of that server, for RSS and CPU figures")
    parser.add_argument("--domain", default=DOMAIN, help="the target's domain")
    parser.add_argument("--password", default=PASSWORD, help="the password of every target account")
    args = parser.parse_args()
    if args.target and not args.target_pid:
        parser.error("--target needs --target-pid (RSS and CPU are read from /proc)")
    return args


def main() -> int:
    args = arguments()
    sessions = [n for n in sorted(args.sessions or ([1000] if args.quick else [1000, 8000])) if n > 0]
    pair_counts = args.pairs or [20, 50]
    duration = args.duration or (5.0 if args.quick else 20.0)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = max([*sessions, 2 * max(pair_counts), args.login_sample])
    if needed + 100 > hard:
        print(f"warning: open-files hard limit {hard} is low for {needed} sessions", file=sys.stderr)
    names = [f"u{i}" for i in range(needed)]

    directory = Path(tempfile.mkdtemp(prefix="tigase-bench-"))
    local: LocalServer | None = None
    if args.target:
        host, _, port_text = args.target.rpartition(":")
        port, pid = int(port_text), int(args.target_pid)
    else:
        local = LocalServer(directory, names + [f"warm{i}" for i in range(4)], max(needed + 100, hard - 100))
        host, port, pid = "127.0.0.1", local.port, local.pid
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "target": args.target or "tigase-py (local)",
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
        "mechanism": args.mechanism,
        "accounts_create_s": local.create_s if local else None,
        "sessions": [],
        "chat": [],
    }
    pool: Pool | None = None
    try:
        if local is not None:
            results["server_ready_s"] = wait_for_port(port, local.proc)
        pool = Pool(args.workers, Target(host, port, args.domain, args.password, args.mechanism))
        run_phases(args, pool, pid, names, sessions, pair_counts, duration, directory, results)
    finally:
        if pool is not None:
            pool.shutdown()
        if local is not None:
            local.stop(results)
        results["temp_dir"] = str(directory)

    report(results, args, local)
    return 0


def run_phases(
    args: argparse.Namespace,
    pool: Pool,
    pid: int,
    names: list[str],
    sessions: list[int],
    pair_counts: list[int],
    duration: float,
    directory: Path,
    results: dict[str, Any],
) -> None:
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

    if args.login_sample > 0:
        sample = names[: args.login_sample]
        if have < len(sample):  # the idle phase is the cold pass that fills the client's SCRAM cache
            login(pool, pid, sample, args.login_concurrency)
            pool.call_all("close")
            wait_fds(pid, base_fds + 5)
            wait_quiet(pid)
        print(f"login rate: {len(sample)} logins, {args.login_concurrency} concurrent, warm client cache...")
        rate = login(pool, pid, sample, args.login_concurrency)
        results["login_rate"] = rate
        print(f"  {rate['per_second']:.0f} logins/s, failed {rate['failed']}", flush=True)
        pool.call_all("close")
        wait_fds(pid, base_fds + 5)
        wait_quiet(pid)

    for i, p in enumerate(pair_counts):
        print(f"chat: {p} pairs for {duration:.0f}s...", flush=True)
        prof = directory / "profile.txt" if args.profile and i == len(pair_counts) - 1 else None
        run = chat(pool, pid, p, args.window, args.warmup, duration, prof, args.rate)
        results["chat"].append(run)
        print(
            f"  {run['msgs_per_s']:.0f} msgs/s, p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms, "
            f"server CPU {run['server_cpu_pct']:.0f}%",
            flush=True,
        )
        if prof is not None and prof.exists():
            results["profile"] = top_frames(prof)
        wait_fds(pid, base_fds + 5)


def report(results: dict[str, Any], args: argparse.Namespace, local: LocalServer | None) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(render(table(results)))
    if "profile" in results:
        print("\nserver profile (py-spy, chat phase), top self frames:")
        for name, pct in results["profile"]["self"]:
            print(f"  {pct:5.1f}%  {name}")
        print("top inclusive frames:")
        for name, pct in results["profile"]["inclusive"]:
            if pct < 99.9:
                print(f"  {pct:5.1f}%  {name}")
    if results.get("server_log_lines"):
        print(f"\nserver log: {results['server_log_lines']} lines (warning+), last lines:")
        for line in results["server_log_tail"][-15:]:
            print("  " + line)
    print(f"\nresults: {RESULTS / 'latest.json'}")
    if local is not None and not args.keep:
        for name in ("tigase.db", "tigase.db-wal", "tigase.db-shm"):
            (local.directory / name).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
