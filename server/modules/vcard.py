"""XEP-0054: vcard-temp — owners publish their vCard, any local user may read it."""

from __future__ import annotations

from dataclasses import dataclass

from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.errors import StanzaError
from tigase_py.server.stores.user_xml import USER_XML
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import FragmentError, parse_fragment

KIND = "vcard"
KEY = ""


@dataclass(frozen=True, slots=True)
class VcardConfig:
    """``[modules.vcard]``: ``max_size`` is the largest stored vCard, in bytes of serialised XML."""

    max_size: int = 65536


module = Module(
    name="vcard",
    specs=[Spec("XEP-0054", "1.2")],
    features=[ns.VCARD],
    account_features=[ns.VCARD],
    config=VcardConfig,
    stores=(USER_XML,),
)


def empty_vcard() -> Element:
    return Element("vCard", ns=ns.VCARD)


@module.iq("get", ns.VCARD, "vCard", to=("self", "bare"))
async def get_vcard(ctx: IqContext) -> Element:
    stored = await ctx.store(USER_XML).get(ctx.to.bare_str, KIND, KEY)
    vcard = empty_vcard()
    if stored is not None:
        try:
            vcard = parse_fragment(stored)
        except FragmentError:
            ctx.module.log.warning("vcard_unreadable owner=%s", ctx.to.bare_str)
    return ctx.result(vcard)


@module.iq("set", ns.VCARD, "vCard", to="bare")
async def refuse_foreign_set(ctx: IqContext) -> Element:
    raise StanzaError("forbidden", "only the owner may change a vCard")


@module.iq("set", ns.VCARD, "vCard", to="self")
async def set_vcard(ctx: IqContext) -> Element:
    vcard = ctx.payload.copy()
    vcard.attrs["xmlns"] = ns.VCARD
    text = vcard.to_str()
    config: VcardConfig = ctx.config
    if len(text.encode()) > config.max_size:
        raise StanzaError("not-acceptable", f"vCard larger than {config.max_size} bytes")
    if vcard.first_child() is None:
        await ctx.store(USER_XML).delete(ctx.user, KIND, KEY)
    else:
        await ctx.store(USER_XML).set(ctx.user, KIND, KEY, text)
    return ctx.result()
