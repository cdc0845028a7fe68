"""Our server against Debian's Prosody, same scenarios and sizes, back to back: ``python3 bench/peers.py``.

Each figure is measured on a fresh server process, alternating which server goes first, with the
load suite's generator (``run_scenario``: STARTTLS, SCRAM-SHA-1, salted-password cache on the
client). Servers are set up as production runs them (``bench/peers_servers.py``). Prints one table
``metric | tigase-py | prosody | ejabberd | ratio | target | met?`` (ratio = tigase-py / prosody) and
writes every result to ``bench/results/peers-latest.json`` (not committed).

Figures:

* delivered msgs/s: ``one-to-one`` closed loop (``--pairs``, ``--window`` in flight per sender);
* p99 latency at a fixed load: ``one-to-one`` open loop at ``--fixed-rate`` msgs/s in total, by default
  half of what the slower server delivered in the throughput row of the same run (both keep up);
* logins/s: ``login-storm`` of ``--logins`` sessions, ``--concurrency`` in flight;
* KiB per idle authenticated session: ``idle`` with ``--sessions`` sessions held ``--hold`` seconds,
  (server VmRSS − VmRSS before the logins) / sessions, after a small warm-up login storm.

With ``--ejabberd`` (the default when Debian's ejabberd is installed) a third column shows ejabberd
23.01 under the same load (``bench/peers_ejabberd.py``); the ratio and the targets stay tigase-py /
Prosody. ejabberd's accounts have a salt each, so its login figure includes the generator's PBKDF2.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.peers_servers import DOMAIN, PASSWORD, PATTERN, Templates, running  # noqa: E402
from tigase_py.compat_tests.load.engine import run_scenario  # noqa: E402
from tigase_py.compat_tests.load.results import LoadResult  # noqa: E402
from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario  # noqa: E402

SERVERS = ("tigase-py", "prosody")
FALLBACK_RATE = 2000  # msgs/s for the p99 row when there is no throughput row to derive it from
AUTO_SHARE = 0.5  # the p99 row runs at this share of the slower server's throughput
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    scenario: Scenario
    read: Callable[[LoadResult], float]
    target: str
    higher_is_better: bool
    bound: float  # the ratio tigase-py / prosody must be >= bound (higher is better) or <= bound

    def met(self, ratio: float) -> bool | None:
        if math.isnan(ratio):
            return None
        return ratio >= self.bound if self.higher_is_better else ratio <= self.bound


def kib_per_session(result: LoadResult) -> float:
    """The median over the seconds every idle session was online; the last such second is left out,
    as the close may already have started in it (RSS grows while sessions are torn down)."""
    peak = max((m.sessions for m in result.memory), default=0)
    held = [float(m.kib_per_session) for m in result.memory if m.sessions == peak and peak > 0]
    held = held[:-1] if len(held) > 1 else held
    return statistics.median(held) if held else math.nan


def metrics(args: argparse.Namespace) -> list[Metric]:
    pairs, warmup, duration = args.pairs, args.warmup, args.duration
    return [
        Metric("throughput", "one-to-one delivered msgs/s",
               Scenario(name="throughput", kind="one-to-one", pairs=pairs, rate_mode="window", window=args.window,
                        warmup=warmup, duration=duration),
               lambda r: r.summary()["delivered_per_s"], ">= 1.5x", True, 1.5),
        Metric("idle_kib", "KiB per idle authenticated session",
               Scenario(name="idle", kind="idle", sessions=args.sessions, warmup=0, duration=args.hold,
                        login_concurrency=args.concurrency),
               kib_per_session, "<= 0.8x", False, 0.8),
        Metric("logins", "logins/s",
               Scenario(name="logins", kind="login-storm", sessions=args.logins, login_concurrency=args.concurrency,
                        duration=120),
               lambda r: r.summary()["logins_per_s"], ">= 1.0x", True, 1.0),
        fixed_load(args, args.fixed_rate or FALLBACK_RATE),
    ]  # fmt: skip


def fixed_load(args: argparse.Namespace, rate: int) -> Metric:
    scenario = Scenario(name="fixed-load", kind="one-to-one", pairs=args.pairs, rate_mode="total", rate=rate,
                        warmup=args.warmup, duration=args.duration)  # fmt: skip
    return Metric("p99", f"p99 latency ms at {rate:,} msgs/s", scenario, lambda r: r.summary()["p99_ms"],
                  "<= 1.0x", False, 1.0)  # fmt: skip


def auto_rate(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    """``--fixed-rate``, or half of the slower server's delivered msgs/s from this run's throughput row."""
    if args.fixed_rate:
        return int(args.fixed_rate)
    found = [min(r["tigase-py"], r["prosody"]) for r in rows if r["key"] == "throughput"]
    if not found or not math.isfinite(found[0]):
        return FALLBACK_RATE
    return max(10, int(found[0] * AUTO_SHARE / 100) * 100)


def measure(server: str, metric: Metric, templates: Templates, workers: int) -> LoadResult:
    """One fresh ``server`` process, the metric's scenario (after a warm-up storm for memory), stopped."""
    with running(server, templates, metric.scenario.session_count) as instance:
        target = LoadTarget(host="127.0.0.1", port=instance.port, domain=DOMAIN, tls="starttls",
                            mechanism="SCRAM-SHA-1", account_pattern=PATTERN, password=PASSWORD,
                            server_pid=instance.pid, name=server)  # fmt: skip
        if metric.key == "idle_kib":
            # Load TLS, SASL and session code before the baseline is read, as a running server has.
            warm = Scenario(name="warm-up", kind="login-storm", sessions=min(8, metric.scenario.sessions))
            run_scenario(target, warm, workers=1)
            time.sleep(1.0)
        return run_scenario(target, metric.scenario, workers=workers)


def ratio(ours: float, theirs: float) -> float:
    if math.isnan(ours) or math.isnan(theirs) or theirs == 0:
        return math.nan
    return ours / theirs


def fmt(value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = ["metric", "tigase-py", "prosody", "ejabberd", "ratio", "target", "met?"]
    body = [
        [r["label"], fmt(r["tigase-py"]), fmt(r["prosody"]), fmt(r.get("ejabberd", math.nan)),
         "–" if math.isnan(r["ratio"]) else f"{r['ratio']:.2f}x", r["target"],
         {True: "yes", False: "no", None: "–"}[r["met"]]]
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(line[i])) for line in [head, *body]) for i in range(len(head))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in [head, *body]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    chosen = [m for m in metrics(args) if not args.only or m.key in args.only]
    count = max([m.scenario.session_count for m in chosen] + [8])
    rows: list[dict[str, Any]] = []
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory(prefix="peers-accounts-") as tmp:
        templates = Templates(Path(tmp), count)
        for index, metric in enumerate(chosen):
            if metric.key == "p99":
                metric = fixed_load(args, auto_rate(args, rows))
            servers = (*SERVERS, "ejabberd") if args.ejabberd else SERVERS
            order = servers if index % 2 == 0 else tuple(reversed(servers))
            values: dict[str, list[float]] = {s: [] for s in servers}
            for _ in range(args.rounds):
                for server in order:
                    print(f"  {metric.key}: {server} ...", file=sys.stderr, flush=True)
                    result = measure(server, metric, templates, args.workers)
                    values[server].append(metric.read(result))
                    raw.setdefault(metric.key, {}).setdefault(server, []).append(result.to_dict())
                    if result.status != "ok" or result.sessions_failed:
                        print(f"    {server}: {result.status} {result.note} failed logins {result.sessions_failed} "
                              f"{result.error_messages[:2]}", file=sys.stderr)  # fmt: skip
                order = tuple(reversed(order))
            best = max if metric.higher_is_better else min
            figures = {server: best(found) for server, found in values.items()}
            r = ratio(figures["tigase-py"], figures["prosody"])
            rows.append({"key": metric.key, "label": metric.label, **figures, "ratio": r, "target": metric.target,
                         "met": metric.met(r), "all": values})  # fmt: skip
    return {"started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "host": platform.node(),
            "args": vars(args), "rows": rows, "results": raw}  # fmt: skip


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="tigase-py against Prosody: one table of ratios")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument(
        "--fixed-rate",
        type=int,
        default=0,
        help="total msgs/s for the p99 row (default: half the slower server's throughput)",
    )
    parser.add_argument("--sessions", type=int, default=1000, help="idle sessions for the memory row")
    parser.add_argument("--hold", type=float, default=12.0, help="seconds the idle sessions stay")
    parser.add_argument("--logins", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="measurements per server and metric (best kept)")
    parser.add_argument("--only", nargs="*", choices=["throughput", "idle_kib", "logins", "p99"])
    parser.add_argument(
        "--ejabberd",
        action=argparse.BooleanOptionalAction,
        default=Path("/usr/sbin/ejabberdctl").exists(),
        help="also measure Debian's ejabberd",
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "peers-latest.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    report = run(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, default=str))
    print(table(report["rows"]))
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
