"""``tigase-py compat run|compare``: judge any XMPP server with the compat suite and report.

Exit codes: 0 nothing failed, 1 a case failed, 2 usage, 3 target unreachable (or Docker missing).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from tigase_py.cli import console, errors

app = typer.Typer(no_args_is_help=True, help="Judge any XMPP server with the compatibility suite.")
SERVERS = ("prosody", "ejabberd", "tigase-py")


def build_target(
    target_file: Path | None, host: str | None, port: int, domain: str | None, tls: str, verify_tls: bool,
    accounts: list[str], register: bool, admin: str | None, bosh_url: str | None, websocket_url: str | None,
    name: str | None, deviations: str | None,
) -> Any:  # fmt: skip
    from tigase_py.compat_tests import target as targets

    try:
        if target_file is not None:
            found = targets.load_target(target_file)
        else:
            if domain is None:
                raise errors.UsageError("give --target FILE, --server NAME, or at least --domain (and --host)")
            found = targets.Target(
                host=host or domain, port=port, domain=domain, tls=tls, verify_tls=verify_tls,  # type: ignore[arg-type]
                accounts=[targets.parse_account(a) for a in accounts], register=register,
                admin=targets.parse_account(admin) if admin else None, bosh_url=bosh_url,
                websocket_url=websocket_url, name=name or "",
            )  # fmt: skip
    except targets.TargetError as exc:
        raise errors.UsageError(str(exc)) from None
    if deviations is not None:
        found.deviations = deviations
    return found


@contextlib.contextmanager
def launched(server: str | None, docker_image: str | None, template: Any) -> Iterator[Any]:
    """A throwaway server (or container) for the run, or just the given target."""
    from tigase_py.compat_tests.peers import common

    try:
        if docker_image is not None:
            from tigase_py.compat_tests.peers import docker

            with docker.running(docker_image, template) as found:
                yield found
        elif server is not None:
            from tigase_py.compat_tests.peers import ejabberd, prosody, tigase_py

            module = {"prosody": prosody, "ejabberd": ejabberd, "tigase-py": tigase_py}[server]
            console.info(f"starting a throwaway {server} on loopback")
            with module.running() as found:
                yield found
        else:
            yield template
    except common.PeerError as exc:
        raise errors.Unreachable(str(exc).splitlines()[0]) from None


def run_with_progress(target: Any, only: list[str], keyword: str | None) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tigase_py.compat_tests import runner

    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"), console=Console(stderr=True), transient=True,
    )  # fmt: skip
    task = progress.add_task(f"judging {target.name}", total=None, last="")
    marks = {"passed": "[green]✓", "failed": "[red]✗", "not-supported": "[dim]–", "expected-deviation": "[yellow]~"}

    def collected(count: int) -> None:
        progress.update(task, total=count)

    def finished(result: Any) -> None:
        progress.update(task, advance=1, last=f"{marks.get(result.outcome, '·')} {result.name}")

    try:
        runner.check_reachable(target)
    except runner.Unreachable as exc:
        raise errors.Unreachable(str(exc)) from None
    try:
        runner.check_login(target)
    except runner.LoginRefused as exc:
        raise errors.CliError(str(exc)) from None
    if not progress.console.is_terminal:  # no live bar in a pipe or CI log: a line every few cases instead
        return run_with_lines(target, only, keyword)
    with progress:
        doc, _ = runner.run(target, only=only, keyword=keyword, on_collected=collected, on_case=finished)
    return doc


def run_with_lines(target: Any, only: list[str], keyword: str | None, every: float = 5.0) -> dict[str, Any]:
    """Progress for a log: the case count, then a line each ``every`` seconds and one per failure."""
    import time

    from tigase_py.compat_tests import runner

    console.info("collecting the cases")
    state = {"total": 0, "done": 0, "failed": 0, "shown": time.monotonic()}
    started = time.monotonic()

    def collected(count: int) -> None:
        state["total"] = count
        console.info(f"running {count} cases against {target.name or target.domain}")

    def finished(result: Any) -> None:
        state["done"] += 1
        if result.outcome == "failed":
            state["failed"] += 1
            console.info(f"  failed: {result.id}")
        now = time.monotonic()
        if now - state["shown"] >= every or state["done"] == state["total"]:
            state["shown"] = now
            console.info(f"  {state['done']}/{state['total']} cases, {state['failed']} failed ({now - started:.0f} s)")

    doc, _ = runner.run(target, only=only, keyword=keyword, on_collected=collected, on_case=finished)
    return doc


def show(doc: dict[str, Any]) -> None:
    rows = [
        (spec, c["passed"] + c["unexpected-pass"], c["failed"], c["not-supported"], c["expected-deviation"],
         c["skipped"])
        for spec, c in doc["specs"].items()
    ]
    console.table(("spec", "passed", "failed", "not supported", "deviation", "skipped"), rows, title="By specification")
    level_rows = [
        (level, "reached" if e["reached"] else "not reached", f"{e['passed']}/{e['total']}")
        for level, e in doc["levels"].items()
    ]
    console.table(("XEP-0479 level", "", "passed"), level_rows, title="Compliance levels")
    for case in doc["cases"]:
        if case["outcome"] == "failed":
            console.error(f"{case['spec']} {case['section']} {case['id']}: {case['message'].splitlines()[0][:200]}")
    s = doc["summary"]
    console.info(
        f"{s['total']} cases: {s['passed']} passed, {s['failed']} failed, {s['not-supported']} not supported, "
        f"{s['expected-deviation']} expected deviations, {s['unexpected-pass']} unexpected passes, "
        f"{s['skipped']} skipped"
    )


@app.command("run")
def run(
    target_file: Annotated[Path | None, typer.Option("--target", help="Target TOML file.", dir_okay=False)] = None,
    server: Annotated[str | None, typer.Option("--server", help="Throwaway prosody|ejabberd|tigase-py.")] = None,
    docker_image: Annotated[str | None, typer.Option("--docker", help="Run this image in a container.")] = None,
    host: Annotated[str | None, typer.Option(help="Host to connect to (default: the domain).")] = None,
    port: Annotated[int, typer.Option(help="c2s port.")] = 5222,
    domain: Annotated[str | None, typer.Option(help="XMPP domain.")] = None,
    tls: Annotated[str, typer.Option(help="starttls | direct | plain.")] = "starttls",
    verify_tls: Annotated[bool, typer.Option("--verify-tls", help="Verify the server certificate.")] = False,
    account: Annotated[list[str] | None, typer.Option("--account", help="jid:password (repeat).")] = None,
    register: Annotated[bool, typer.Option("--register", help="Create accounts by in-band registration.")] = False,
    admin: Annotated[str | None, typer.Option(help="Admin account, jid:password.")] = None,
    bosh_url: Annotated[str | None, typer.Option(help="BOSH URL.")] = None,
    websocket_url: Annotated[str | None, typer.Option(help="WebSocket URL.")] = None,
    name: Annotated[str | None, typer.Option(help="Name in reports.")] = None,
    deviations: Annotated[str | None, typer.Option(help="Deviations file name or path.")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Only this spec, e.g. XEP-0198 (repeat).")] = None,
    keyword: Annotated[str | None, typer.Option("-k", help="pytest -k expression over case names.")] = None,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Write JSON, JUnit XML, HTML.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result document as JSON.")] = False,
) -> None:
    """Run the suite against a server and report by specification and XEP-0479 level."""
    if server is not None and server not in SERVERS:
        raise errors.UsageError(f"--server must be one of {', '.join(SERVERS)}")
    if server is not None and docker_image is not None:
        raise errors.UsageError("give --server or --docker, not both")
    if server is None and docker_image is not None and domain is None and target_file is None:
        raise errors.UsageError("--docker needs --domain and --account (or --target)")
    template = None
    if server is None:
        template = build_target(
            target_file, host, port, domain, tls, verify_tls, account or [], register, admin, bosh_url,
            websocket_url, name, deviations,
        )  # fmt: skip
    with launched(server, docker_image, template) as target:
        if deviations is not None:
            target.deviations = deviations
        doc = run_with_progress(target, only or [], keyword)
    if report_dir is not None:
        from tigase_py.compat_tests import report

        for path in report.write_all(doc, report_dir):
            console.info(f"wrote {path}")
    if as_json:
        console.emit_json(doc)
    else:
        show(doc)
    if doc["summary"]["failed"]:
        raise typer.Exit(1)


@app.command("compare")
def compare(
    first: Annotated[Path, typer.Argument(help="Result JSON of the first target.", dir_okay=False)],
    second: Annotated[Path, typer.Argument(help="Result JSON of the second target.", dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Two result documents side by side, differences first."""
    from tigase_py.compat_tests import results

    try:
        a, b = results.load(first), results.load(second)
    except (OSError, ValueError) as exc:
        raise errors.UsageError(str(exc)) from None
    name_a, name_b = a["target"].get("name") or str(first), b["target"].get("name") or str(second)
    outcomes_a = {c["id"]: c for c in a["cases"]}
    outcomes_b = {c["id"]: c for c in b["cases"]}
    rows = []
    for ident in sorted(set(outcomes_a) | set(outcomes_b)):
        case = outcomes_a.get(ident) or outcomes_b[ident]
        left = outcomes_a.get(ident, {}).get("outcome", "absent")
        right = outcomes_b.get(ident, {}).get("outcome", "absent")
        rows.append({"id": ident, "spec": f"{case['spec']} {case['section']}", name_a: left, name_b: right,
                     "differs": left != right})  # fmt: skip
    rows.sort(key=lambda r: (not r["differs"], r["spec"], r["id"]))
    if as_json:
        levels = {level: {name_a: a["levels"][level]["reached"], name_b: b["levels"][level]["reached"]}
                  for level in a["levels"]}  # fmt: skip
        console.emit_json({"targets": [name_a, name_b], "differences": sum(r["differs"] for r in rows),
                           "levels": levels, "cases": rows})  # fmt: skip
        return
    console.table(
        ("", "spec", "case", name_a, name_b),
        [("≠" if r["differs"] else "", r["spec"], r["id"], r[name_a], r[name_b]) for r in rows],
        title=f"{name_a} vs {name_b}",
    )
    console.info(f"{sum(r['differs'] for r in rows)} of {len(rows)} cases differ")
