"""An example third-party module: ``<iq type='get'><hello xmlns='urn:example:hello'/></iq>`` to the server
is answered with ``<hello xmlns='urn:example:hello'><greeting>Hello, alice@localhost</greeting></hello>``,
plus ``<previous>`` holding the greeting the account got last time, which the module's own store keeps."""

from __future__ import annotations

from dataclasses import dataclass

from tigase_hello.store import GREETINGS
from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.xml.element import Element

NS_HELLO = "urn:example:hello"


@dataclass(frozen=True, slots=True)
class HelloConfig:
    """``[modules.hello]``."""

    greeting: str = "Hello"


module = Module(
    name="hello",
    specs=[Spec("urn:example:hello", "1.0")],
    features=[NS_HELLO],
    config=HelloConfig,
    stores=(GREETINGS,),
)


@module.iq("get", NS_HELLO, "hello", to="server")
async def answer_hello(ctx: IqContext) -> Element:
    config: HelloConfig = ctx.config
    greeting = f"{config.greeting}, {ctx.user}"
    owner = ctx.user
    store = ctx.store(GREETINGS)
    previous = await store.last(owner)
    await store.remember(owner, greeting)
    reply = Element("hello", ns=NS_HELLO)
    reply.add("greeting", text=greeting)
    if previous is not None:
        reply.add("previous", text=previous)
    return ctx.result(reply)
