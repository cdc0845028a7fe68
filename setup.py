"""Map the top-level folders under the single import package ``tigase_py``.

``server/`` installs as ``tigase_py.server``, ``cli/`` as ``tigase_py.cli`` and so on, so no generic
top-level name such as ``server`` or ``cli`` lands in site-packages.

Every file that is not Python source ships as package data of the nearest folder with an
``__init__.py`` above it, whatever its suffix and whether or not its own folder is a package
(``compat_tests/deviations/*.toml``, the installer's ansible project, migration templates): the
installed package must be the tested package. ``tests/integration/test_packaging.py`` checks it.
"""

import os
from pathlib import Path

from setuptools import setup

FOLDERS = ("cli", "server", "installer", "compat_tests", "monitoring")
# Never shipped: byte code, caches, editor and build leftovers, local databases.
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "build", "dist"}
SKIP_SUFFIXES = (".py", ".pyc", ".pyo", ".db", ".db-wal", ".db-shm", ".pid", ".log", ".swp", "~")


def is_shipped_dir(name: str) -> bool:
    return name not in SKIP_DIRS and not name.startswith(".") and not name.endswith(".egg-info")


def is_data_file(path: Path) -> bool:
    return not path.name.startswith(".") and not path.name.endswith(SKIP_SUFFIXES)


def collect() -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    package_data: dict[str, list[str]] = {}
    for folder in FOLDERS:
        for directory, subdirs, files in os.walk(folder):
            subdirs[:] = sorted(d for d in subdirs if is_shipped_dir(d))
            here = Path(directory)
            is_package = "__init__.py" in files
            if is_package:
                name = "tigase_py." + here.as_posix().replace("/", ".")
                packages.append(name)
                package_dir[name] = here.as_posix()
                package_data.setdefault(name, [])
            # Python files in a folder without __init__.py (e.g. ansible plugins) ship as data.
            data = sorted(f for f in files if is_data_file(here / f) or (not is_package and f.endswith(".py")))
            if not data:
                continue
            owner = here
            while not (owner / "__init__.py").is_file():
                if owner.as_posix() == folder or owner.parent == owner:
                    raise SystemExit(f"setup.py: {here} holds data files but no folder above it is a package")
                owner = owner.parent
            name = "tigase_py." + owner.as_posix().replace("/", ".")
            package_data.setdefault(name, []).extend((here / f).relative_to(owner).as_posix() for f in data)
    return packages, package_dir, package_data


PACKAGES, PACKAGE_DIR, PACKAGE_DATA = collect()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR, package_data=PACKAGE_DATA)
