"""Build, on the controller, the server wheel and every dependency as wheels (hosts need no internet)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "tigase-py"
WHEEL_PREFIX = "tigase_py-"
# Fixed zip timestamps: the same sources give the same wheel bytes, so a second install copies nothing.
REPRODUCIBLE_EPOCH = "315532800"
BUILD_TIMEOUT = 900


class WheelhouseError(Exception):
    """The wheelhouse cannot be built or is not usable."""


@dataclass(frozen=True, slots=True)
class Wheelhouse:
    directory: Path
    version: str
    python_version: str  # the interpreter the binary wheels were built for, e.g. "3.11"


def source_checkout() -> Path | None:
    """The project checkout this package runs from, if it runs from one (an editable install)."""
    root = Path(__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and f'name = "{PACKAGE}"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def installed_wheelhouse() -> Path | None:
    """The wheelhouse an install unpacked beside this virtual environment (``<prefix>/wheelhouse``).

    A copy of tigase-py that ``tigase-py install`` put on a host runs from ``<prefix>/venv``; its own
    wheel and dependencies are still in ``<prefix>/wheelhouse``, so ``install --local`` there needs
    no checkout and no index.
    """
    from tigase_py.server import __version__

    directory = Path(sys.prefix).parent / "wheelhouse"
    if sys.prefix == sys.base_prefix or not any(directory.glob(f"{WHEEL_PREFIX}{__version__}-*.whl")):
        return None
    return directory


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def inspect(directory: Path) -> Wheelhouse:
    """Read the server version from the one ``tigase_py-*.whl`` in ``directory``."""
    wheels = sorted(directory.glob(f"{WHEEL_PREFIX}*.whl"))
    if len(wheels) != 1:
        found = ", ".join(path.name for path in wheels) or "none"
        raise WheelhouseError(f"{directory} must hold exactly one {WHEEL_PREFIX}*.whl (found {found})")
    version = wheels[0].name.removeprefix(WHEEL_PREFIX).split("-", 1)[0]
    return Wheelhouse(directory=directory, version=version, python_version=_built_for(directory))


def _built_for(directory: Path) -> str:
    """The CPython version of the version-bound wheels (``cp312-cp312``); this interpreter's when none is."""
    for wheel in sorted(directory.glob("*.whl")):
        parts = wheel.stem.split("-")
        if len(parts) < 5:
            continue
        tag, abi = parts[-3], parts[-2]
        if tag == abi and tag.startswith("cp3") and tag[3:].isdigit():  # not abi3, not pure
            return f"3.{tag[3:]}"
    return python_version()


def build(directory: Path, source: Path | None = None) -> Wheelhouse:
    """``pip wheel`` the checkout and its dependencies into ``directory`` (old server wheels removed)."""
    source = source or source_checkout()
    if source is None:
        raise WheelhouseError(
            "this tigase-py is neither a source checkout nor an install with its wheelhouse; pass --wheelhouse DIR"
        )
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob(f"{WHEEL_PREFIX}*.whl"):
        old.unlink()
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    command += ["--wheel-dir", str(directory), str(source)]
    env = dict(os.environ, SOURCE_DATE_EPOCH=REPRODUCIBLE_EPOCH)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise WheelhouseError(f"building the wheelhouse took longer than {BUILD_TIMEOUT} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip wheel failed"])[-1]
        raise WheelhouseError(f"building the wheelhouse failed: {last}")
    return inspect(directory)


def archive(wheels: Wheelhouse, destination: Path) -> Path:
    """One reproducible tar of the wheels: the same wheels give the same bytes (copied once, not per file)."""
    import tarfile

    path = destination / "wheelhouse.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for wheel in sorted(wheels.directory.glob("*.whl")):
            info = tar.gettarinfo(str(wheel), arcname=wheel.name)
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "root", "root", 0o644
            with wheel.open("rb") as handle:
                tar.addfile(info, handle)
    return path


def default_cache() -> Path:
    """Where ``tigase-py install`` builds the wheelhouse unless told otherwise."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tigase-py" / "wheelhouse"
