"""Memory soak: ``python3 bench/soak.py [--duration 600]`` runs chat traffic through the server for a long
time, samples the server's RSS against the number of delivered messages, and prints the RSS slope per
million messages after warm-up with a verdict (bounded or growing).

The same load generator as ``bench/run.py`` (worker processes, STARTTLS + SCRAM logins, chat pairs) is
driven in segments of ``--interval`` seconds on the same sessions; after each segment the delivered count
and the server's ``VmRSS`` are recorded. Samples taken before ``--warmup`` seconds are excluded from the
slope (allocator arenas, caches and the parser name table fill up first).
"""

from __future__ import annotations

import argparse
import json
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
from bench.local_server import DOMAIN, PASSWORD, LocalServer, wait_for_port  # noqa: E402
from bench.phases import Pool  # noqa: E402
from bench.stats import rss_kib  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def slope_per_million(samples: list[tuple[int, int]]) -> float:
    """Least-squares slope of RSS (KiB) over delivered messages, in KiB per 1,000,000 messages."""
    if len(samples) < 2:
        return float("nan")
    n = len(samples)
    mean_x = sum(x for x, _ in samples) / n
    mean_y = sum(y for _, y in samples) / n
    var = sum((x - mean_x) ** 2 for x, _ in samples)
    if var == 0:
        return float("nan")
    cov = sum((x - mean_x) * (y - mean_y) for x, y in samples)
    return cov / var * 1_000_000


def verdict(slope_kib: float, limit_kib: float) -> str:
    if slope_kib != slope_kib:  # NaN
        return "UNKNOWN (too few samples after warm-up)"
    return "BOUNDED" if slope_kib <= limit_kib else "GROWING"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of traffic (default 600)")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds excluded from the slope (default 60)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--window", type=int, default=10, help="unacknowledged messages per direction")
    parser.add_argument("--rate", type=float, default=0.0, help="fixed total msgs/s; 0 = as fast as it goes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mechanism", default="SCRAM-SHA-1", choices=["SCRAM-SHA-256", "SCRAM-SHA-1"])
    parser.add_argument("--max-slope", type=float, default=1024.0, help="KiB per 1M messages still called bounded")
    parser.add_argument("--target", help="HOST:PORT of an already running server (accounts u0..)")
    parser.add_argument("--target-pid", type=int, help="pid of that server, for RSS")
    parser.add_argument("--domain", default=DOMAIN)
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args()
    if args.target and not args.target_pid:
        parser.error("--target needs --target-pid")
    return args


def run(args: argparse.Namespace, pool: Pool, pid: int) -> dict[str, Any]:
    couples = [(f"u{2 * i}", f"u{2 * i + 1}") for i in range(args.pairs)]
    parts = pool.split(couples)
    replies = pool.call_each([("login", [n for c in part for n in c], 16) for part in parts])
    errors = [e for r in replies for e in r["errors"]]
    if errors:
        raise RuntimeError(f"logins failed: {errors}")
    per_flow = args.rate / (2 * args.pairs) if args.rate else 0.0
    samples: list[dict[str, float]] = []
    delivered = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.duration:
        replies = pool.call_each([("chat", part, args.window, 0.0, args.interval, per_flow) for part in parts])
        delivered += sum(r["received"] for r in replies)
        closed = sum(r["closed_sessions"] for r in replies)
        if closed:
            raise RuntimeError(f"the server closed {closed} sessions: {replies[0]['closures']}")
        elapsed = time.perf_counter() - start
        sample = {"t": elapsed, "messages": delivered, "rss_kib": rss_kib(pid)}
        samples.append(sample)
        print(f"  t={elapsed:6.0f}s  messages={delivered:>10,}  RSS={sample['rss_kib']:>8,} KiB", flush=True)
    pool.call_all("close")
    settled = [(int(s["messages"]), int(s["rss_kib"])) for s in samples if s["t"] >= args.warmup]
    slope = slope_per_million(settled)
    return {
        "samples": samples,
        "messages": delivered,
        "seconds": time.perf_counter() - start,
        "slope_kib_per_million": slope,
        "rss_after_warmup_kib": settled[0][1] if settled else None,
        "rss_end_kib": samples[-1]["rss_kib"] if samples else None,
        "verdict": verdict(slope, args.max_slope),
    }


def main() -> int:
    args = arguments()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    names = [f"u{i}" for i in range(2 * args.pairs)]
    local: LocalServer | None = None
    if args.target:
        host, _, port_text = args.target.rpartition(":")
        port, pid = int(port_text), int(args.target_pid)
    else:
        local = LocalServer(Path(tempfile.mkdtemp(prefix="tigase-soak-")), names, 1000)
        host, port, pid = "127.0.0.1", local.port, local.pid
    results: dict[str, Any] = {"target": args.target or "tigase-py (local)", "args": vars(args)}
    pool: Pool | None = None
    try:
        if local is not None:
            wait_for_port(port, local.proc)
        pool = Pool(args.workers, Target(host, port, args.domain, args.password, args.mechanism))
        print(f"soak: {args.pairs} pairs for {args.duration:.0f}s, warm-up {args.warmup:.0f}s", flush=True)
        results.update(run(args, pool, pid))
    finally:
        if pool is not None:
            pool.shutdown()
        if local is not None:
            local.stop(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(results, indent=2, default=str))
    slope = results["slope_kib_per_million"]
    print(
        f"\n{results['messages']:,} messages in {results['seconds']:.0f}s; RSS after warm-up "
        f"{results['rss_after_warmup_kib']} KiB, at the end {results['rss_end_kib']} KiB\n"
        f"RSS slope after warm-up: {slope:.1f} KiB per 1M messages (limit {args.max_slope:.0f}) "
        f"→ {results['verdict']}"
    )
    return 0 if results["verdict"] == "BOUNDED" else 1


if __name__ == "__main__":
    sys.exit(main())
