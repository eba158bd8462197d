"""pyproject.toml and environment.yml (Binder) must declare the same packages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("book", "test", "distributed")
# conda entries that are not Python packages declared in pyproject.toml
CONDA_ONLY = {"python", "pip"}
# one pip requirement that stands for several conda packages
SPLIT = {"dask[distributed]": {"dask", "distributed"}}


def normalize(requirement: str) -> set[str]:
    """Names a requirement stands for: lowercase, '_' -> '-', no extras or versions."""
    req = requirement.strip().lower().replace("_", "-")
    req = re.split(r"[;\s]", req, maxsplit=1)[0]
    name_with_extras = re.split(r"[<>=!~]", req, maxsplit=1)[0]
    if name_with_extras in SPLIT:
        return set(SPLIT[name_with_extras])
    return {name_with_extras.split("[", 1)[0]}


def pyproject_names(text: str) -> set[str]:
    project = tomllib.loads(text)["project"]
    reqs = list(project["dependencies"])
    for extra in EXTRAS:
        reqs += project["optional-dependencies"][extra]
    return set().union(*(normalize(r) for r in reqs))


def conda_names(text: str) -> set[str]:
    """Package names under `dependencies:` of a conda environment file.

    A deliberately tiny parser: the top-level `- name[=version]` items of the `dependencies:`
    list; the nested `pip:` list (which only installs this repository) is skipped.
    """
    names: set[str] = set()
    in_deps = False
    item_indent = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_deps = line == "dependencies:"
            continue
        item = line.strip()
        if not in_deps or not item.startswith("- "):
            continue
        if item_indent is None:
            item_indent = indent
        if indent != item_indent:  # nested list, e.g. the items under `- pip:`
            continue
        item = item[2:].strip()
        if item.endswith(":"):  # the `pip:` header
            continue
        name = re.split(r"[<>=!~\s]", item, maxsplit=1)[0].lower().replace("_", "-")
        if name not in CONDA_ONLY:
            names.add(name)
    return names


def compare(pyproject_text: str, environment_text: str) -> dict[str, set[str]]:
    """Packages missing on either side (empty sets when the two files agree)."""
    py, conda = pyproject_names(pyproject_text), conda_names(environment_text)
    return {
        "missing_from_environment_yml": py - conda,
        "missing_from_pyproject": conda - py,
    }


def test_environment_yml_matches_pyproject():
    diff = compare((ROOT / "pyproject.toml").read_text(), (ROOT / "environment.yml").read_text())
    assert diff == {"missing_from_environment_yml": set(), "missing_from_pyproject": set()}


def test_environment_yml_has_python_and_editable_install():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*- python=3\.\d+\s*$", text, re.M)
    assert re.search(r"^\s*- -e \.\s*$", text, re.M)


PYPROJECT_SAMPLE = """
[project]
name = "x"
dependencies = ["numpy>=1.24", "Scikit_Learn>=1.3"]
[project.optional-dependencies]
book = ["jupyter-book>=1,<2"]
test = ["pytest"]
distributed = ["dask[distributed]"]
"""

ENVIRONMENT_SAMPLE = """
name: x
channels:
  - conda-forge
dependencies:
  - python=3.11
  - numpy=2
  - scikit-learn=1
  - jupyter-book=1
  - dask
  - sympy
  - pip
  - pip:
    - -e .
"""


def test_compare_reports_mismatches():
    diff = compare(PYPROJECT_SAMPLE, ENVIRONMENT_SAMPLE)
    assert diff["missing_from_environment_yml"] == {"pytest", "distributed"}
    assert diff["missing_from_pyproject"] == {"sympy"}


def test_compare_accepts_matching_pair():
    env = ENVIRONMENT_SAMPLE.replace("  - sympy\n", "  - pytest\n  - distributed\n")
    assert compare(PYPROJECT_SAMPLE, env) == {
        "missing_from_environment_yml": set(),
        "missing_from_pyproject": set(),
    }
