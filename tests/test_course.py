"""The course tooling end to end: every student notebook runs, and Otter grades.

* Every notebook of the book with exercises is turned into its student version and
  executed: the only errors are the stubs' NotImplementedError, and every check cell
  prints "Not yet" (never a traceback, never "Correct!").
* For Chapters 2 and 7 the Otter assignment is generated (master executed, ``otter
  assign``) and graded with ``otter run`` (no Docker) through
  ``python -m fpnotes.assignments grade``: the instructor's solution gets full marks,
  the untouched student notebook zero, and a notebook with one wrong answer loses that
  question's point only. Needs otter-grader (the ``course`` extra).
"""

from __future__ import annotations

import ast
import csv
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from fpnotes.assignments import STUB_TAG, chapter_notebooks, main, make_student_notebook

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
WITH_EXERCISES = [p for p in chapter_notebooks(BOOK)
                  if "{exercise}" in p.read_text(encoding="utf-8")]


def _src(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _calls_checks(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute)
               and n.value.attr == "checks" for n in ast.walk(tree))


def _execute(path):
    import nbclient

    student = make_student_notebook(nbformat.read(path, as_version=4), name=path.name)
    nbclient.NotebookClient(student, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return student


@pytest.fixture(scope="module")
def executed_students():
    """Every student notebook, executed (two kernels at a time: the chapters are serial)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([p.name for p in WITH_EXERCISES], pool.map(_execute, WITH_EXERCISES),
                        strict=True))


@pytest.mark.parametrize("name", [p.name for p in WITH_EXERCISES])
def test_student_notebook_runs_and_every_check_says_not_yet(executed_students, name):
    student = executed_students[name]
    code = [c for c in student["cells"] if c["cell_type"] == "code"]
    errors = [(o["ename"], o["evalue"]) for c in code for o in c["outputs"]
              if o["output_type"] == "error"]
    stubs = [c for c in code if STUB_TAG in c["metadata"].get("tags", [])]
    assert {e for e, _ in errors} <= {"NotImplementedError"}, errors
    assert len(errors) == len(stubs)
    checks = [c for c in code if STUB_TAG not in c["metadata"].get("tags", [])
              and _calls_checks(_src(c))]
    assert len(checks) >= len(stubs)
    for cell in checks:
        printed = "".join(o.get("text", "") for o in cell["outputs"]
                          if o["output_type"] == "stream")
        assert "Not yet:" in printed and "Correct!" not in printed, (_src(cell), printed)


# ---------------------------------------------------------------- Otter

# (Chapter 1 asserts wall-time ratios, which a loaded machine can upset: Chapter 2 instead)
OTTER_CHAPTERS = {"02_gradient_descent.ipynb": ["ch2_linear_gradient", "ch2_fd", "ch2_rbp"],
                  "07_further.ipynb": ["ch7_jacobian"]}


@pytest.fixture(scope="module")
def otter_assignments(tmp_path_factory):
    pytest.importorskip("otter", reason="the Otter tests need the course extra")
    out = tmp_path_factory.mktemp("assignments")
    main(BOOK, out, otter=True, only=list(OTTER_CHAPTERS), run_tests=False)
    return out


def _grade(autograder, notebooks, tmp_path):
    table = tmp_path / "grades.csv"
    done = subprocess.run([sys.executable, "-m", "fpnotes.assignments", "grade",
                           str(autograder), *map(str, notebooks), "--csv", str(table),
                           "--jobs", "2"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(table, newline="") as fh:
        return list(csv.DictReader(fh))


def _wrong_answer(solution, variable, tmp_path):
    """A copy of the solution notebook with one answer doubled."""
    nb = nbformat.read(solution, as_version=4)
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code"
                and "# BEGIN SOLUTION NO PROMPT" in _src(c) and f"\n{variable} =" in _src(c))
    cell["source"] = _src(cell) + f"\n{variable} = 2 * {variable}"
    folder = tmp_path / "wrong"
    folder.mkdir()
    path = folder / solution.name
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("name", list(OTTER_CHAPTERS))
def test_otter_grades_solution_untouched_and_one_wrong_answer(otter_assignments, name,
                                                              tmp_path):
    stem = Path(name).stem
    dist = otter_assignments / "otter" / stem / "dist"
    (autograder,) = (dist / "autograder").glob(f"{stem}-autograder_*.zip")
    solution = dist / "autograder" / name
    untouched = dist / "student" / name
    student_text = untouched.read_text()
    assert "BEGIN SOLUTION" not in student_text and "grader.check(" in student_text
    questions = OTTER_CHAPTERS[name]
    submissions = [solution, untouched]
    if len(questions) > 1:
        submissions.append(_wrong_answer(solution, "grad_lin", tmp_path))
    rows = _grade(autograder, submissions, tmp_path)
    n = len(questions)
    assert [float(r["possible"]) for r in rows] == [n] * len(rows)
    assert float(rows[0]["total"]) == n                      # the instructor's solution
    assert float(rows[1]["total"]) == 0                      # untouched
    if len(rows) > 2:                                        # grad_lin wrong: only its point
        assert float(rows[2]["total"]) == n - 1
        assert float(rows[2]["ch2_linear_gradient"]) == 0
        assert all(float(rows[2][q]) == 1 for q in questions if q != "ch2_linear_gradient")
