"""``tigase-py status``: a one-screen health view over HTTP, SNMP, JMX and/or XMPP ad-hoc.

On the server's host (its config found, no --host/--http-url/--api-key/--user given) the HTTP channel
goes over the server's admin socket, which needs no credentials; see ``cli/local_admin.py``.
Exit 0 healthy, 1 unhealthy (or credentials refused), 3 unreachable: see ``monitoring/status.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tigase_py.cli import console, context, errors, local_admin

if TYPE_CHECKING:
    from tigase_py.cli.local_admin import LocalSocket
    from tigase_py.monitoring.http import HttpTarget
    from tigase_py.monitoring.model import ProbeResult
    from tigase_py.monitoring.status import Probe, Verdict

CHANNELS = ("http", "snmp", "jmx", "xmpp")
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}

Host = Annotated[
    str | None,
    typer.Option(
        "--host", help="Server host for every channel, at the config's ports (default: the admin socket / 127.0.0.1)."
    ),
]
HttpUrl = Annotated[
    str | None,
    typer.Option("--http-url", help="REST base URL (default: the admin socket, else the config's http listener)."),
]
ApiKey = Annotated[str | None, typer.Option("--api-key", envvar="TIGASE_PY_API_KEY", help="REST API key.")]
User = Annotated[str | None, typer.Option("--user", help="Admin JID for HTTP Basic auth (instead of an API key).")]
Password = Annotated[str | None, typer.Option("--password", envvar="TIGASE_PY_PASSWORD", help="Password of --user.")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds each probe may take.")]


@dataclass(frozen=True, slots=True)
class Defaults:
    """What the local config says about where the server listens (empty without a config)."""

    http_url: str | None = None
    http_port: int | None = None
    api_key: str | None = None
    snmp_port: int | None = None
    snmp_community: str | None = None
    snmp_base: str | None = None
    xmpp_port: int | None = None
    local: LocalSocket | None = None  # the admin socket, when the config has one and it exists


def config_defaults(remote: bool = False) -> Defaults:
    """Read ``[http]``/``[snmp]``/listeners/``[admin_socket]`` from the config when one is found.

    A missing config is no error; one that exists but that this user may not read is (unless ``remote``:
    the user named the server with --host/--http-url and needs nothing from it).
    """
    from tigase_py.server.config.errors import ConfigError

    try:
        config = context.load()
    except ConfigError:
        if context.state.explicit_config is not None:
            raise
        _refuse_unreadable(remote)
        return Defaults()
    http, snmp = config.http, config.snmp
    address = WILDCARDS.get(http.address, http.address)
    c2s = [item.port for item in config.listeners if item.tls in ("starttls", "none")]
    return Defaults(
        http_url=f"http://{_url_host(address)}:{http.port}" if http.enabled else None,
        http_port=http.port,
        api_key=next(iter(http.api_keys.values()), None),
        snmp_port=snmp.port,
        snmp_community=snmp.community,
        snmp_base=snmp.base_oid,
        xmpp_port=c2s[0] if c2s else None,
        local=None if remote else local_admin.locate(config),
    )


def _refuse_unreadable(remote: bool) -> None:
    from tigase_py.server.config.errors import ConfigError

    try:
        path = context.locate().path
    except ConfigError:
        return
    if not remote and path.exists() and not os.access(path, os.R_OK):
        raise errors.CliError(
            f"cannot read {path} (permission denied): run as the server's user, or name the server with "
            "--host/--http-url and give --api-key or --user/--password"
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_remote(host: str | None, url: str | None, api_key: str | None, user: str | None) -> bool:
    """Whether the user named a server or credentials, so the admin socket is not used."""
    return bool(host or url or api_key or user)


def warn_private_files() -> None:
    """With a local config: a warning line for each of its data files other users can read."""
    from tigase_py.server.config.errors import ConfigError
    from tigase_py.server.config.permissions import exposed

    try:
        config = context.load()
    except ConfigError:
        return
    for warning in exposed(config):
        console.warning(warning)


def http_target(defaults: Defaults, host: str | None, url: str | None, api_key: str | None,
                user: str | None, password: str | None) -> HttpTarget:  # fmt: skip
    """The admin socket on the server's host (nothing named on the command line), else the REST URL."""
    from tigase_py.monitoring.http import HttpTarget

    if defaults.local is not None and not is_remote(host, url, api_key, user):
        local_admin.verify(defaults.local)
        return HttpTarget(url=local_admin.BASE_URL, socket=os.fspath(defaults.local.path))
    if url is None:
        port = defaults.http_port or 5280
        url = f"http://{_url_host(host)}:{port}" if host else defaults.http_url or "http://127.0.0.1:5280"
    if user and not password:
        raise errors.UsageError("--user needs --password (or TIGASE_PY_PASSWORD)")
    if api_key is None and not user:
        api_key = defaults.api_key
    return HttpTarget(url=url, api_key=api_key, user=user, password=password)


def parse_via(via: str) -> list[str]:
    chosen = [part.strip().lower() for part in via.split(",") if part.strip()]
    if chosen == ["all"]:
        return list(CHANNELS)
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown or not chosen:
        raise errors.UsageError(
            f"--via: unknown channel {', '.join(unknown) or repr(via)}; use http, snmp, jmx, xmpp or all"
        )
    return chosen


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m" if days or hours or minutes else f"{secs}s")
    if not days and not hours and minutes:
        parts.append(f"{secs}s")
    return " ".join(parts)


def _num(value: float | int | None, unit: str = "", digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


def rows(results: list[ProbeResult]) -> list[list[str]]:
    """One row per field, one column per probe."""

    def line(label: str, cell: Any) -> list[str]:
        return [label, *(cell(r) if r.ok else "-" for r in results)]

    def files(r: ProbeResult) -> str:
        if r.open_files is None:
            return "-"
        return f"{r.open_files} / {r.open_files_limit}" if r.open_files_limit else str(r.open_files)

    def heap(r: ProbeResult) -> str:
        if r.heap_used_bytes is None:
            return "-"
        used = r.heap_used_bytes / 2**20
        return f"{used:,.0f} / {r.heap_max_bytes / 2**20:,.0f} MiB" if r.heap_max_bytes else f"{used:,.0f} MiB"

    storage = {True: "up", False: "DOWN", None: "-"}
    return [
        ["reachable", *("yes" if r.ok else f"no ({r.failure})" for r in results)],
        ["target", *(r.target for r in results)],
        line("latency", lambda r: _num(r.latency_ms, " ms")),
        line("version", lambda r: r.version or "-"),
        line("uptime", lambda r: _duration(r.uptime_seconds)),
        line("vhosts", lambda r: ", ".join(r.vhosts) or "-"),
        line("sessions", lambda r: _num(r.sessions)),
        line("registered users", lambda r: _num(r.registered_users)),
        line("messages/s", lambda r: _num(r.messages_per_second, digits=2)),
        line("auth failures", lambda r: _num(r.auth_failures)),
        line("storage", lambda r: storage[r.storage_up]),
        line("storage p99", lambda r: _num(r.storage_latency_ms, " ms", 1)),
        line("open files", files),
        line("resident memory", lambda r: _num(None if r.resident_kib is None else r.resident_kib / 1024, " MiB")),
        line("heap", heap),
        line("threads", lambda r: _num(r.threads)),
    ]


def _title(verdict: Verdict) -> str:
    return f"tigase-py status: {verdict.state.upper()}"


def show(verdict: Verdict) -> None:
    ok = [r for r in verdict.results if r.ok]
    if ok:
        console.table(["", *(r.probe for r in verdict.results)], rows(verdict.results), title=_title(verdict))
    for problem in verdict.problems:
        console.error(problem)


def renderable(verdict: Verdict) -> Any:
    """The same view as :func:`show`, as one rich renderable for ``--watch``."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    view = Table(title=_title(verdict), show_header=True, header_style="bold")
    for column in ["", *(r.probe for r in verdict.results)]:
        view.add_column(column)
    for row in rows(verdict.results):
        view.add_row(*(Text(cell) for cell in row))
    notes = [Text(f"error: {p}", style="red") for p in verdict.problems]
    return Group(view, *notes, Text(time.strftime("updated %H:%M:%S; Ctrl-C to stop"), style="dim"))


def status(
    via: Annotated[str, typer.Option("--via", help="http, snmp, jmx, xmpp, a comma list, or all.")] = "http",
    host: Host = None,
    http_url: HttpUrl = None,
    api_key: ApiKey = None,
    user: User = None,
    password: Password = None,
    snmp_community: Annotated[str | None, typer.Option("--snmp-community", help="SNMP v2c community.")] = None,
    snmp_user: Annotated[str | None, typer.Option("--snmp-user", help="SNMPv3 user (authPriv).")] = None,
    snmp_auth_key: Annotated[str | None, typer.Option("--snmp-auth-key", envvar="TIGASE_PY_SNMP_AUTH_KEY")] = None,
    snmp_priv_key: Annotated[str | None, typer.Option("--snmp-priv-key", envvar="TIGASE_PY_SNMP_PRIV_KEY")] = None,
    snmp_port: Annotated[
        int | None, typer.Option("--snmp-port", help="Agent UDP port (default: config / 1161).")
    ] = None,
    jmx_url: Annotated[
        str | None, typer.Option("--jmx-url", help="service:jmx:rmi:///jndi/rmi://HOST:PORT/jmxrmi")
    ] = None,
    jmx_port: Annotated[int, typer.Option("--jmx-port", help="JMX port with --host when no --jmx-url.")] = 9050,
    jmx_user: Annotated[str | None, typer.Option("--jmx-user", help="JMX user (prefer a read-only role).")] = None,
    jmx_password: Annotated[str | None, typer.Option("--jmx-password", envvar="TIGASE_PY_JMX_PASSWORD")] = None,
    xmpp_jid: Annotated[str | None, typer.Option("--xmpp-jid", help="Admin JID for XEP-0133 commands.")] = None,
    xmpp_password: Annotated[str | None, typer.Option("--xmpp-password", envvar="TIGASE_PY_XMPP_PASSWORD")] = None,
    xmpp_host: Annotated[
        str | None, typer.Option("--xmpp-host", help="Connect here instead of the JID's domain.")
    ] = None,
    xmpp_port: Annotated[
        int | None, typer.Option("--xmpp-port", help="(default: the config's STARTTLS c2s listener, else 5222)")
    ] = None,
    xmpp_no_verify: Annotated[bool, typer.Option("--xmpp-no-verify", help="Accept any TLS certificate.")] = False,
    timeout: Timeout = 5.0,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.5, help="Seconds between --watch refreshes.")] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Health of a running server: exit 0 healthy, 1 unhealthy, 3 unreachable."""
    from tigase_py.monitoring import http as http_probe
    from tigase_py.monitoring import jmx, snmp, xmpp_adhoc
    from tigase_py.monitoring import status as monitor

    if watch and as_json:
        raise errors.UsageError("--watch and --json do not combine; run --json from a loop instead")
    channels = parse_via(via)
    every = via.strip().lower() == "all"
    remote = bool(host or http_url)
    defaults = config_defaults(remote=remote or "http" not in channels)
    if not remote:
        warn_private_files()
    probes: dict[str, tuple[str, Probe]] = {}
    if "http" in channels:
        target = http_target(defaults, host, http_url, api_key, user, password)
        probes["http"] = (target.address, lambda: http_probe.probe(target, timeout))
    if "snmp" in channels:
        snmp_target = snmp.SnmpTarget(
            host=host or "127.0.0.1",
            port=snmp_port or defaults.snmp_port or 1161,
            community=snmp_community or defaults.snmp_community or "public",
            user=snmp_user, auth_key=snmp_auth_key, priv_key=snmp_priv_key,
            base_oid=defaults.snmp_base or snmp.DEFAULT_BASE,
        )  # fmt: skip
        probes["snmp"] = (snmp_target.address, lambda: snmp.probe(snmp_target, timeout))
    if "jmx" in channels and (jmx_url or host or defaults.http_url or not every):
        jmx_target = jmx.JmxTarget(
            jmx.target_url(jmx_url, host, jmx_port, defaults.http_url), jmx_user, jmx_password
        )
        probes["jmx"] = (jmx_target.url, lambda: jmx.probe(jmx_target, timeout))
    if "xmpp" in channels and (xmpp_jid or not every):
        if not xmpp_jid or not xmpp_password:
            raise errors.UsageError("--via xmpp needs --xmpp-jid and --xmpp-password (or TIGASE_PY_XMPP_PASSWORD)")
        port = xmpp_port or defaults.xmpp_port or 5222
        xmpp_target = xmpp_adhoc.XmppTarget(xmpp_jid, xmpp_password, xmpp_host or host, port, not xmpp_no_verify)
        probes["xmpp"] = (xmpp_target.address, lambda: xmpp_adhoc.probe(xmpp_target, timeout))

    def sample(previous: list[ProbeResult] | None) -> Verdict:
        return monitor.fold(monitor.with_rates(asyncio.run(monitor.run(probes, timeout)), previous))

    if watch:
        raise typer.Exit(_watch(sample, interval))
    verdict = sample(None)
    if as_json:
        console.emit_json(verdict.to_json())
        for result in verdict.results:
            if result.error:
                console.error(result.error)
    else:
        show(verdict)
    raise typer.Exit(verdict.exit_code)


def _watch(sample: Any, interval: float) -> int:
    from rich.console import Console
    from rich.live import Live

    verdict = sample(None)
    # Live needs its own Console on stdout: the view is redrawn in place, not appended.
    with Live(renderable(verdict), console=Console(highlight=False), auto_refresh=False) as live:
        try:
            while True:
                time.sleep(interval)
                verdict = sample(verdict.results)
                live.update(renderable(verdict), refresh=True)
        except KeyboardInterrupt:
            pass
    return verdict.exit_code
