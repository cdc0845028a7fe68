"""An installed (non-editable) copy builds its wheelhouse from pip's configured index.

The index is a PEP 503 ``file://`` tree in tmp_path holding a stand-in wheel of this version of
tigase-py (with one dependency) and that dependency: no network, and the real pip resolves it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import zipfile
from pathlib import Path

import pytest

from tigase_py.installer import deploy, wheelhouse
from tigase_py.installer.options import InstallOptions
from tigase_py.server import __version__

DEPENDENCY = "tigase-py-index-probe"


def write_wheel(directory: Path, name: str, version: str, requires: list[str]) -> Path:
    """A minimal valid pure-Python wheel (METADATA, WHEEL, RECORD and one module)."""
    stem = name.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    files = {
        f"{stem}_probe.py": "VALUE = 1\n",
        f"{info}/METADATA": "\n".join(
            ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
            + [f"Requires-Dist: {requirement}" for requirement in requires]
        )
        + "\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    path = directory / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def simple_index(root: Path, wheels: dict[str, Path]) -> str:
    """A PEP 503 index on disk: ``simple/<project>/index.html`` linking each wheel."""
    for project, wheel in wheels.items():
        folder = root / "simple" / project
        folder.mkdir(parents=True)
        (folder / wheel.name).write_bytes(wheel.read_bytes())
        (folder / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>\n')
    (root / "simple" / "index.html").write_text(
        "<html><body>" + "".join(f'<a href="{p}/">{p}</a>' for p in wheels) + "</body></html>\n"
    )
    return (root / "simple").as_uri()


@pytest.fixture
def installed_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """No checkout, no shipped wheelhouse, and pip configured with only the file index."""
    built = tmp_path / "built"
    built.mkdir()
    server = write_wheel(built, "tigase-py", __version__, [DEPENDENCY])
    probe = write_wheel(built, DEPENDENCY, "1.0", [])
    url = simple_index(tmp_path / "index", {"tigase-py": server, DEPENDENCY: probe})
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(wheelhouse, "source_checkout", lambda: None)
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # ignore /etc/pip.conf and ~/.config/pip
    monkeypatch.setenv("PIP_INDEX_URL", url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    return url


def test_installed_copy_builds_its_wheelhouse_from_the_configured_index(tmp_path, installed_copy):
    found = deploy.prepare_wheelhouse(InstallOptions(), tmp_path / "cache")
    names = sorted(path.name for path in found.directory.glob("*.whl"))
    assert names == [
        f"tigase_py-{__version__}-py3-none-any.whl",
        "tigase_py_index_probe-1.0-py3-none-any.whl",
    ]
    assert found.version == __version__
    assert found.origin == f"pip wheel tigase-py=={__version__} from index {installed_copy}"


def test_an_index_without_this_version_fails_in_one_line(tmp_path, installed_copy):
    with pytest.raises(wheelhouse.WheelhouseError) as caught:
        wheelhouse.from_index(tmp_path / "cache", version="99.0")
    message = str(caught.value)
    assert "tigase-py==99.0" in message and "\n" not in message
    assert "No matching distribution" in message or "Could not find a version" in message


def test_index_description_hides_credentials(monkeypatch):
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "https://ops:s3cret@mirror.example.net/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "/srv/wheels")
    described = wheelhouse.index_description()
    assert "s3cret" not in described
    assert described == "index https://***@mirror.example.net/simple, find-links /srv/wheels"


def test_without_pip_settings_the_index_is_pypi(monkeypatch):
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert wheelhouse.index_description() == f"index {wheelhouse.DEFAULT_INDEX}"
