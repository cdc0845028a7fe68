"""``tigase-py load run|compare|report``: put load on any XMPP server, write JSON and HTML results.

Exit codes: 0 the run happened, 1 it failed (no session could log in, a generator died), 2 usage
(bad option or scenario file), 3 target unreachable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from tigase_py.cli import console, context, errors

app = typer.Typer(no_args_is_help=True, help="Put load on any XMPP server and report throughput and latency.")
SERVERS = ("prosody", "ejabberd", "tigase-py")
ENGINES = ("tigase-py", "tsung")
PEER_MECHANISM = {"prosody": "SCRAM-SHA-1", "ejabberd": "SCRAM-SHA-1", "tigase-py": "SCRAM-SHA-256"}
KINDS = ("login-storm", "idle", "one-to-one", "presence-storm", "muc-fanout", "pubsub-fanout")
# What an option left out means, for --help: the Scenario / LoadTarget defaults (a unit test keeps them equal),
# kept here so that --help does not import the load engine.
DEFAULTS = {"scenario": "one-to-one", "tls": "starttls", "mechanism": "SCRAM-SHA-256", "account_pattern": "load{n}",
            "password": "load-secret", "sessions": "10", "pairs": "5", "contacts": "5", "rooms": "1", "rate": "10.0",
            "rate_mode": "per-sender", "window": "10", "duration": "5.0", "warmup": "1.0", "ramp_up": "0.0",
            "message_size": "32", "max_count": "0", "verify_tls": "off"}  # fmt: skip


def option(*names: str, help: str, key: str | None = None, **extra: Any) -> Any:
    """A typer Option whose --help shows what leaving it out means (``DEFAULTS[key]``)."""
    if key is None:
        return typer.Option(*names, help=help, **extra)
    # "\\[" keeps rich from reading the bracket as markup.
    return typer.Option(*names, help=f"{help} \\[default: {DEFAULTS[key]}]", show_default=False, **extra)


def build_target(
    target_file: Path | None, host: str | None, port: int, domain: str | None, fields: dict[str, Any]
) -> Any:
    from tigase_py.compat_tests.load.scenario import LoadTarget, ScenarioError, load_target

    known = {k: v for k, v in fields.items() if v is not None}
    try:
        if target_file is not None:
            return dataclasses.replace(load_target(target_file), **known)
        if domain is None:
            raise errors.UsageError("give --target FILE, --server NAME, or --domain (and --host, --port)")
        return LoadTarget(host=host or domain, port=port, domain=domain, **known)
    except ScenarioError as exc:
        raise errors.UsageError(str(exc)) from None
    except TypeError as exc:
        raise errors.UsageError(f"bad target option: {exc}") from None


def build_phases(kind: str | None, mix: Path | None, overrides: dict[str, Any]) -> Any:
    from tigase_py.compat_tests.load.scenario import Mix, Scenario, ScenarioError, load_mix, with_overrides

    try:
        if mix is not None:
            if kind is not None:
                raise errors.UsageError("give --scenario or --mix, not both")
            found = load_mix(mix)
            return Mix(found.name, tuple(with_overrides(p, **overrides) for p in found.phases))
        chosen = kind or "one-to-one"
        if chosen not in KINDS:
            raise errors.UsageError(f"--scenario must be one of {', '.join(KINDS)}, not {chosen!r}")
        return Mix(chosen, (with_overrides(Scenario(chosen, chosen), **overrides),))  # type: ignore[arg-type]
    except ScenarioError as exc:
        raise errors.UsageError(str(exc)) from None


@contextlib.contextmanager
def launched(server: str | None) -> Iterator[Any]:
    """A throwaway Prosody/ejabberd/tigase-py on loopback (compat suite launchers), or nothing."""
    if server is None:
        yield None
        return
    from tigase_py.compat_tests.peers import common, ejabberd, prosody, tigase_py

    console.info(f"starting a throwaway {server} on loopback")
    try:
        if server == "tigase-py":
            running = tigase_py.running(users=(), registration=True)  # load accounts register in-band
        else:
            running = {"prosody": prosody, "ejabberd": ejabberd}[server].running(users=())
        with running as found:
            yield found
    except common.PeerError as exc:
        raise errors.Unreachable(str(exc).splitlines()[0]) from None


def create_in_storage(config: Any, target: Any, count: int) -> int:
    """Write the first ``count`` load accounts into our server's storage; returns how many were new."""
    import asyncio

    async def create(storage: Any) -> int:
        from tigase_py.server.storage.errors import UserExists

        gate = asyncio.Semaphore(16)

        async def one(n: int) -> bool:
            async with gate:
                try:
                    await storage.users.create(target.username(n), target.domain, target.password)
                except UserExists:
                    return False
                return True

        return sum(await asyncio.gather(*(one(n) for n in range(count))))

    return context.run_storage(config, create)


def provision(target: Any, count: int, create_accounts: bool, register: bool) -> None:
    """Create the accounts the run needs: in our server's storage (``--config``) or by XEP-0077."""
    import asyncio

    from tigase_py.compat_tests.load import accounts

    try:
        if create_accounts:
            created = create_in_storage(context.load(), target, count)
        elif register:
            created = asyncio.run(accounts.register_in_band(target, count))
        else:
            return
    except accounts.AccountError as exc:
        raise errors.CliError(str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise errors.Unreachable(f"cannot reach {target.host}:{target.port}: {exc.strerror or exc}") from None
    console.info(f"accounts: {created} created, {count - created} already there")


def default_pid(target: Any) -> int | None:
    """Our server's PID from the config's pidfile, when it runs on this machine."""
    if target.host not in ("127.0.0.1", "::1", "localhost"):
        return None
    try:
        return context.running_pid(context.load().server.pidfile)
    except Exception:  # no config, unreadable config: memory is simply not measured
        return None


def run_one(target: Any, phase: Any, workers: int, engine_name: str, tsung_dir: Path | None, progress: Any) -> Any:
    """One phase with our generator or with Tsung; engine errors become CLI errors."""
    from tigase_py.compat_tests.load import engine

    try:
        if engine_name == "tsung":
            import tempfile

            from tigase_py.compat_tests.load import tsung

            directory = tsung_dir or Path(tempfile.mkdtemp(prefix="tigase-py-tsung-"))
            try:
                return tsung.run_with_tsung(target, phase, directory / phase.name, progress=progress)
            except tsung.TsungError as exc:
                raise errors.CliError(str(exc).splitlines()[0]) from None
        return engine.run_scenario(target, phase, workers=workers, progress=progress)
    except engine.Unreachable as exc:
        raise errors.Unreachable(str(exc)) from None
    except engine.LoadError as exc:
        raise errors.CliError(str(exc).splitlines()[0]) from None


def run_phases(target: Any, phases: Any, workers: int, engine_name: str = "tigase-py",
               tsung_dir: Path | None = None) -> list[Any]:  # fmt: skip
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), TextColumn("{task.fields[now]}"),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
    done = []
    with progress:
        for phase in phases:
            expected = phase.ramp_up + phase.warmup + phase.duration + 2
            task = progress.add_task(f"{phase.name} ({phase.kind})", total=expected, now="connecting")

            def show(sample: Any, task: Any = task) -> None:
                progress.update(task, completed=sample.t + 1, now=(
                    f"sessions {sample.sessions} · sent {sample.sent}/s · delivered {sample.delivered}/s"
                    f" · errors {sample.errors}"))  # fmt: skip

            done.append(run_one(target, phase, workers, engine_name, tsung_dir, show))
            progress.update(task, completed=expected)
    return done


def show(results: list[Any]) -> None:
    from tigase_py.compat_tests.load.report import figure

    rows = []
    for r in results:
        s = r.summary()
        phase = r.name if r.name == r.kind else f"{r.name} ({r.kind})"
        rows.append((phase, r.status, figure(s["sessions"]), figure(s["logins_per_s"]), figure(s["delivered_per_s"]),
                     figure(s["p50_ms"], 2), figure(s["p95_ms"], 2), figure(s["p99_ms"], 2),
                     figure(s["kib_per_session"]), figure(s["errors"])))  # fmt: skip
    console.table(("phase", "status", "sessions", "logins/s", "msgs/s", "p50", "p95", "p99", "KiB/sess", "errors"),
                  rows, title="Load results (msgs/s delivered, latency in ms)")  # fmt: skip
    for r in results:
        if r.generator.get("cpu_percent") is not None:
            cpu, workers = r.generator["cpu_percent"], r.generator["workers"]
            console.info(f"{r.name}: generator CPU {cpu}% with {workers} worker(s) (100% = one core)")
        if r.status != "ok":
            console.warning(f"{r.name}: {r.status}: {r.note}")
        elif r.note:
            console.warning(f"{r.name}: {r.note}")
        for message in r.error_messages[:3]:
            console.warning(f"{r.name}: {message}")


@app.command("run")
def run(
    scenario: Annotated[
        str | None, option("--scenario", "-s", help=f"One of {', '.join(KINDS)}.", key="scenario")
    ] = None,
    mix: Annotated[Path | None, typer.Option("--mix", help="Scenario TOML file (phases).", dir_okay=False)] = None,
    target_file: Annotated[Path | None, typer.Option("--target", help="Target TOML file.", dir_okay=False)] = None,
    server: Annotated[str | None, typer.Option(help="Throwaway prosody|ejabberd|tigase-py on loopback.")] = None,
    host: Annotated[str | None, typer.Option(help="Host to connect to (default: the domain).")] = None,
    port: Annotated[int, typer.Option(help="c2s port.")] = 5222,
    domain: Annotated[str | None, typer.Option(help="XMPP domain.")] = None,
    tls: Annotated[str | None, option(help="starttls | direct | plain.", key="tls")] = None,
    verify_tls: Annotated[bool | None, option("--verify-tls", help="Verify the certificate.", key="verify_tls")] = None,
    mechanism: Annotated[str | None, option(help="PLAIN | SCRAM-SHA-1 | SCRAM-SHA-256.", key="mechanism")] = None,
    account_pattern: Annotated[
        str | None, option(help="Account local part, '{n}' = 0..N-1.", key="account_pattern")
    ] = None,
    password: Annotated[str | None, option(help="Password of every load account.", key="password")] = None,
    server_pid: Annotated[int | None, typer.Option(help="Server PID to read memory from /proc.")] = None,
    metrics_url: Annotated[str | None, typer.Option(help="Prometheus /metrics URL for memory (no PID).")] = None,
    create_accounts: Annotated[bool, typer.Option(help="Create accounts in our server's storage (--config).")] = False,
    register: Annotated[bool, typer.Option("--register", help="Create accounts by in-band registration.")] = False,
    sessions: Annotated[int | None, option(help="Sessions (login-storm, idle, fan-out).", key="sessions")] = None,
    pairs: Annotated[int | None, option(help="Chat pairs (one-to-one: 2 sessions each).", key="pairs")] = None,
    contacts: Annotated[int | None, option(help="Roster size (presence-storm).", key="contacts")] = None,
    rooms: Annotated[int | None, option(help="Rooms or nodes (fan-out).", key="rooms")] = None,
    rate: Annotated[float | None, option(help="Messages/s per sender (or total).", key="rate")] = None,
    rate_mode: Annotated[str | None, option(help="per-sender | total | window.", key="rate_mode")] = None,
    window: Annotated[int | None, option(help="Messages in flight per sender (window mode).", key="window")] = None,
    duration: Annotated[float | None, option(help="Measured seconds.", key="duration")] = None,
    warmup: Annotated[float | None, option(help="Seconds before measuring.", key="warmup")] = None,
    ramp_up: Annotated[float | None, option(help="Seconds to spread the logins over.", key="ramp_up")] = None,
    message_size: Annotated[int | None, option(help="Body bytes.", key="message_size")] = None,
    max_count: Annotated[
        int | None, option(help="Stop after this many deliveries (0 = no bound).", key="max_count")
    ] = None,
    engine_name: Annotated[str, typer.Option("--engine", help="tigase-py (our generator) | tsung.")] = "tigase-py",
    tsung_dir: Annotated[Path | None, typer.Option(help="Keep Tsung's files here (default: a temp dir).")] = None,
    workers: Annotated[int, typer.Option(help="Generator processes (0 = one per core).", min=0)] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON results here.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results document as JSON.")] = False,
) -> None:
    """Run a scenario (or a mix of phases) and report sessions, msgs/s, latency and memory."""
    if server is not None and server not in SERVERS:
        raise errors.UsageError(f"--server must be one of {', '.join(SERVERS)}")
    if engine_name not in ENGINES:
        raise errors.UsageError(f"--engine must be one of {', '.join(ENGINES)}")
    overrides = {"sessions": sessions, "pairs": pairs, "contacts": contacts, "rooms": rooms, "rate": rate,
                 "rate_mode": rate_mode, "window": window, "duration": duration, "warmup": warmup,
                 "ramp_up": ramp_up, "message_size": message_size, "max_count": max_count}  # fmt: skip
    phases = build_phases(scenario, mix, overrides)
    fields = {"tls": tls, "verify_tls": verify_tls, "mechanism": mechanism, "account_pattern": account_pattern,
              "password": password, "server_pid": server_pid, "metrics_url": metrics_url}  # fmt: skip
    needed = max(p.session_count for p in phases.phases)
    with launched(server) as peer:
        if peer is not None:
            from tigase_py.compat_tests.load.scenario import LoadTarget

            chosen = {k: v for k, v in fields.items() if v is not None and k != "tls"}
            chosen.setdefault("mechanism", PEER_MECHANISM.get(server or "", "SCRAM-SHA-1"))  # what it offers
            target = LoadTarget.from_target(peer, **chosen)
            register = register or peer.register
        else:
            target = build_target(target_file, host, port, domain, fields)
        if target.server_pid is None and (pid := default_pid(target)) is not None:
            target = dataclasses.replace(target, server_pid=pid)
        provision(target, needed, create_accounts, register)
        results = run_phases(target, phases.phases, workers or os.cpu_count() or 1, engine_name, tsung_dir)
    write_outputs(results, output, html, phases.name)
    if as_json:
        from tigase_py.compat_tests.load.results import dumps

        console.emit_json(json.loads(dumps(results)))
    else:
        show(results)


def write_outputs(results: list[Any], output: Path | None, html: Path | None, title: str) -> None:
    from tigase_py.compat_tests.load import report
    from tigase_py.compat_tests.load.results import save

    try:
        if output is not None:
            save(output, results)
            console.info(f"wrote {output}")
        if html is not None:
            report.write(html, results, title=f"Load test: {title}")
            console.info(f"wrote {html}")
    except OSError as exc:
        raise errors.CliError(f"cannot write results: {exc.strerror or exc}") from None


def read_results(path: Path) -> list[Any]:
    from tigase_py.compat_tests.load.results import ResultsError, load

    try:
        return load(path)
    except ResultsError as exc:
        raise errors.UsageError(str(exc)) from None


@app.command("compare")
def compare(
    first: Annotated[Path, typer.Argument(help="Results JSON of the first run.", dir_okay=False)],
    second: Annotated[Path, typer.Argument(help="Results JSON of the second run.", dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Two runs side by side: each phase's figures and the ratio second/first."""
    from tigase_py.compat_tests.load import compare as comparing
    from tigase_py.compat_tests.load.report import figure

    rows = comparing.compare(read_results(first), read_results(second))
    if as_json:
        console.emit_json({"first": str(first), "second": str(second), "rows": rows})
        return
    if not rows:
        console.warning("no phase of the first run matches a phase of the second (by name or kind)")
    console.table(
        ("phase", "metric", str(first), str(second), "ratio", "better"),
        [(r["phase"], r["metric"], r["first"] if isinstance(r["first"], str) else figure(r["first"], 2),
          r["second"] if isinstance(r["second"], str) else figure(r["second"], 2), figure(r["ratio"], 3), r["better"])
         for r in rows],
        title="second / first",
    )  # fmt: skip


@app.command("report")
def report_command(
    results_file: Annotated[Path, typer.Argument(help="Results JSON (ours or a Tsung import).", dir_okay=False)],
    html: Annotated[Path, typer.Option("--html", help="Write the HTML report here.")],
) -> None:
    """Render the HTML report of a results file again."""
    results = read_results(results_file)
    write_outputs(results, None, html, results_file.stem)
