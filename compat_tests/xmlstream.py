"""An incremental XML stream reader of the suite's own (ElementTree's pull parser), not a server's.

It yields the stream header once, then each complete top-level element (stanzas, features, errors),
and notices when the peer closes its stream.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, cast


class NotWellFormed(Exception):
    """The peer sent bytes that are not well-formed XML."""


@dataclass
class StreamHeader:
    tag: str
    attrib: dict[str, str]
    namespaces: dict[str, str] = field(default_factory=dict)  # prefix ("" = default) → URI

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrib.get(name, default)


Event = StreamHeader | ET.Element | None  # None: the peer closed its stream (</stream:stream>)


class StreamParser:
    """Feed bytes, read events. A stream restart needs a fresh parser."""

    def __init__(self) -> None:
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end", "start-ns"))
        self._depth = 0
        self._root: ET.Element | None = None
        self._pending_ns: dict[str, str] = {}

    def feed(self, data: bytes) -> list[Event]:
        try:
            self._parser.feed(data)
            raw: list[tuple[str, Any]] = list(self._parser.read_events())  # type: ignore[arg-type]
        except ET.ParseError as exc:
            raise NotWellFormed(str(exc)) from None
        events: list[Event] = []
        for kind, value in raw:
            if kind == "start-ns":
                prefix, uri = cast("tuple[str, str]", value)
                if self._depth == 0:
                    self._pending_ns[prefix] = uri
                continue
            element: ET.Element = value  # type: ignore[assignment]
            if kind == "start":
                if self._depth == 0:
                    self._root = element
                    events.append(StreamHeader(element.tag, dict(element.attrib), dict(self._pending_ns)))
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 1:
                    events.append(element)
                    if self._root is not None and element in list(self._root):
                        self._root.remove(element)
                elif self._depth == 0:
                    events.append(None)
        return events
