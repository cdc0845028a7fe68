"""XEP-0004 data forms: build, parse, typed values and tables."""

from __future__ import annotations

import pytest

from tigase_py.server.xml import forms, ns
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import parse_fragment


def round_trip(form: forms.Form) -> forms.Form:
    return forms.parse(parse_fragment(forms.build(form).to_str()))


def test_form_round_trip_keeps_every_part() -> None:
    form = forms.Form(
        "form",
        title="Add a User",
        instructions=["Fill in the form", "Then submit"],
        fields=[
            forms.Field("FORM_TYPE", "hidden", values=["http://jabber.org/protocol/admin"]),
            forms.Field("accountjid", "jid-single", label="JID", required=True, desc="the account"),
            forms.Field("max", "list-single", values=["25"], options=[("25", "25"), ("All", "all")]),
            forms.Field("", "fixed", values=["Section"]),
        ],
    )
    back = round_trip(form)
    assert back.type == "form"
    assert back.title == "Add a User"
    assert back.instructions == ["Fill in the form", "Then submit"]
    assert back.form_type == "http://jabber.org/protocol/admin"
    jid_field = back.field("accountjid")
    assert jid_field is not None
    assert (jid_field.type, jid_field.label, jid_field.required, jid_field.desc) == (
        "jid-single",
        "JID",
        True,
        "the account",
    )
    choice = back.field("max")
    assert choice is not None and choice.options == [("25", "25"), ("All", "all")]
    assert back.values() == {"accountjid": None, "max": "25"}


def test_typed_values() -> None:
    form = forms.Form(
        "submit",
        fields=[
            forms.Field("flag", "boolean", values=["true"]),
            forms.Field("off", "boolean", values=["0"]),
            forms.Field("jids", "jid-multi", values=["a@b", "c@d"]),
            forms.Field("lines", "text-multi", values=["one", "two"]),
            forms.Field("name", values=["x"]),
        ],
    )
    assert round_trip(form).values() == {
        "flag": True,
        "off": False,
        "jids": ["a@b", "c@d"],
        "lines": ["one", "two"],
        "name": "x",
    }


def test_text_multi_with_newlines_is_split_into_values() -> None:
    x = forms.build(forms.Form("submit", fields=[forms.Field("body", "text-multi", values=["a\nb"])]))
    field = x.find("field")
    assert field is not None
    assert [v.text for v in field.find_all("value")] == ["a", "b"]


def test_reported_table() -> None:
    form = forms.Form(
        "result",
        reported=[forms.Field("name", label="Name"), forms.Field("value", label="Value")],
        items=[
            [forms.Field("name", values=["c2s/x"]), forms.Field("value", values=["3"])],
            [forms.Field("name", values=["c2s/y"]), forms.Field("value", values=["4"])],
        ],
    )
    back = round_trip(form)
    assert [c.var for c in back.reported] == ["name", "value"]
    assert back.rows() == [{"name": "c2s/x", "value": "3"}, {"name": "c2s/y", "value": "4"}]


def test_format_value() -> None:
    assert forms.format_value(None) == []
    assert forms.format_value(True) == ["1"]
    assert forms.format_value(3.0) == ["3"]
    assert forms.format_value(["a", "b"]) == ["a", "b"]
    assert forms.format_value(7) == ["7"]


@pytest.mark.parametrize(
    "xml",
    [
        "<x xmlns='jabber:x:data' type='bogus'/>",
        "<x xmlns='jabber:x:data' type='submit'><field type='nonsense' var='a'/></x>",
        "<x xmlns='jabber:x:data' type='submit'><field type='text-single'/></x>",
        "<x xmlns='urn:other' type='submit'/>",
        "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported>"
        "<item><field var='b'><value>1</value></field></item></x>",
    ],
)
def test_malformed_forms_are_refused(xml: str) -> None:
    with pytest.raises(forms.FormError):
        forms.parse(parse_fragment(xml))


def test_bad_boolean_is_refused() -> None:
    form = forms.parse(
        parse_fragment(
            "<x xmlns='jabber:x:data' type='submit'><field var='b' type='boolean'><value>maybe</value></field></x>"
        )
    )
    with pytest.raises(forms.FormError):
        form.values()


def test_find_inside_a_parent() -> None:
    parent = Element("command", ns="http://jabber.org/protocol/commands")
    assert forms.find(parent) is None
    parent.append(forms.build(forms.Form("cancel")))
    found = forms.find(parent)
    assert found is not None and found.type == "cancel"
    assert parent.find("x", ns.DATA_FORMS) is not None
