"""The event bus: priority order, STOP/DROP, and folds limited to the stanza kinds they declare."""

from __future__ import annotations

from typing import Any

import pytest

from tigase_py.server.core.events import DROP, STOP, EventBus, UnknownEvent
from tigase_py.server.xml.element import Element


async def test_fold_skips_handlers_declared_for_other_kinds() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def presence_only(stanza: Element, **_: Any) -> Element:
        seen.append(f"presence-only:{stanza.tag}")
        return stanza

    async def every_kind(stanza: Element, **_: Any) -> Element:
        seen.append(f"every:{stanza.tag}")
        return stanza

    bus.on("stanza.outbound", presence_only, "example.org", 0, frozenset({"presence"}))
    bus.on("stanza.outbound", every_kind, "example.org")
    await bus.fold("stanza.outbound", Element("message"), "example.org")
    await bus.fold("stanza.outbound", Element("presence"), "example.org")
    assert seen == ["every:message", "presence-only:presence", "every:presence"]
    assert bus.has("stanza.outbound", "example.org", "iq")
    assert bus.has("stanza.outbound", "example.org")


async def test_fold_kind_filter_undone_with_registration() -> None:
    bus = EventBus()

    async def iq_only(stanza: Element, **_: Any) -> str:
        return DROP

    undo = bus.on("stanza.deliver", iq_only, None, 0, frozenset({"iq"}))
    assert await bus.fold("stanza.deliver", Element("iq"), "a.example") is DROP
    assert not bus.has("stanza.deliver", "a.example", "message")
    undo()
    assert not bus.has("stanza.deliver", "a.example", "iq")
    iq = Element("iq")
    assert await bus.fold("stanza.deliver", iq, "a.example") is iq


async def test_fire_runs_by_priority_and_stops() -> None:
    bus = EventBus()
    order: list[int] = []

    async def low(**_: Any) -> None:
        order.append(0)

    async def high(**_: Any) -> str:
        order.append(10)
        return STOP

    bus.on("user.created", low)
    bus.on("user.created", high, priority=10)
    assert await bus.fire("user.created", "x", owner="a@x") is True
    assert order == [10]


def test_unknown_event_name_is_refused() -> None:
    async def handler(**_: Any) -> None:
        return None

    with pytest.raises(UnknownEvent):
        EventBus().on("stanza.sideways", handler)
