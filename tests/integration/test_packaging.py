"""The built wheel installs into a clean virtualenv and works outside the repository.

The venv has no system site-packages: those hold the editable install of this checkout, which would
hide a broken wheel. Dependencies come from the package index (pip's cache makes reruns quick).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ("server", "cli", "installer", "compat_tests", "monitoring")
# Names that must never be installed as top-level packages.
FORBIDDEN_TOP_LEVEL = (*FOLDERS, "tests", "bench", "scripts")
# Migration files the server needs at run time.
MIGRATION_SUFFIXES = {".py", ".mako", ".ini", ".sql"}
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".venv",
    "venv",
    "node_modules",
    "reports",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "*.db",
    "*.pid",
    "tmp",
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def clean_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "TIGASE_PY_CONFIG", "VIRTUAL_ENV", "PIP_USER"}
    }
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1", COLUMNS="200")
    return env


def run(*args: str | os.PathLike[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [os.fspath(arg) for arg in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel from a copy of the source tree and install it into a fresh venv."""
    base = tmp_path_factory.mktemp("packaging")
    # Build from a copy so stale build/ output or egg-info in the checkout cannot leak in.
    source = base / "src"
    shutil.copytree(REPO, source, ignore=COPY_IGNORE, symlinks=True)
    wheelhouse = base / "wh"
    # sdist first, then the wheel from the sdist: what a user gets from an index either way.
    run(sys.executable, "-m", "build", "--outdir", wheelhouse, source, cwd=base)
    wheels = sorted(wheelhouse.glob("tigase_py-*.whl"))
    assert len(wheels) == 1, f"expected one tigase_py wheel, found {wheels}"
    sdists = sorted(wheelhouse.glob("tigase_py-*.tar.gz"))
    assert len(sdists) == 1, f"expected one tigase_py sdist, found {sdists}"

    venv = base / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=base)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheels[0], cwd=base)

    outside = base / "outside"
    outside.mkdir()
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=outside)
    return {
        "venv": venv,
        "python": python,
        "cli": venv / "bin" / "tigase-py",
        "site": Path(purelib.stdout.strip()).resolve(),
        "outside": outside,
        "wheel": wheels[0],
        "sdist": sdists[0],
        "source": source,
    }


def test_wheel_is_not_editable(installed: dict[str, Path]) -> None:
    site = installed["site"]
    assert not list(site.glob("__editable__*")), "an editable finder landed in the clean venv"
    pth_files = [path.name for path in site.glob("*.pth") if "tigase" in path.name.lower()]
    assert not pth_files, f"unexpected .pth files: {pth_files}"
    dist_infos = list(site.glob("tigase_py-*.dist-info"))
    assert len(dist_infos) == 1
    direct_url = dist_infos[0] / "direct_url.json"
    if direct_url.exists():
        assert not json.loads(direct_url.read_text()).get("dir_info", {}).get("editable")


def test_cli_help_runs_outside_repo(installed: dict[str, Path]) -> None:
    assert installed["cli"].exists(), "console script tigase-py was not installed"
    result = run(installed["cli"], "--help", cwd=installed["outside"], timeout=120)
    output = result.stdout + result.stderr
    assert "Commands" in output
    for command in ("init", "server"):
        assert command in output, f"{command!r} missing from --help:\n{output}"


def test_import_comes_from_site_packages(installed: dict[str, Path]) -> None:
    result = run(
        installed["python"],
        "-c",
        "import tigase_py.server, tigase_py.cli; print(tigase_py.server.__file__); print(tigase_py.cli.__file__)",
        cwd=installed["outside"],
        timeout=120,
    )
    site = installed["site"]
    for line in result.stdout.split():
        path = Path(line).resolve()
        assert path.is_relative_to(site / "tigase_py"), f"{path} is not inside {site}"
        assert not path.is_relative_to(REPO), f"{path} was imported from the checkout"


def test_no_generic_top_level_names(installed: dict[str, Path]) -> None:
    site = installed["site"]
    for name in FORBIDDEN_TOP_LEVEL:
        assert not (site / name).exists(), f"generic top-level {name!r} installed into site-packages"
        assert not (site / f"{name}.py").exists()
    for folder in FOLDERS:
        if (installed["source"] / folder / "__init__.py").exists():
            assert (site / "tigase_py" / folder / "__init__.py").exists(), f"tigase_py.{folder} missing"

    # Everything the wheel installed sits under tigase_py/, its dist-info, or the venv's bin/.
    record = next(site.glob("tigase_py-*.dist-info")) / "RECORD"
    strays = []
    for line in record.read_text().splitlines():
        entry = line.split(",", 1)[0]
        top = entry.split("/", 1)[0]
        if top == "tigase_py" or (top.startswith("tigase_py-") and top.endswith(".dist-info")):
            continue
        if top == "..":  # console scripts in bin/
            continue
        strays.append(entry)
    assert not strays, f"files installed outside tigase_py/: {strays}"


def test_subpackages_and_data_files_landed(installed: dict[str, Path]) -> None:
    site = installed["site"] / "tigase_py"
    source = installed["source"]
    missing = []
    for folder in FOLDERS:
        for init in (source / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            if not (site / init.relative_to(source)).exists():
                missing.append(init.relative_to(source).as_posix())
    assert not missing, f"packages missing from the wheel: {missing}"
    if (source / "server" / "py.typed").exists():
        assert (site / "server" / "py.typed").exists()


def test_migrations_landed(installed: dict[str, Path]) -> None:
    migrations = installed["source"] / "server" / "storage" / "migrations"
    expected = sorted(
        path.relative_to(migrations)
        for path in (migrations.rglob("*") if migrations.is_dir() else ())
        if path.is_file() and path.suffix in MIGRATION_SUFFIXES and "__pycache__" not in path.parts
    )
    if not expected:
        pytest.skip("server/storage/migrations holds no migration files yet")
    target = installed["site"] / "tigase_py" / "server" / "storage" / "migrations"
    missing = [path.as_posix() for path in expected if not (target / path).exists()]
    assert not missing, (
        f"migration files missing from the installed package: {missing} "
        "(every folder with .py files needs an __init__.py to be packaged)"
    )


def tracked_data_files() -> list[str]:
    """Every file under the five package folders that is not Python source, as git tracks them."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--", *FOLDERS], capture_output=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot list the tracked files")
    names = [name for name in listed.stdout.decode().split("\0") if name]
    return sorted(
        name for name in names if not name.endswith(".py") or not (REPO / name).with_name("__init__.py").exists()
    )


def test_every_data_file_is_in_the_wheel(installed: dict[str, Path]) -> None:
    expected = tracked_data_files()
    assert "compat_tests/deviations/prosody.toml" in expected
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        shipped = set(wheel.namelist())
    missing = [name for name in expected if f"tigase_py/{name}" not in shipped]
    assert not missing, f"data files missing from the wheel: {missing}"


def test_every_data_file_is_in_the_sdist(installed: dict[str, Path]) -> None:
    with tarfile.open(installed["sdist"]) as sdist:
        shipped = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    missing = [name for name in tracked_data_files() if name not in shipped]
    assert not missing, f"data files missing from the sdist: {missing}"


def test_installed_copy_reads_its_data_files(installed: dict[str, Path]) -> None:
    """The loaders find their files in site-packages: deviations, the MIB, migrations, the ansible project."""
    script = (
        "from tigase_py.compat_tests import plugin, runner\n"
        "from tigase_py.installer import runner as ansible\n"
        "from tigase_py.server.storage import migrate\n"
        "assert len(plugin.load_deviations('prosody')) == 2, plugin.load_deviations('prosody')\n"
        "assert runner.INI.is_file() and (ansible.PROJECT / 'site.yml').is_file()\n"
        "assert (migrate.MIGRATIONS / 'script.py.mako').is_file()\n"
        "print(plugin.DEVIATIONS)\n"
    )
    result = run(installed["python"], "-c", script, cwd=installed["outside"], timeout=120)
    assert Path(result.stdout.strip()).resolve().is_relative_to(installed["site"])
