"""Memory of a fresh server and of each idle TLS session, ours beside Debian's Prosody: ``python3 bench/memory.py``.

Rows:

* RSS at start: ``tigase-py init``'s config (listeners moved to free ports), ``python -m tigase_py.server``,
  ``VmRSS`` once the log says ``ready`` and RSS has stopped moving, before any client connects. Prosody:
  the config of ``bench/peers_servers.py`` (its modules as Debian enables them), read the same way.
* RSS after one login: the same server once one client has logged in (STARTTLS + SCRAM-SHA-1 + bind) and
  closed, so code loaded on the first login (TLS, SASL) is counted.
* KiB per idle session: ``bench/peers.py``'s ``idle`` figure (``--sessions`` sessions over as many
  accounts, STARTTLS + SCRAM-SHA-1, after a warm-up login storm), each server a fresh process.

Also printed: which heavy packages the fresh server has mapped (their C extensions in
``/proc/PID/maps``): neither aiohttp nor greenlet (SQLAlchemy's asyncio extension) should be there before a
client asks for HTTP. ``--sessions 0`` skips the session rows (about 1 minute for 1,000 sessions).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import peers  # noqa: E402
from bench.client import insecure_context, login  # noqa: E402
from bench.peers_servers import Templates, running  # noqa: E402
from tests.helpers import free_ports  # noqa: E402
from tigase_py.server.storage.engine import open_storage  # noqa: E402

READY_TIMEOUT = 30.0
SETTLE_TIMEOUT = 10.0
HEAVY = ("aiohttp", "multidict", "yarl", "frozenlist", "propcache", "pycares", "greenlet", "cryptography")
PROSODY_TARGET_START_MB = 45.0
SESSION_TARGET = 0.7
PROBE_PASSWORD = "probe-secret"


def status_kib(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            found[key] = int(value.split()[0])
    return found


def settled_rss(pid: int) -> dict[str, int]:
    """VmRSS once two reads half a second apart differ by less than 64 KiB (at most SETTLE_TIMEOUT)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    last = status_kib(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = status_kib(pid)
        if abs(now["VmRSS"] - last["VmRSS"]) < 64:
            return now
        last = now
    return last


def mapped_heavy(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({name for name in HEAVY if f"/{name}" in maps})


async def add_probe_account(database: Path) -> None:
    storage = await open_storage(f"sqlite+aiosqlite:///{database}", create=True)
    try:
        await storage.users.create("probe", "localhost", PROBE_PASSWORD)
    finally:
        await storage.close()


async def log_in_once(port: int) -> None:
    context = insecure_context()
    client = await login("127.0.0.1", port, "localhost", "probe", PROBE_PASSWORD, "memory", context, "SCRAM-SHA-1")
    await client.close()


def ours_at_start(directory: Path) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """RSS at ``ready``, RSS after one login, and the heavy packages mapped at ``ready``."""
    cli = [sys.executable, "-c", "from tigase_py.cli.main import run; run()"]
    subprocess.run([*cli, "init", str(directory)], check=True, capture_output=True, timeout=60)
    config = directory / "tigase.toml"
    text = config.read_text()
    ports = free_ports(3)
    for old, new in zip((5222, 5223, 5280), ports, strict=True):
        text = re.sub(rf"^port = {old}$", f"port = {new}", text, flags=re.M)
    config.write_text(text)
    asyncio.run(add_probe_account(directory / "tigase.db"))
    log = directory / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tigase_py.server", "--config", str(config)],
                                   stdout=out, stderr=subprocess.STDOUT, cwd=directory)  # fmt: skip
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while "ready: listening" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"tigase-py did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        at_start, heavy = settled_rss(process.pid), mapped_heavy(process.pid)
        asyncio.run(log_in_once(ports[0]))
        return at_start, settled_rss(process.pid), heavy
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def prosody_at_start(templates: Templates) -> dict[str, int]:
    with running("prosody", templates, 8) as instance:
        return settled_rss(instance.pid)


def session_rows(sessions: int) -> list[dict[str, object]]:
    args = peers.parse(["--only", "idle_kib", "--no-ejabberd", "--sessions", str(sessions)])
    return list(peers.run(args)["rows"])


def mb(kib: int) -> str:
    return f"{kib / 1024:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="startup RSS and KiB per idle TLS session, beside Prosody")
    parser.add_argument("--sessions", type=int, default=1000, help="idle sessions per server (0: skip)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="memory-") as tmp:
        ours, after_login, heavy = ours_at_start(Path(tmp) / "ours")
        theirs = prosody_at_start(Templates(Path(tmp) / "accounts", 8))
    start_ratio = ours["VmRSS"] / theirs["VmRSS"]
    rows = [
        ("RSS at start, no client (init's config)", mb(ours["VmRSS"]), mb(theirs["VmRSS"]), f"{start_ratio:.2f}x",
         f"<= {PROSODY_TARGET_START_MB:.0f} MB", "yes" if ours["VmRSS"] / 1024 <= PROSODY_TARGET_START_MB else "no"),
        ("  of which anonymous (RssAnon)", mb(ours["RssAnon"]), mb(theirs["RssAnon"]), "", "", ""),
        ("  of which file-backed (RssFile)", mb(ours["RssFile"]), mb(theirs["RssFile"]), "", "", ""),
        ("RSS after one login (closed)", mb(after_login["VmRSS"]), "", "", "", ""),
    ]  # fmt: skip
    if args.sessions:
        for row in session_rows(args.sessions):
            ratio = float(str(row["ratio"]))
            rows.append((f"KiB per idle TLS session ({args.sessions:,})", f"{row['tigase-py']:.1f}",
                         f"{row['prosody']:.1f}", f"{ratio:.2f}x", f"<= {SESSION_TARGET}x",
                         "yes" if ratio <= SESSION_TARGET else "no"))  # fmt: skip
    head = ("metric", "tigase-py", "prosody", "ratio", "target", "met?")
    widths = [max(len(str(line[i])) for line in [head, *rows]) for i in range(len(head))]
    for index, line in enumerate([head, *rows]):
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))
    print(f"\nheavy packages mapped by the fresh server: {', '.join(heavy) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
