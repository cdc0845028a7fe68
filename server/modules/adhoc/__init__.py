"""XEP-0050: Ad-Hoc Commands — the server's admin command registry over XMPP.

Commands come from the command registry, ``ctx.commands`` (XEP-0133 service administration and the other
builtin or script commands). disco#items on the commands node lists what the requester may run (a disco
node provider); a command with parameters runs in two stages (a form, then its submission), one without
parameters completes at once.
"""

from __future__ import annotations

from tigase_py.server.core.commands import Command, CommandError
from tigase_py.server.core.disco_providers import DiscoInfo, DiscoItem, DiscoRequest, PageRequest
from tigase_py.server.core.module import Identity, IqContext, Module, ModuleContext, Spec
from tigase_py.server.errors import STANZA_ERROR_TYPES, StanzaError
from tigase_py.server.modules.adhoc import flow
from tigase_py.server.xml import forms, ns
from tigase_py.server.xml.element import Element

COMMANDS = "http://jabber.org/protocol/commands"
STAGE_ACTIONS = ("execute", "complete", "next")

module = Module(
    name="adhoc",
    specs=[
        Spec("XEP-0050", "1.3.0"),
        Spec("XEP-0004", "2.13.1"),
        Spec("XEP-0133", "1.3.1", status="partial"),
    ],
    features=[COMMANDS],
    depends=["disco"],
)


@module.on_start
async def start(ctx: ModuleContext) -> None:
    ctx.state["sessions"] = flow.SessionTable()


def command_error(condition: str, app: str) -> StanzaError:
    return StanzaError(condition, app_condition=Element(app, ns=COMMANDS))


def may_run(mctx: ModuleContext, caller: str, command: Command) -> bool:
    return not command.admin_only or mctx.settings.is_admin(caller)


def find_command(mctx: ModuleContext, node: str, caller: str) -> Command:
    command = mctx.commands.by_node(node)
    if command is None:
        raise StanzaError("item-not-found", f"no command {node!r}")
    if not may_run(mctx, caller, command):
        raise StanzaError("forbidden", "administrators only")
    return command


def reply_command(command: Command, status: str, sessionid: str | None = None) -> Element:
    attrs = {"node": command.xmpp_node, "status": status}
    if sessionid is not None:
        attrs["sessionid"] = sessionid
    return Element("command", attrs, ns=COMMANDS)


async def run(ctx: IqContext, command: Command, args: dict[str, object], sessionid: str | None) -> Element:
    try:
        result = await ctx.module.commands.execute(command.name, ctx.user, ctx.to.domain, args)
    except CommandError as exc:
        condition = exc.condition if exc.condition in STANZA_ERROR_TYPES else "bad-request"
        raise StanzaError(condition, str(exc)) from None
    reply = reply_command(command, "completed", sessionid)
    if result.note:
        reply.add("note", {"type": "info"}, text=result.note)
    form = flow.result_form(command, result)
    if form is not None:
        reply.append(forms.build(form))
    return reply


@module.iq("set", COMMANDS, "command", to="server")
async def execute(ctx: IqContext) -> Element:
    request = ctx.payload
    node = request.get("node") or ""
    action = request.get("action") or "execute"
    command = find_command(ctx.module, node, ctx.user)
    table: flow.SessionTable = ctx.module.state["sessions"]
    sessionid = request.get("sessionid")
    requester = str(ctx.sender)
    if sessionid is None:
        if action != "execute":
            raise command_error("bad-request", "bad-action")
        if not flow.form_params(command):
            return ctx.result(await run(ctx, command, {}, None))
        opened = table.open(requester, command.xmpp_node)
        reply = reply_command(command, "executing", opened.sessionid)
        reply.add("actions", {"execute": "complete"}).add("complete")
        reply.append(forms.build(flow.request_form(command)))
        return ctx.result(reply)
    session = table.get(requester, sessionid, command.xmpp_node)
    if session is None:
        raise command_error("bad-request", "bad-sessionid")
    if action == "cancel":
        table.close(session)
        return ctx.result(reply_command(command, "canceled", sessionid))
    if action not in STAGE_ACTIONS:
        raise command_error("bad-request", "bad-action")
    try:
        submitted = forms.find(request)
    except forms.FormError as exc:
        raise StanzaError("bad-request", str(exc), app_condition=Element("bad-payload", ns=COMMANDS)) from None
    if submitted is None or submitted.type not in ("submit", "cancel"):
        raise command_error("bad-request", "bad-payload")
    if submitted.type == "cancel":
        table.close(session)
        return ctx.result(reply_command(command, "canceled", sessionid))
    reply = await run(ctx, command, flow.submitted_args(command, submitted), sessionid)
    table.close(session)
    return ctx.result(reply)


# -- disco on the commands node and on each command node --------------------
def commands_items(mctx: ModuleContext, domain: str, caller: str) -> list[DiscoItem]:
    return [
        DiscoItem(domain, command.xmpp_node, command.title)
        for command in mctx.commands.all()
        if may_run(mctx, caller, command)
    ]


def is_command_node(mctx: ModuleContext, node: str) -> bool:
    return node == COMMANDS or mctx.commands.by_node(node) is not None


@module.disco_info(on="server")
async def node_info(mctx: ModuleContext, request: DiscoRequest) -> DiscoInfo | None:
    """disco#info on the commands node (a command list) and on each command node (XEP-0050 §2.2, §2.3)."""
    node = request.node
    if not node or not is_command_node(mctx, node):
        return None
    if node == COMMANDS:
        return DiscoInfo([Identity("automation", "command-list", "Commands")], [ns.DISCO_ITEMS])
    command = find_command(mctx, node, request.requester.bare_str)
    return DiscoInfo([Identity("automation", "command-node", command.title)], [COMMANDS, ns.DATA_FORMS])


@module.disco_items(on="server")
async def node_items(mctx: ModuleContext, request: DiscoRequest, _page: PageRequest) -> list[DiscoItem] | None:
    """The commands the requester may run (XEP-0050 §2.2); a command node has no items."""
    if not request.node or not is_command_node(mctx, request.node):
        return None
    if request.node != COMMANDS:
        return []
    return commands_items(mctx, request.target.domain, request.requester.bare_str)
