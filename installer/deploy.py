"""Install and uninstall runs: prepare the wheelhouse and vars, run the playbook, check each host."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tigase_py.installer import database, health, inventory, render, runner, wheelhouse
from tigase_py.installer.events import HostTally
from tigase_py.installer.options import InstallOptions, Targets

EXIT_OK, EXIT_FAILED, EXIT_UNREACHABLE = 0, 1, 3


@dataclass(slots=True)
class HostReport:
    tally: HostTally
    checks: list[health.Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.tally.status in ("ok", "changed") and all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        document = self.tally.as_dict()
        document["checks"] = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]
        return document


@dataclass(slots=True)
class Report:
    action: str
    hosts: list[HostReport]
    log: Path
    runner_status: str
    check_mode: bool = False
    wheelhouse: str = ""  # where the shipped wheels came from

    @property
    def exit_code(self) -> int:
        if any(host.tally.unreachable for host in self.hosts):
            return EXIT_UNREACHABLE
        if self.runner_status != "successful" or not self.hosts or not all(host.ok for host in self.hosts):
            return EXIT_FAILED
        return EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "check": self.check_mode,
            "ok": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "runner_status": self.runner_status,
            "log": str(self.log),
            "wheelhouse": self.wheelhouse,
            "hosts": [host.as_dict() for host in self.hosts],
        }


def prepare_wheelhouse(options: InstallOptions, cache: Path) -> wheelhouse.Wheelhouse:
    """--wheelhouse; else a build of this checkout; else the wheelhouse this installed copy came with;
    else this installed version and its dependencies from pip's configured index."""
    if options.wheelhouse is not None:
        return replace(wheelhouse.inspect(options.wheelhouse), origin=f"--wheelhouse {options.wheelhouse}")
    if wheelhouse.source_checkout() is not None:
        return wheelhouse.build(cache)
    shipped = wheelhouse.installed_wheelhouse()
    if shipped is not None:
        return replace(wheelhouse.inspect(shipped), origin=f"shipped with this install in {shipped}")
    return wheelhouse.from_index(cache)


def install(
    targets: Targets,
    options: InstallOptions,
    *,
    log_root: Path,
    wheel_cache: Path,
    progress: runner.Progress | None = None,
) -> Report:
    """Run site.yml; raises ValueError / ConfigError on bad options, WheelhouseError on build trouble."""
    options = database.resolve(options)
    render.validate(options)
    wheels = prepare_wheelhouse(options, wheel_cache)
    with tempfile.TemporaryDirectory(prefix="tigase-py-install-") as scratch:  # holds a fresh private key
        extravars = inventory.install_vars(options, wheels, Path(scratch))
        outcome = runner.run_playbook(
            "site.yml",
            inventory.build_inventory(targets),
            extravars,
            log_root=log_root,
            check=options.check,
            progress=progress,
        )
    reports = [HostReport(tally) for tally in outcome.tally.hosts.values()]
    if not options.check:
        domain = options.vhosts[0]
        for report in reports:
            if report.tally.status in ("ok", "changed") and report.tally.address:
                report.checks = health.check_host(report.tally.address, options.c2s_port, options.http_port, domain)
    return Report(
        "install", reports, outcome.log, outcome.status, check_mode=options.check, wheelhouse=wheels.origin
    )


def uninstall(
    targets: Targets,
    *,
    prefix: str,
    purge: bool,
    log_root: Path,
    check: bool = False,
    progress: runner.Progress | None = None,
) -> Report:
    outcome = runner.run_playbook(
        "uninstall.yml",
        inventory.build_inventory(targets),
        inventory.uninstall_vars(prefix, purge),
        log_root=log_root,
        check=check,
        progress=progress,
    )
    reports = [HostReport(tally) for tally in outcome.tally.hosts.values()]
    return Report("uninstall", reports, outcome.log, outcome.status, check)
