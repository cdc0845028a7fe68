"""Build, on the controller, the server wheel and every dependency as wheels (hosts need no internet)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

PACKAGE = "tigase-py"
WHEEL_PREFIX = "tigase_py-"
# Fixed zip timestamps: the same sources give the same wheel bytes, so a second install copies nothing.
REPRODUCIBLE_EPOCH = "315532800"
BUILD_TIMEOUT = 900
DEFAULT_INDEX = "https://pypi.org/simple"


class WheelhouseError(Exception):
    """The wheelhouse cannot be built or is not usable."""


@dataclass(frozen=True, slots=True)
class Wheelhouse:
    directory: Path
    version: str
    python_version: str  # the interpreter the binary wheels were built for, e.g. "3.11"
    origin: str = ""  # where the wheels came from, for the install summary


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
        raise WheelhouseError("this tigase-py is not a source checkout; pass --wheelhouse DIR")
    _pip_wheel(directory, str(source))
    return replace(inspect(directory), origin=f"built from the checkout {source}")


def from_index(directory: Path, version: str | None = None) -> Wheelhouse:
    """``pip wheel tigase-py==VERSION``: this installed version and its dependencies, through pip's index.

    pip reads its own configuration (``pip.conf``, ``PIP_INDEX_URL``, ``PIP_FIND_LINKS``...), so a
    controller behind a mirror or with a local file index gets its wheels from there.
    """
    if version is None:
        from tigase_py.server import __version__ as version
    _pip_wheel(directory, f"{PACKAGE}=={version}")
    found = inspect(directory)
    if found.version != version:
        raise WheelhouseError(f"the index gave {PACKAGE} {found.version}, not the installed {version}")
    return replace(found, origin=f"pip wheel {PACKAGE}=={version} from {index_description()}")


def _pip_wheel(directory: Path, requirement: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob(f"{WHEEL_PREFIX}*.whl"):
        old.unlink()
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    command += ["--wheel-dir", str(directory), requirement]
    env = dict(os.environ, SOURCE_DATE_EPOCH=REPRODUCIBLE_EPOCH)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise WheelhouseError(f"building the wheelhouse took longer than {BUILD_TIMEOUT} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.startswith("ERROR")]
        last = (lines or done.stderr.strip().splitlines() or ["pip wheel failed"])[-1]
        raise WheelhouseError(f"building the wheelhouse ({requirement}) failed: {last}")


def index_description() -> str:
    """pip's effective index settings in one line, credentials hidden: ``https://pypi.org/simple``."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=False
        )
        listed = done.stdout.splitlines() if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        listed = []
    settings: dict[str, list[str]] = {"index-url": [], "extra-index-url": [], "find-links": []}
    for line in listed:
        key, _, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if name in settings:
            for item in value.strip().strip("'\"").split():
                if _hide_password(item) not in settings[name]:
                    settings[name].append(_hide_password(item))
    parts = [f"index {' '.join(settings['index-url'][-1:]) or DEFAULT_INDEX}"]
    if settings["extra-index-url"]:
        parts.append(f"extra index {' '.join(settings['extra-index-url'])}")
    if settings["find-links"]:
        parts.append(f"find-links {' '.join(settings['find-links'])}")
    return ", ".join(parts)


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


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
