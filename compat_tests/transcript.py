"""What each case sent and received, recorded byte for byte so a failure shows the stanzas exchanged.

Cases run one after another, so one module-level transcript is current at a time; the plugin starts a
fresh one before each case and stores it with the case's result.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["sent", "received", "note"]
MAX_ENTRY = 16_384  # characters kept per entry
MAX_ENTRIES = 2_000


@dataclass
class Entry:
    time: float  # seconds since the transcript started
    direction: Direction
    who: str
    data: str

    def to_dict(self) -> dict[str, object]:
        return {"t": round(self.time, 4), "dir": self.direction, "who": self.who, "data": self.data}


@dataclass
class Transcript:
    started: float = field(default_factory=time.monotonic)
    entries: list[Entry] = field(default_factory=list)

    def add(self, direction: Direction, who: str, data: str) -> None:
        if len(self.entries) >= MAX_ENTRIES:
            return
        if len(data) > MAX_ENTRY:
            data = data[:MAX_ENTRY] + f"... [{len(data) - MAX_ENTRY} more characters]"
        self.entries.append(Entry(time.monotonic() - self.started, direction, who, data))

    def note(self, who: str, text: str) -> None:
        self.add("note", who, text)

    def render(self) -> str:
        arrows = {"sent": "->", "received": "<-", "note": "**"}
        return "\n".join(f"{e.time:8.3f} {e.who} {arrows[e.direction]} {e.data}" for e in self.entries)

    def to_list(self) -> list[dict[str, object]]:
        return [e.to_dict() for e in self.entries]


_current = Transcript()


def current() -> Transcript:
    return _current


def reset() -> Transcript:
    global _current
    _current = Transcript()
    return _current


class SlixmppRecorder(logging.Handler):
    """Copies slixmpp's ``SEND:``/``RECV:`` debug lines into the current transcript."""

    def __init__(self, who: str) -> None:
        super().__init__(logging.DEBUG)
        self.who = who

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("SEND: "):
            current().add("sent", self.who, message[6:])
        elif message.startswith("RECV: "):
            current().add("received", self.who, message[6:])
