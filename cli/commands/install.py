"""``tigase-py install`` / ``uninstall``: put the server on hosts with the ansible playbooks of ``installer/``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tigase_py.cli import console, errors

if TYPE_CHECKING:
    from tigase_py.installer.deploy import Report
    from tigase_py.installer.options import Targets
    from tigase_py.installer.runner import Progress

ADMIN_TASK = "Report the admin account"
UNIT_PATH = "/etc/systemd/system/tigase-py.service"

HostsArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Hosts to reach over SSH: [USER@]HOST[:PORT] ([::1]:22 for IPv6).", show_default=False),
]
InventoryOption = Annotated[
    Path | None, typer.Option("--inventory", "-i", help="An ansible inventory file instead of HOST...", exists=True)
]
LocalOption = Annotated[bool, typer.Option("--local", help="This machine, without SSH.")]
SshUserOption = Annotated[str | None, typer.Option("--ssh-user", help="SSH login (sudo is used to become root).")]
SshPortOption = Annotated[int | None, typer.Option("--ssh-port", min=1, max=65535, help="SSH port.")]
SshKeyOption = Annotated[Path | None, typer.Option("--ssh-key", help="SSH private key file.", exists=True)]
PrefixOption = Annotated[str, typer.Option("--prefix", help="Where the virtual environment goes on the host.")]
LogDirOption = Annotated[
    Path | None, typer.Option("--log-dir", help="Keep run logs here (default ~/.local/state/tigase-py/installs).")
]
CheckOption = Annotated[bool, typer.Option("--check", help="Dry run: show what would change.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _targets(
    hosts: list[str] | None,
    inventory: Path | None,
    local: bool,
    ssh_user: str | None,
    ssh_port: int | None,
    ssh_key: Path | None,
) -> Targets:
    from tigase_py.installer.inventory import split_host
    from tigase_py.installer.options import Targets

    chosen = sum((bool(hosts), inventory is not None, local))
    if chosen != 1:
        raise errors.UsageError("give HOST..., --inventory FILE or --local (exactly one)")
    for host in hosts or ():
        try:
            split_host(host)
        except ValueError as exc:
            raise errors.UsageError(str(exc)) from None
    return Targets(tuple(hosts or ()), inventory, local, ssh_user, ssh_port, ssh_key)


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    """A live line with the running task and per-outcome counts; changed and failed tasks are listed."""
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn

    err = Console(stderr=True, highlight=False, soft_wrap=True, quiet=quiet)
    counts = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0}
    with Bar(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as bar:
        line = bar.add_task("gathering facts")

        def show(host: str, task: str, outcome: str) -> None:
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome in ("changed", "failed", "unreachable"):
                style = {"changed": "yellow", "failed": "red", "unreachable": "red"}[outcome]
                err.print(f"[{style}]{outcome:>11}[/] {host}  {task}")
            tally = " ".join(f"{name} {value}" for name, value in counts.items() if value)
            bar.update(line, description=f"{host}: {task}  [dim]({tally})[/]")

        yield show


def _service_note(mode: str | None) -> str:
    return {"systemd": "systemd", "direct": "server start"}.get(mode or "", "-")


def _explain_service(host: str, mode: str | None) -> None:
    if mode == "systemd":
        console.info(f"{host}: started by systemd (tigase-py.service, enabled)")
    elif mode == "direct":
        console.info(
            f"{host}: systemd is not PID 1 there; started with `tigase-py server start` from the install "
            f"(the unit is written to {UNIT_PATH} for when systemd runs)"
        )


def _show(report: Report, as_json: bool, admin_password: str | None, generated: bool) -> None:
    if as_json:
        console.emit_json(report.as_dict())
    else:
        rows = []
        for host in report.hosts:
            tally = host.tally
            checks = ", ".join(f"{c.name} {'ok' if c.ok else 'FAILED'}" for c in host.checks) or "-"
            rows.append(
                (
                    tally.host,
                    tally.status,
                    tally.ok,
                    tally.changed,
                    tally.failed,
                    _service_note(tally.service_mode),
                    checks,
                )
            )
        title = f"{report.action}{' (dry run)' if report.check_mode else ''}"
        console.table(("host", "result", "ok", "changed", "failed", "service", "checks"), rows, title=title)
        if generated and any(ADMIN_TASK in host.tally.changed_tasks for host in report.hosts):
            console.info(f"admin password (shown once): {admin_password}")
    for host in report.hosts:
        if report.action == "install":
            _explain_service(host.tally.host, host.tally.service_mode)
        if host.tally.error:
            console.error(f"{host.tally.host}: {host.tally.error}")
        for check in host.checks:
            if not check.ok:
                console.error(f"{host.tally.host}: {check.name} check failed: {check.detail}")
    if not report.hosts:
        console.error(f"{report.action} did not reach any host (ansible: {report.runner_status})")
    if report.wheelhouse:
        console.info(f"wheelhouse: {report.wheelhouse}")
    console.info(f"full log: {report.log}")


def install(
    hosts: HostsArgument = None,
    inventory: InventoryOption = None,
    local: LocalOption = False,
    vhost: Annotated[list[str] | None, typer.Option("--vhost", help="Virtual host (repeat for more).")] = None,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help="Storage URL (default: SQLite).")] = None,
    db_admin_url: Annotated[
        str | None, typer.Option("--db-admin-url", metavar="URL", help="Create the database and account first.")
    ] = None,
    db_name: Annotated[str, typer.Option("--db-name", help="Database to create.")] = "tigase",
    db_user: Annotated[str, typer.Option("--db-user", help="Account to create.")] = "tigase",
    db_password: Annotated[str | None, typer.Option("--db-password", help="Password of that account.")] = None,
    install_mariadb: Annotated[bool, typer.Option("--install-mariadb", help="Install MariaDB on the host.")] = False,
    admin: Annotated[str | None, typer.Option("--admin", metavar="JID", help="Create this admin account.")] = None,
    admin_password: Annotated[
        str | None, typer.Option("--admin-password", help="Its password (default: generated, shown once).")
    ] = None,
    prefix: PrefixOption = "/opt/tigase-py",
    address: Annotated[str, typer.Option("--address", help="Client listener address.")] = "0.0.0.0",
    c2s_port: Annotated[int, typer.Option("--c2s-port", min=1, max=65535, help="STARTTLS client port.")] = 5222,
    direct_tls_port: Annotated[int, typer.Option("--direct-tls-port", min=1, max=65535)] = 5223,
    http_port: Annotated[int, typer.Option("--http-port", min=1, max=65535, help="HTTP API port (loopback).")] = 5280,
    max_connections: Annotated[int, typer.Option("--max-connections", min=1, help="Sizes LimitNOFILE.")] = 10000,
    cert: Annotated[Path | None, typer.Option("--cert", exists=True, help="TLS certificate (PEM).")] = None,
    key: Annotated[Path | None, typer.Option("--key", exists=True, help="Its private key (PEM).")] = None,
    upgrade: Annotated[bool, typer.Option("--upgrade", help="New wheel, schema upgrade, one host at a time.")] = False,
    check: CheckOption = False,
    ssh_user: SshUserOption = None,
    ssh_port: SshPortOption = None,
    ssh_key: SshKeyOption = None,
    wheelhouse: Annotated[
        Path | None, typer.Option("--wheelhouse", file_okay=False, exists=True, help="Prebuilt wheels to ship.")
    ] = None,
    log_dir: LogDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Install the server on hosts: user, venv, config, TLS, systemd unit, schema, admin, start, health check.

    Exit: 0 ok, 1 a host failed (sudo, database, port, OS, check), 2 bad arguments, 3 unreachable or key refused.
    """
    from tigase_py.installer import deploy, runner
    from tigase_py.installer.options import InstallOptions
    from tigase_py.installer.wheelhouse import WheelhouseError, default_cache
    from tigase_py.server.config.errors import ConfigError

    targets = _targets(hosts, inventory, local, ssh_user, ssh_port, ssh_key)
    if (cert is None) != (key is None):
        raise errors.UsageError("--cert and --key go together")
    generated = admin is not None and admin_password is None
    if generated:
        admin_password = secrets.token_urlsafe(18)
    options = InstallOptions(
        vhosts=tuple(vhost or ("localhost",)),
        db_url=db,
        db_admin_url=db_admin_url,
        db_name=db_name,
        db_user=db_user,
        db_password=db_password,
        install_mariadb=install_mariadb,
        admin_jid=admin,
        admin_password=admin_password,
        prefix=prefix,
        address=address,
        c2s_port=c2s_port,
        direct_tls_port=direct_tls_port,
        http_port=http_port,
        max_connections=max_connections,
        certificate=cert,
        key=key,
        upgrade=upgrade,
        check=check,
        wheelhouse=wheelhouse,
    )
    log_root = log_dir or runner.default_log_root()
    if not as_json:
        console.info(f"installing tigase-py on {targets.describe()}")
    try:
        with _progress(quiet=as_json) as progress:
            report = deploy.install(targets, options, log_root=log_root, wheel_cache=default_cache(), progress=progress)
    except ConfigError as exc:
        raise errors.UsageError(f"config: {exc}") from None
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None
    except WheelhouseError as exc:
        raise errors.CliError(str(exc)) from None
    _show(report, as_json, admin_password, generated)
    raise typer.Exit(report.exit_code)


def uninstall(
    hosts: HostsArgument = None,
    inventory: InventoryOption = None,
    local: LocalOption = False,
    purge: Annotated[bool, typer.Option("--purge", help="Also remove the config, the data and the user.")] = False,
    prefix: PrefixOption = "/opt/tigase-py",
    check: CheckOption = False,
    ssh_user: SshUserOption = None,
    ssh_port: SshPortOption = None,
    ssh_key: SshKeyOption = None,
    log_dir: LogDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop the server and remove it; the config and data stay unless --purge."""
    from tigase_py.installer import deploy, runner

    targets = _targets(hosts, inventory, local, ssh_user, ssh_port, ssh_key)
    log_root = log_dir or runner.default_log_root()
    with _progress(quiet=as_json) as progress:
        report = deploy.uninstall(
            targets, prefix=prefix, purge=purge, log_root=log_root, check=check, progress=progress
        )
    _show(report, as_json, None, False)
    raise typer.Exit(report.exit_code)
