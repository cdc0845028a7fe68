"""XEP-0049: Private XML Storage — one XML element per namespace, readable only by its owner."""

from __future__ import annotations

from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.errors import StanzaError
from tigase_py.server.stores.user_xml import USER_XML
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import FragmentError, parse_fragment

KIND = "private"
RESERVED_NAMESPACES = frozenset({ns.CLIENT, ns.SERVER, ns.PRIVATE, ""})

module = Module(
    name="private",
    specs=[Spec("XEP-0049", "1.2")],
    features=[ns.PRIVATE],
    account_features=[ns.PRIVATE],
    stores=(USER_XML,),
)


def requested_element(query: Element) -> Element:
    """The single namespaced child of ``<query/>``; ``not-acceptable`` for reserved namespaces."""
    children = list(query.elements())
    if len(children) != 1:
        raise StanzaError("not-acceptable", "exactly one child element is required")
    child = children[0]
    if child.ns in RESERVED_NAMESPACES:
        raise StanzaError("not-acceptable", f"namespace {child.ns!r} cannot be stored")
    return child


def standalone(element: Element) -> Element:
    """A copy that declares its namespace itself, so it serialises on its own."""
    clone = element.copy()
    if "xmlns" not in clone.attrs and ":" not in clone.tag:
        clone.attrs["xmlns"] = clone.ns
    return clone


@module.iq(("get", "set"), ns.PRIVATE, "query", to="bare")
async def refuse_others(ctx: IqContext) -> Element:
    raise StanzaError("forbidden", "private storage belongs to its owner")


@module.iq("get", ns.PRIVATE, "query", to="self")
async def get_private(ctx: IqContext) -> Element:
    wanted = requested_element(ctx.payload)
    stored = await ctx.store(USER_XML).get(ctx.user, KIND, wanted.ns)
    element = Element(wanted.name, {"xmlns": wanted.ns})
    if stored is not None:
        try:
            element = parse_fragment(stored)
        except FragmentError:
            ctx.module.log.warning("private_xml_unreadable owner=%s ns=%s", ctx.user, wanted.ns)
    return ctx.result(Element("query", ns=ns.PRIVATE, children=[element]))


@module.iq("set", ns.PRIVATE, "query", to="self")
async def set_private(ctx: IqContext) -> Element:
    element = standalone(requested_element(ctx.payload))
    await ctx.store(USER_XML).set(ctx.user, KIND, element.ns, element.to_str())
    return ctx.result()
