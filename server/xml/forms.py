"""XEP-0004: Data Forms — build and parse ``<x xmlns='jabber:x:data'/>``.

A :class:`Form` is a plain value: its type (``form``, ``submit``, ``result`` or ``cancel``), title,
instructions, fields, and for tables (``result`` forms) the ``<reported/>`` columns and the
``<item/>`` rows.

    >>> form = Form("form", title="Add a user", fields=[Field("accountjid", "jid-single", required=True)])
    >>> back = parse(build(form))
    >>> back.fields[0].required
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

FORM_TYPES = ("form", "submit", "result", "cancel")
FIELD_TYPES = (
    "boolean",
    "fixed",
    "hidden",
    "jid-multi",
    "jid-single",
    "list-multi",
    "list-single",
    "text-multi",
    "text-private",
    "text-single",
)
MULTI_TYPES = ("jid-multi", "list-multi", "text-multi")
TRUE_VALUES = ("1", "true")
FALSE_VALUES = ("0", "false")


class FormError(ValueError):
    """The element is not a well-formed XEP-0004 form."""


@dataclass(slots=True)
class Field:
    """One field. ``values`` holds the raw ``<value/>`` texts; ``options`` are (label, value) pairs."""

    var: str
    type: str = "text-single"
    label: str = ""
    values: list[str] = field(default_factory=list)
    required: bool = False
    desc: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)

    @property
    def value(self) -> str | bool | list[str] | None:
        """The field's value in Python terms: a list for multi types, a bool for booleans."""
        if self.type in MULTI_TYPES:
            return list(self.values)
        if not self.values:
            return None
        if self.type == "boolean":
            return parse_bool(self.values[0])
        return self.values[0]


@dataclass(slots=True)
class Form:
    type: str = "form"
    title: str = ""
    instructions: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    reported: list[Field] = field(default_factory=list)
    items: list[list[Field]] = field(default_factory=list)

    def field(self, var: str) -> Field | None:
        for item in self.fields:
            if item.var == var:
                return item
        return None

    @property
    def form_type(self) -> str | None:
        """The value of the hidden ``FORM_TYPE`` field, if any."""
        found = self.field("FORM_TYPE")
        return found.values[0] if found is not None and found.values else None

    def values(self) -> dict[str, str | bool | list[str] | None]:
        """Every field with a ``var`` (``FORM_TYPE`` and ``fixed`` fields left out) → its value."""
        return {f.var: f.value for f in self.fields if f.var and f.var != "FORM_TYPE" and f.type != "fixed"}

    def rows(self) -> list[dict[str, str | bool | list[str] | None]]:
        """The ``<item/>`` rows of a table as dicts keyed by column ``var``."""
        return [{f.var: f.value for f in item} for item in self.items]


def parse_bool(text: str) -> bool:
    text = text.strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise FormError(f"not a boolean: {text!r}")


def format_value(value: object) -> list[str]:
    """Python value → ``<value/>`` texts (``None`` → none, bool → ``1``/``0``, list → one each)."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["1" if value else "0"]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


# -- building ------------------------------------------------------------
def _field_element(item: Field, with_values: bool = True) -> Element:
    attrs = {}
    if item.var:
        attrs["var"] = item.var
    if item.type:
        attrs["type"] = item.type
    if item.label:
        attrs["label"] = item.label
    element = Element("field", attrs)
    if item.desc:
        element.add("desc", text=item.desc)
    if item.required:
        element.add("required")
    if with_values:
        values = item.values
        if item.type == "text-multi":
            values = [line for v in values for line in v.split("\n")]
        for value in values:
            element.add("value", text=value)
    for label, value in item.options:
        option = element.add("option", {"label": label} if label else {})
        option.add("value", text=value)
    return element


def build(form: Form) -> Element:
    """The ``<x xmlns='jabber:x:data'/>`` element for ``form``."""
    if form.type not in FORM_TYPES:
        raise FormError(f"unknown form type {form.type!r}")
    x = Element("x", {"type": form.type}, ns=ns.DATA_FORMS)
    if form.title:
        x.add("title", text=form.title)
    for line in form.instructions:
        x.add("instructions", text=line)
    for item in form.fields:
        x.append(_field_element(item))
    if form.reported:
        reported = x.add("reported")
        for column in form.reported:
            reported.append(_field_element(column, with_values=False))
    for row in form.items:
        item_element = x.add("item")
        for cell in row:
            item_element.append(Element("field", {"var": cell.var}, children=_value_children(cell)))
    return x


def _value_children(cell: Field) -> list[Element | str]:
    return [Element("value", children=[value]) for value in cell.values]


# -- parsing -------------------------------------------------------------
def _parse_field(element: Element, default_type: str = "text-single") -> Field:
    field_type = element.get("type") or default_type
    if field_type not in FIELD_TYPES:
        raise FormError(f"unknown field type {field_type!r}")
    var = element.get("var") or ""
    if not var and field_type != "fixed":
        raise FormError("a field other than 'fixed' needs a var")
    options = []
    for option in element.find_all("option"):
        options.append((option.get("label") or "", option.find_text("value") or ""))
    return Field(
        var=var,
        type=field_type,
        label=element.get("label") or "",
        values=[v.text for v in element.find_all("value")],
        required=element.find("required") is not None,
        desc=element.find_text("desc") or "",
        options=options,
    )


def parse(x: Element) -> Form:
    """Parse ``<x xmlns='jabber:x:data'/>``; raise :class:`FormError` when it is malformed."""
    if x.name != "x" or x.ns != ns.DATA_FORMS:
        raise FormError("not a jabber:x:data form")
    form_type = x.get("type") or ""
    if form_type not in FORM_TYPES:
        raise FormError(f"unknown form type {form_type!r}")
    form = Form(form_type, title=x.find_text("title") or "")
    form.instructions = [i.text for i in x.find_all("instructions")]
    form.fields = [_parse_field(f) for f in x.find_all("field")]
    reported = x.find("reported")
    columns: dict[str, str] = {}
    if reported is not None:
        form.reported = [_parse_field(f) for f in reported.find_all("field")]
        columns = {c.var: c.type for c in form.reported}
    for item in x.find_all("item"):
        row = []
        for cell in item.find_all("field"):
            var = cell.get("var") or ""
            if columns and var not in columns:
                raise FormError(f"item field {var!r} is not a reported column")
            row.append(_parse_field(cell, columns.get(var, "text-single")))
        form.items.append(row)
    return form


def find(parent: Element) -> Form | None:
    """The first data form inside ``parent``, parsed; ``None`` when there is none."""
    x = parent.find("x", ns.DATA_FORMS)
    return None if x is None else parse(x)
