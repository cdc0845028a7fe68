"""XEP-0092: Software Version — report the server's name and version (and, if enabled, its OS)."""

from __future__ import annotations

import platform
from dataclasses import dataclass

from tigase_py.server import __version__
from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

SOFTWARE_NAME = "tigase-py"


@dataclass(frozen=True, slots=True)
class VersionConfig:
    """``[modules.version]``."""

    show_os: bool = False


module = Module(
    name="version",
    specs=[Spec("XEP-0092", "1.1")],
    features=[ns.VERSION],
    config=VersionConfig,
)


def version_query(show_os: bool) -> Element:
    """The ``<query xmlns='jabber:iq:version'/>`` payload describing this server."""
    query = Element("query", ns=ns.VERSION)
    query.add("name", text=SOFTWARE_NAME)
    query.add("version", text=__version__)
    if show_os:
        query.add("os", text=f"{platform.system()} {platform.release()}".strip())
    return query


@module.iq("get", ns.VERSION, "query", to="server")
async def answer_version(ctx: IqContext) -> Element:
    config: VersionConfig = ctx.config
    return ctx.result(version_query(config.show_os))
