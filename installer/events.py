"""Fold ansible-runner events into per-host tallies: ok / changed / failed / unreachable, and notes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SERVICE_MODE_PREFIX = "service-mode: "
RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


@dataclass(slots=True)
class HostTally:
    host: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: bool = False
    skipped: int = 0
    error: str | None = None  # the first failure, one line
    service_mode: str | None = None  # "systemd" or "direct"
    address: str | None = None  # where the controller reaches the server
    changed_tasks: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        return "changed" if self.changed else "ok"

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "status": self.status,
            "ok": self.ok,
            "changed": self.changed,
            "failed": self.failed,
            "unreachable": self.unreachable,
            "skipped": self.skipped,
            "error": self.error,
            "service_mode": self.service_mode,
            "address": self.address,
            "changed_tasks": list(self.changed_tasks),
        }


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _lines(value: object) -> list[str]:
    return [line for line in str(value or "").strip().splitlines() if line.strip()]


def failure_message(result: Mapping[str, Any]) -> str:
    """The most useful single line out of a failed task's result.

    A command that exited non-zero says why on its last stderr (or stdout) line; its ``msg`` is
    only "non-zero return code".
    """
    if result.get("rc") not in (None, 0):
        for key in ("stderr", "stdout"):
            lines = _lines(result.get(key))
            if lines:
                return one_line(lines[-1].removeprefix("error: "))
    lines = _lines(result.get("msg"))
    if lines:
        return one_line(" ".join(lines))
    for key in ("stderr", "module_stderr", "stdout"):
        lines = _lines(result.get(key))
        if lines:
            return one_line(lines[-1])
    return "failed"


# How ssh and sudo say the login or the escalation was refused (OpenSSH, sudo, ansible's become).
HOST_KEY_CHANGED = ("REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key verification failed")
KEY_REFUSED = ("Permission denied (publickey", "Permission denied, please try again", "no such identity")
BECOME_REFUSED = (
    "Missing sudo password",
    "a password is required",
    "is not in the sudoers file",
    "is not allowed to execute",
    "sudo: not found",
    "sudo: command not found",
    "Incorrect sudo password",
    "waiting for privilege escalation prompt",
)


def _without_noise(message: str) -> str:
    """Drop ansible's "Task failed: " prefix and ssh's notes about adding a host key."""
    message = re.sub(r"Warning: Permanently added \S+ \(\S+\) to the list of known hosts\.\s*", "", message)
    return message.removeprefix("Task failed: ").strip()


def explain_unreachable(message: str) -> str:
    """One line for a host ansible could not log in to: a refused key is named as such."""
    message = _without_noise(message)
    if any(marker in message for marker in HOST_KEY_CHANGED):
        return (
            "SSH refused the host: its host key is not the one in known_hosts "
            "(check the host, then remove the old key with `ssh-keygen -R`)"
        )
    if any(marker in message for marker in KEY_REFUSED):
        return one_line(f"SSH refused the login: the key was not accepted ({message})")
    return one_line(f"unreachable: {message}")


def explain_failure(message: str) -> str:
    """One line for a failed task; a refused sudo is named as a privilege escalation failure."""
    message = _without_noise(message)
    if any(marker in message for marker in BECOME_REFUSED):
        return one_line(f"privilege escalation failed: the SSH user cannot become root with sudo ({message})")
    return message


@dataclass(slots=True)
class Tally:
    """All hosts of one run, fed event by event."""

    hosts: dict[str, HostTally] = field(default_factory=dict)

    def host(self, name: str) -> HostTally:
        if name not in self.hosts:
            self.hosts[name] = HostTally(name)
        return self.hosts[name]

    def feed(self, event: Mapping[str, Any]) -> tuple[str, str, str] | None:
        """Count one runner event; return (host, task, outcome) for task results, else None."""
        kind = RESULT_EVENTS.get(str(event.get("event", "")))
        data = event.get("event_data") or {}
        name = data.get("host")
        if kind is None or not name:
            return None
        task = str(data.get("task", ""))
        result = data.get("res") or {}
        tally = self.host(str(name))
        ignored = bool(data.get("ignore_errors"))
        if kind == "unreachable":
            tally.unreachable = True
            tally.error = tally.error or explain_unreachable(failure_message(result))
        elif kind == "failed" and not ignored:
            tally.failed += 1
            tally.error = tally.error or explain_failure(failure_message(result))
        elif kind == "skipped":
            tally.skipped += 1
        else:
            tally.ok += 1
            if result.get("changed"):
                tally.changed += 1
                tally.changed_tasks.append(task)
                kind = "changed"
            message = result.get("msg")
            if isinstance(message, str) and message.startswith(SERVICE_MODE_PREFIX):
                mode, _, address = message.removeprefix(SERVICE_MODE_PREFIX).partition(" ")
                tally.service_mode, tally.address = mode, address.strip() or None
        return str(name), task, kind
