"""The distribution installs exactly one namespace, archir, with every package listed."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _packages_in_tree() -> set[str]:
    found = set()
    for name, folder in SETUPTOOLS["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    return found


def test_every_package_in_the_tree_is_listed_and_namespaced():
    listed = set(SETUPTOOLS["packages"])
    assert listed == _packages_in_tree()
    assert all(p == "archir" or p.startswith("archir.") for p in listed)


def _package_dir(pkg: str) -> Path:
    dirs = SETUPTOOLS["package-dir"]
    mapped = max((m for m in dirs if pkg == m or pkg.startswith(m + ".")), key=len)
    return ROOT / dirs[mapped] / Path(*pkg[len(mapped):].split(".")[1:])


def test_data_files_are_declared():
    """Every non-Python file shipped under a package is matched by its package-data globs."""
    package_data = SETUPTOOLS.get("package-data", {})
    owners = sorted(((_package_dir(p), p) for p in SETUPTOOLS["packages"]), key=lambda x: -len(x[0].parts))
    for folder in {d for d, _ in owners}:
        for data in folder.rglob("*"):
            if not data.is_file() or data.suffix in (".py", ".pyc") or "__pycache__" in data.parts:
                continue
            base, pkg = next((d, p) for d, p in owners if data.is_relative_to(d))
            rel = data.relative_to(base)
            assert any(rel.match(g) or rel.as_posix() == g for g in package_data.get(pkg, [])), (
                f"{data} is not declared in package-data of {pkg}")
