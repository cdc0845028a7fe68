"""Module handlers called directly, on in-memory stores: no sockets, no database.

`memory_module(module)` gives a started module's context over a stand-in server whose storage is a
`MemoryStorage` and which records what the module routes; `iq(...)` builds the context of one IQ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from tigase_py.server import jid as jids
from tigase_py.server.core.module import IqContext, Module, ModuleContext, build_config
from tigase_py.server.storage.memory import MemoryStorage
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import parse_fragment

VHOST = "example.com"


@dataclass
class Recorded:
    """What the module sent out through the router and the events it fired."""

    routed: list[Element] = field(default_factory=list)
    fired: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def memory_module(
    module: Module, offline_queue_size: int = 100, **options: Any
) -> tuple[ModuleContext, MemoryStorage, Recorded]:
    storage = MemoryStorage()
    recorded = Recorded()

    async def deliver(stanza: Element) -> None:
        recorded.routed.append(stanza)

    async def fire(event: str, vhost: str, **fields: Any) -> bool:
        recorded.fired.append((event, fields))
        return False

    server = SimpleNamespace(
        storage=storage,
        config=SimpleNamespace(limits=SimpleNamespace(offline_queue_size=offline_queue_size)),
        vhosts={VHOST},
        router=SimpleNamespace(deliver=deliver),
        bus=SimpleNamespace(fire=fire),
        sessions=SimpleNamespace(resources=lambda owner: [], has_resources=lambda owner: False),
    )
    ctx = ModuleContext(server, module, VHOST, build_config(module, options))  # type: ignore[arg-type]
    return ctx, storage, recorded


def iq(ctx: ModuleContext, xml: str) -> IqContext:
    """The context of the IQ `xml` (with `from` and `to`) as the router hands it to a handler."""
    stanza = parse_fragment(xml)
    return IqContext(ctx, stanza, jids.parse(stanza.attrs["from"]), jids.parse(stanza.attrs["to"]), None)
