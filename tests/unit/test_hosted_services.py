"""Hosted-service config (``[services.<module>]``, per-vhost tables), the binding rules and disco paging."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from tests import service_module
from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.load import load_config
from tigase_py.server.config.schema import ServerConfig, ServiceOptions
from tigase_py.server.core import services
from tigase_py.server.core.disco_providers import DiscoItem, PageRequest, parse_page, slice_items
from tigase_py.server.core.module import Module
from tigase_py.server.core.services import parse_subdomain
from tigase_py.server.errors import StanzaError
from tigase_py.server.xml.element import Element

PLAIN = '[[listeners]]\ntls = "none"\nrequire_tls = false\n'


@pytest.fixture(autouse=True)
def svc_module(monkeypatch: pytest.MonkeyPatch) -> None:
    service_module.install(monkeypatch)


def load(tmp_path: Path, text: str) -> ServerConfig:
    path = tmp_path / "tigase.toml"
    path.write_text(PLAIN + text, encoding="utf-8")
    return load_config(path)


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_binding_layers_vhost_over_global_over_declaration(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[server]\nvhosts = ["a.test", "b.test", "c.test"]\n'
        '[services.svc_test]\nsubdomain = "Echo"\nname = "Everywhere"\n'
        '[vhosts."b.test".services.svc_test]\nsubdomain = "other.sub"\n'
        '[vhosts."c.test".services.svc_test]\nenabled = false\n',
    )
    declared = service_module.module.service
    assert declared is not None

    def bind(vhost: str) -> services.ServiceBinding | None:
        here = config.options_for(vhost).services.get("svc_test")
        return services.bind("svc_test", declared, vhost, config.modules.services.get("svc_test"), here)

    a, b = bind("a.test"), bind("b.test")
    assert a is not None and (a.domain, a.name) == ("echo.a.test", "Everywhere")
    assert b is not None and (b.domain, b.name) == ("other.sub.b.test", "Everywhere")
    assert bind("c.test") is None
    runtime = bind("late.test")  # a vhost added at run time
    assert runtime is not None and runtime.domain == "echo.late.test"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[services.svc_test]\nsubdomain = "bad_label"\n', "services.svc_test.subdomain", "expected a subdomain"),
        ('[services.svc_test]\nsubdomain = ""\n', "services.svc_test.subdomain", "expected a subdomain"),
        ('[services.svc_test]\nenabled = "yes"\n', "services.svc_test.enabled", "expected true or false"),
        ("[services.svc_test]\nname = 3\n", "services.svc_test.name", "expected a string"),
        ('[services.svc_test]\nsubdomian = "x"\n', "services.svc_test.subdomian", 'did you mean "subdomain"'),
        ("[services.svc_tset]\nenabled = true\n", "services.svc_tset", 'did you mean "svc_test"'),
        ("[services.ping]\nenabled = true\n", "services.ping", "hosts no service"),
        ('[modules]\nenabled = ["ping"]\n[services.svc_test]\nenabled = true\n', "services.svc_test", "not enabled"),
        (
            '[vhosts."localhost".services.svc_test]\nenabled = 1\n',
            'vhosts."localhost".services.svc_test.enabled',
            "expected true or false",
        ),
        (
            '[server]\nvhosts = ["localhost", "svc.localhost"]\n',
            "services.svc_test.subdomain",
            "svc.localhost is a virtual host of its own",
        ),
    ],
)
def test_bad_service_options_name_the_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    error = error_of(tmp_path, text)
    assert error.key == key and reason in error.reason, str(error)


def test_message_handlers_need_a_service() -> None:
    plain = Module(name="plain")
    with pytest.raises(ValueError, match="need Module"):
        plain.message("service")
    with pytest.raises(ValueError, match="unknown disco target"):
        plain.disco_info(on="everywhere")


def test_two_services_on_one_domain_refused() -> None:
    table = services.ServiceTable()
    declared = services.HostedService("svc")
    first = services.ServiceBinding("one", "v.test", "svc.v.test", "", declared)
    undo = table.add(first, lambda _domain: False)
    with pytest.raises(ValueError, match="already served by module 'one'"):
        table.add(services.ServiceBinding("two", "v.test", "svc.v.test", "", declared), lambda _domain: False)
    assert table.of_vhost("v.test") == [first]
    undo()
    assert "svc.v.test" not in table and len(table) == 0


def test_slice_items_pages_forward_backward_and_by_index() -> None:
    items = [DiscoItem(f"n{i}.test") for i in range(7)]
    first = slice_items(items, PageRequest(max=3))
    assert [i.jid for i in first.items] == ["n0.test", "n1.test", "n2.test"]
    assert (first.first, first.last, first.count, first.first_index) == ("0", "2", 7, 0)
    following = slice_items(items, PageRequest(max=3, after=first.last))
    assert [i.jid for i in following.items] == ["n3.test", "n4.test", "n5.test"]
    last_page = slice_items(items, PageRequest(max=3, before=""))
    assert [i.jid for i in last_page.items] == ["n4.test", "n5.test", "n6.test"]
    by_index = slice_items(items, PageRequest(max=2, index=5))
    assert [i.jid for i in by_index.items] == ["n5.test", "n6.test"]
    count_only = slice_items(items, PageRequest(max=0))
    assert count_only.items == () and count_only.count == 7
    with pytest.raises(StanzaError):
        slice_items(items, PageRequest(after="7"))


def test_parse_page_reads_set_and_rejects_non_numbers() -> None:
    query = Element("query")
    page = query.add("set", ns="http://jabber.org/protocol/rsm")
    page.add("max", text="5000")
    page.add("after", text="3")
    parsed = parse_page(query)
    assert parsed.max == 1000 and parsed.after == "3" and parsed.is_requested
    assert not parse_page(Element("query")).is_requested
    page.add("index", text="x")
    with pytest.raises(StanzaError):
        parse_page(query)


def test_the_readme_services_sample_uses_real_keys() -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    samples = re.findall(r"```toml\n(.*?)```", readme.read_text(), flags=re.S)
    (sample,) = [text for text in samples if text.startswith("[services.")]
    data = tomllib.loads(sample)
    keys = {field.name for field in dataclasses.fields(ServiceOptions)}
    assert set(data["services"]["pubsub"]) <= keys
    assert set(data["vhosts"]["example.com"]["services"]["pubsub"]) <= keys
    assert parse_subdomain(data["vhosts"]["example.com"]["services"]["pubsub"]["subdomain"]) == "feeds"
