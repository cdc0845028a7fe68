"""Map the top-level folders under the single import package ``tigase_py``.

``server/`` installs as ``tigase_py.server``, ``cli/`` as ``tigase_py.cli`` and so on, so no generic
top-level name such as ``server`` or ``cli`` lands in site-packages.
"""

from pathlib import Path

from setuptools import setup

FOLDERS = ("cli", "server", "installer", "compat_tests", "monitoring")
DATA_SUFFIXES = ("*.mako", "*.ini", "*.toml", "*.yml", "*.yaml", "*.j2", "*.md", "*.txt", "*.mib", "py.typed")
# Folders of data without __init__.py, shipped whole: the installer's ansible project.
DATA_TREES = {"tigase_py.installer": ["project/**/*"]}


def collect() -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    package_data: dict[str, list[str]] = {}
    for folder in FOLDERS:
        for init in sorted(Path(folder).rglob("__init__.py")):
            relative = init.parent.as_posix()
            name = "tigase_py." + relative.replace("/", ".")
            packages.append(name)
            package_dir[name] = relative
            package_data[name] = list(DATA_SUFFIXES) + DATA_TREES.get(name, [])
    return packages, package_dir, package_data


PACKAGES, PACKAGE_DIR, PACKAGE_DATA = collect()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR, package_data=PACKAGE_DATA)
