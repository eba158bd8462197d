"""Publishing: the workflow, the one repository URL, Binder links, licence and citation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
PAPER_DOI = "10.1162/neco_a_01681"


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.fixture(scope="module")
def repo(config):
    """(owner, name) from the one place that holds the repository URL."""
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+)", config["repository"]["url"])
    assert m, "repository.url in _config.yml must be https://github.com/OWNER/NAME"
    return m.groups()


def make_targets():
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M))


# --- the workflow ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workflow():
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def run_steps(workflow):
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"]
            if "run" in step]


def test_workflow_calls_make_targets_that_exist(workflow):
    targets = make_targets()
    calls = [t for run in run_steps(workflow) for t in re.findall(r"\bmake\s+([\w.-]+)", run)]
    assert "test" in calls and "book" in calls
    assert set(calls) <= targets, f"make targets missing from the Makefile: {set(calls) - targets}"


def test_workflow_tests_before_it_publishes(workflow):
    assert set(workflow["on"]) >= {"push", "pull_request"}
    jobs = workflow["jobs"]
    test_steps = jobs["test"]["steps"]
    runs = [s.get("run", "") for s in test_steps]
    assert runs.index(next(r for r in runs if "make test" in r)) < runs.index(
        next(r for r in runs if "make book" in r))
    upload = next(s for s in test_steps if s.get("uses", "").startswith(
        "actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    deploy = jobs["deploy"]
    assert deploy["needs"] == "test"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert "refs/heads/main" in deploy["if"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy["steps"])


def test_the_book_is_built_from_the_stored_outputs(config):
    """make book must not re-execute: the pages show what nbval checked, and build fast."""
    assert config["execute"]["execute_notebooks"] == "off"
    recipe = re.search(r"^book:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert "jupyter-book build ." in recipe.group(1)
    assert "--config" not in recipe.group(1)


# --- one repository URL ---------------------------------------------------------------------

def test_baseurl_and_citation_follow_the_repository_url(config, repo):
    owner, name = repo
    pages = f"https://{owner}.github.io/{name}/"
    assert config["html"]["baseurl"] == pages
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["repository-code"] == config["repository"]["url"]
    assert cff["url"] == pages


def test_readme_links_follow_the_repository_url(config, repo):
    owner, name = repo
    readme = (ROOT / "README.md").read_text()
    branch = config["repository"]["branch"]
    for url in re.findall(r"https://github\.com/[^\s)>\]]+", readme):
        assert url.startswith(f"https://github.com/{owner}/{name}"), url
    for url in re.findall(r"https://[\w.-]+\.github\.io[^\s)>\]]*", readme):
        assert url.rstrip("/") + "/" == config["html"]["baseurl"], url
    binder = re.findall(r"https://mybinder\.org/v2/gh/[^\s)>\]]+", readme)
    assert binder, "README has no Binder link"
    for url in binder:
        m = re.fullmatch(rf"https://mybinder\.org/v2/gh/{owner}/{name}/{branch}"
                         r"\?urlpath=lab/tree/(book/[\w.-]+\.ipynb)", url)
        assert m, f"Binder link must open a chapter of {owner}/{name}@{branch}: {url}"
        assert (ROOT / m.group(1)).is_file()
    assert "placeholder" not in readme.lower()


def test_launch_buttons_open_chapters_in_jupyterlab(config):
    launch = config["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["notebook_interface"] == "jupyterlab"  # urlpath=lab/tree/<chapter>


# --- live code, licence, citation -------------------------------------------------------------

def chapters():
    return sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_import_cell_runs_first_in_live_code(path):
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    if code:
        assert "thebe-init" in code[0]["metadata"].get("tags", []), (
            f"{path.name}: tag the first code cell (the imports) thebe-init")


def test_the_book_says_what_live_code_can_do(config):
    assert config["launch_buttons"].get("thebe") is True
    text = (ROOT / "book" / "00_preface.ipynb").read_text()
    assert "Live Code" in text and "ipywidgets" in text


def test_text_licence_file_and_footer(config):
    licence = (ROOT / "LICENSE-TEXT").read_text()
    assert "Attribution 4.0 International Public License" in licence
    assert "creativecommons.org/licenses/by/4.0" in config["html"]["extra_footer"]
    assert "CC BY 4.0" in config["html"]["extra_footer"]


def test_citation_cites_the_book_and_the_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff)
    assert "CC-BY-4.0" in cff["license"]
    (paper,) = [r for r in cff["references"] if r.get("doi") == PAPER_DOI]
    assert paper["type"] == "article" and paper["year"] == 2024
    assert [a["family-names"] for a in paper["authors"]] == ["Zhu", "Rosenbaum"]
