"""Module handlers called directly, on in-memory stores: no sockets, no database.

`memory_module(module)` gives a module's context over fake capabilities whose storage is a
`MemoryStorage`, recording what the module routes and fires; `iq(...)` builds the context of one IQ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.unit.module_fakes import Fakes
from tigase_py.server import jid as jids
from tigase_py.server.core.capabilities import ServerSettings
from tigase_py.server.core.module import IqContext, Module, ModuleContext
from tigase_py.server.storage.memory import MemoryStorage
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import parse_fragment

VHOST = "example.com"


@dataclass
class Recorded:
    """What the module sent out through the router and the events it fired."""

    routed: list[Element] = field(default_factory=list)
    fired: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)


def memory_module(
    module: Module, offline_queue_size: int = 100, **options: Any
) -> tuple[ModuleContext, MemoryStorage, Recorded]:
    storage = MemoryStorage()
    fakes = Fakes(
        vhosts={VHOST}, settings=ServerSettings(offline_queue_size=offline_queue_size), storage=storage
    )
    ctx = fakes.context(module, VHOST, options)
    recorded = Recorded(routed=fakes.routed, fired=fakes.events.fired)
    return ctx, storage, recorded


def iq(ctx: ModuleContext, xml: str) -> IqContext:
    """The context of the IQ `xml` (with `from` and `to`) as the router hands it to a handler."""
    stanza = parse_fragment(xml)
    return IqContext(ctx, stanza, jids.parse(stanza.attrs["from"]), jids.parse(stanza.attrs["to"]), None)
