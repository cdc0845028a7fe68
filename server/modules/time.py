"""XEP-0202: Entity Time — report the server's UTC time and its offset from UTC."""

from __future__ import annotations

import datetime

from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

module = Module(
    name="time",
    specs=[Spec("XEP-0202", "2.0")],
    features=[ns.TIME],
)


def format_tzo(offset: datetime.timedelta | None) -> str:
    """An XEP-0082 time zone offset such as ``+02:00`` or ``-05:30`` (``Z`` is not used here)."""
    minutes = int((offset or datetime.timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def time_payload(now: datetime.datetime) -> Element:
    """The ``<time xmlns='urn:xmpp:time'/>`` payload for the aware datetime ``now``."""
    local = now.astimezone()
    utc = now.astimezone(datetime.UTC)
    payload = Element("time", ns=ns.TIME)
    payload.add("tzo", text=format_tzo(local.utcoffset()))
    payload.add("utc", text=utc.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return payload


@module.iq("get", ns.TIME, "time", to="server")
async def answer_time(ctx: IqContext) -> Element:
    return ctx.result(time_payload(datetime.datetime.now(datetime.UTC)))
