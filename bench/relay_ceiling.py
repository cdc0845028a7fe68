"""The load generator's own ceiling: its one-to-one scenario against the trivial relay, one worker.

``python3 bench/relay_ceiling.py [--pairs 50] [--window 10] [--duration 10]`` starts ``bench/relay.py``
on a free loopback port, runs the generator's ``one-to-one`` scenario against it (plaintext, SASL
PLAIN, closed loop with ``--window`` messages in flight per sender) with ONE worker process, and
prints delivered messages/s, the generator's CPU time over the whole run (the worker process, from
``RUSAGE_CHILDREN`` once it has been joined, plus this process) and messages per generator
core-second = every message delivered during the run / generator CPU seconds. A message counts once:
the worker both sends and receives it. Start-up, logins and warm-up are in the CPU time, so the
figure errs low.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.stats import cpu_seconds  # noqa: E402


def children_cpu() -> float:
    """CPU seconds of the children this process has waited for (the joined worker processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_relay(port: int) -> subprocess.Popen[bytes]:
    from tigase_py.compat_tests.peers.common import wait_for_port

    command = [sys.executable, str(ROOT / "bench" / "relay.py"), "--port", str(port)]
    process = subprocess.Popen(command, start_new_session=True)
    wait_for_port(port, process, None, 15)
    return process


def measure(pairs: int, window: int, duration: float, warmup: float) -> dict[str, Any]:
    from tigase_py.compat_tests.load.engine import run_scenario
    from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario
    from tigase_py.compat_tests.peers.common import free_port, stop

    port = free_port()
    relay = start_relay(port)
    target = LoadTarget(host="127.0.0.1", port=port, domain="localhost", tls="plain", mechanism="PLAIN")
    scenario = Scenario(name="ceiling", kind="one-to-one", pairs=pairs, rate_mode="window", window=window,
                        duration=duration, warmup=warmup)  # fmt: skip
    own0, children0 = time.process_time(), children_cpu()
    relay0, wall0 = cpu_seconds(relay.pid), time.monotonic()
    try:
        result = run_scenario(target, scenario, workers=1)
        # The worker has been joined: its CPU is in RUSAGE_CHILDREN; the relay's is not (still running).
        generator = time.process_time() - own0 + children_cpu() - children0
        relay_cpu, wall = cpu_seconds(relay.pid) - relay0, time.monotonic() - wall0
    finally:
        stop(relay)
    summary = result.summary()
    delivered = sum(s.delivered for s in result.series)
    # The engine's own figure: the worker's CPU over the traffic phase only (100 = one core).
    traffic_cpu = result.generator.get("cpu_percent")
    per_core_traffic = summary["delivered_per_s"] / (traffic_cpu / 100) if traffic_cpu else float("nan")
    return {
        "pairs": pairs, "window": window, "duration": duration, "workers": 1,
        "delivered_per_s": summary["delivered_per_s"], "p50_ms": summary["p50_ms"], "p99_ms": summary["p99_ms"],
        "run_seconds": wall, "run_delivered": delivered,
        "generator_cpu_s": generator, "relay_cpu_s": relay_cpu,
        "generator_cpu_percent": 100 * generator / wall, "relay_cpu_percent": 100 * relay_cpu / wall,
        "msgs_per_generator_core_s": delivered / generator if generator > 0 else float("nan"),
        "traffic_generator_cpu_percent": traffic_cpu, "msgs_per_generator_core_s_traffic": per_core_traffic,
        "errors": summary["errors"], "status": result.status, "note": result.note,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="load generator ceiling against a trivial relay")
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "relay_ceiling.json")
    args = parser.parse_args()
    started = time.time()
    figures = measure(args.pairs, args.window, args.duration, args.warmup)
    figures["started"] = started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1))
    print(f"delivered msgs/s            {figures['delivered_per_s']:,.0f}")
    print(f"latency p50 / p99 (ms)      {figures['p50_ms']:.1f} / {figures['p99_ms']:.1f}")
    print(f"generator CPU (1 worker)    {figures['generator_cpu_percent']:.0f} % of the run")
    print(f"relay CPU                   {figures['relay_cpu_percent']:.0f} % of the run")
    print(f"generator CPU while sending {figures['traffic_generator_cpu_percent']} %")
    print(f"msgs/s per generator core   {figures['msgs_per_generator_core_s_traffic']:,.0f} while sending")
    print(f"msgs per generator CPU-s    {figures['msgs_per_generator_core_s']:,.0f} over the whole run")


if __name__ == "__main__":
    main()
