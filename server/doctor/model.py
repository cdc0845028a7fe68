"""What a doctor check reports: one `Finding` per thing it looked at, and the `Report` of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["ok", "warning", "problem", "skipped"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One row of the doctor table: `check` looked at `subject` and found `detail`."""

    check: str
    status: Status
    subject: str
    detail: str

    @property
    def is_problem(self) -> bool:
        return self.status == "problem"

    def line(self) -> str:
        return f"{self.check}: {self.subject}: {self.detail}"


def ok(check: str, subject: str, detail: str) -> Finding:
    return Finding(check, "ok", subject, detail)


def warning(check: str, subject: str, detail: str) -> Finding:
    return Finding(check, "warning", subject, detail)


def problem(check: str, subject: str, detail: str) -> Finding:
    return Finding(check, "problem", subject, detail)


def skipped(check: str, subject: str, detail: str) -> Finding:
    return Finding(check, "skipped", subject, detail)


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_problem]

    @property
    def exit_code(self) -> int:
        """0 when nothing is a problem (warnings included), else 1."""
        return 1 if self.problems else 0

    def to_json(self) -> dict[str, object]:
        return {
            "ok": not self.problems,
            "exit_code": self.exit_code,
            "problems": [finding.line() for finding in self.problems],
            "findings": [asdict(finding) for finding in self.findings],
        }
