"""The course tooling end to end: every student notebook runs, and Otter grades.

* Every notebook of the book with exercises is turned into its student version (written by
  ``main`` into a folder of its own, with the stored results it reads) and executed there:
  the only errors are the stubs' NotImplementedError, and every check cell prints "Not yet"
  (never a traceback, never "Correct!").
* In the same kernel, after the student notebook, each exercise's solution cell of the Otter
  master is run, then its tests, public and hidden: every one passes. This is how Otter
  runs the tests, after the whole notebook, and it checks the tests of every chapter without
  executing the chapters once more.
* For the Preface and Chapters 2 and 7 the Otter assignment is generated (master executed,
  ``otter assign``) and graded with ``otter run`` (no Docker) through
  ``python -m fpnotes.assignments grade``: the instructor's solution gets full marks,
  the untouched student notebook zero, and a notebook with one wrong answer loses that
  question's point only. Chapter 2's function exercise (``linear_gradient``) also gets a
  function that returns the exercise's own gradient whatever its input: it passes the
  public test but fails the hidden tests on the other seeds, and loses the point. Needs
  otter-grader (the ``course`` extra).
"""

from __future__ import annotations

import ast
import csv
import json
import re
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from fpnotes.assignments import STUB_TAG, TEST_IMPORT, chapter_notebooks, main, make_otter_master

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
WITH_EXERCISES = [p for p in chapter_notebooks(BOOK)
                  if "{exercise}" in p.read_text(encoding="utf-8")]
# the cells run after a student notebook: the master's solutions and tests
REPLAY_TAG = "replayed-from-master"


def _src(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _calls_checks(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute)
               and n.value.attr == "checks" for n in ast.walk(tree))


def _replay_cells(book_path):
    """Copies of the Otter master's solution and test cells, tagged, in the master's order."""
    master = make_otter_master(nbformat.read(book_path, as_version=4), book_path.name)
    cells, block = [], None
    for cell in master["cells"] if master is not None else []:
        if cell["cell_type"] == "raw":
            block = _src(cell).split("\n", 1)[0].strip()
        elif cell["cell_type"] == "code" and block in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
            cell = nbformat.v4.new_code_cell(_src(cell))
            cell.metadata["tags"] = [REPLAY_TAG, "test" if block == "# BEGIN TESTS" else
                                     "solution"]
            cells.append(cell)
    return cells


def _execute(student_path):
    """The student notebook, then the master's solutions and tests, run where ``main`` wrote
    it (with the stored results it copied there)."""
    import nbclient

    student = nbformat.read(student_path, as_version=4)
    student["cells"] += _replay_cells(BOOK / student_path.name)
    nbclient.NotebookClient(student, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(student_path.parent)}}
                            ).execute()
    return student


@pytest.fixture(scope="module")
def executed_students(tmp_path_factory):
    """Every student notebook, executed (two kernels at a time: the chapters are serial)."""
    out = tmp_path_factory.mktemp("students")
    written = main(BOOK, out, otter=False)
    assert [p.name for p in written] == [p.name for p in WITH_EXERCISES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([p.name for p in written], pool.map(_execute, written), strict=True))


def _replayed(cell):
    return REPLAY_TAG in cell["metadata"].get("tags", [])


@pytest.mark.parametrize("name", [p.name for p in WITH_EXERCISES])
def test_student_notebook_runs_and_every_check_says_not_yet(executed_students, name):
    student = executed_students[name]
    code = [c for c in student["cells"] if c["cell_type"] == "code" and not _replayed(c)]
    errors = [(o["ename"], o["evalue"]) for c in code for o in c["outputs"]
              if o["output_type"] == "error"]
    stubs = [c for c in code if STUB_TAG in c["metadata"].get("tags", [])]
    # a stub naming variables stops its cell; one of functions only raises when called
    raising = [c for c in stubs if _src(c).rstrip().endswith('replace the ... above")')]
    assert {e for e, _ in errors} <= {"NotImplementedError"}, errors
    assert len(errors) == len(raising)
    checks = [c for c in code if STUB_TAG not in c["metadata"].get("tags", [])
              and _calls_checks(_src(c))]
    assert len(checks) >= len(stubs)
    for cell in checks:
        printed = "".join(o.get("text", "") for o in cell["outputs"]
                          if o["output_type"] == "stream")
        assert "Not yet:" in printed and "Correct!" not in printed, (_src(cell), printed)


@pytest.mark.parametrize("name", [p.name for p in WITH_EXERCISES])
def test_every_generated_test_passes_on_the_solutions(executed_students, name):
    """The master's tests, public and hidden, run after the whole notebook as Otter runs them
    (where the preface's check cell, say, called the package ``fp``)."""
    replayed = [c for c in executed_students[name]["cells"] if _replayed(c)]
    if not replayed:
        pytest.skip(f"{name} has no computational exercises")
    errors = [(_src(c)[:200], o["ename"], o["evalue"]) for c in replayed for o in c["outputs"]
              if o["output_type"] == "error"]
    assert not errors, errors
    tests = [c for c in replayed if "test" in c["metadata"]["tags"]]
    assert len(tests) >= 2 * sum("solution" in c["metadata"]["tags"] for c in replayed)
    for cell in tests:
        assert _src(cell).removeprefix("# HIDDEN\n").startswith(TEST_IMPORT + "\n")
        printed = "".join(o.get("text", "") for o in cell["outputs"]
                          if o["output_type"] == "stream")
        (result,) = [o["data"]["text/plain"] for o in cell["outputs"]
                     if o["output_type"] == "execute_result"]
        assert result == "True" and "Correct!" in printed and "Not yet" not in printed, (
            _src(cell), printed)


# ---------------------------------------------------------------- Otter

# (Chapter 1 asserts wall-time ratios, which a loaded machine can upset: Chapter 2 instead)
# (the Preface binds the package as fp only: its hidden tests must not need the name fpnotes)
OTTER_CHAPTERS = {"00_preface.ipynb": ["ch0_linear_fixed_point"],
                  "02_gradient_descent.ipynb": ["ch2_linear_gradient", "ch2_fd", "ch2_rbp"],
                  "07_further.ipynb": ["ch7_jacobian", "ch7_input_jacobian"]}
FUNCTION_QUESTION = "ch2_linear_gradient"    # a function exercise: hidden tests on seeds 1, 2


@pytest.fixture(scope="module")
def otter_assignments(tmp_path_factory):
    pytest.importorskip("otter", reason="the Otter tests need the course extra")
    out = tmp_path_factory.mktemp("assignments")
    main(BOOK, out, otter=True, only=list(OTTER_CHAPTERS), run_tests=False)
    return out


def _grade(autograder, notebooks, tmp_path):
    """(CSV rows, results.json of each notebook) from ``python -m fpnotes.assignments grade``."""
    table, results = tmp_path / "grades.csv", tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "fpnotes.assignments", "grade",
                           str(autograder), *map(str, notebooks), "--csv", str(table),
                           "--jobs", "2", "--results", str(results)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows, [json.loads((results / f"{k:03d}-{nb.stem}" / "results.json").read_text())
                  for k, nb in enumerate(notebooks)]


def _edited(solution, marker, extra, tmp_path, folder):
    """A copy of the solution notebook with ``extra`` appended to the solution cell that
    contains ``marker``."""
    nb = nbformat.read(solution, as_version=4)
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code"
                and "# BEGIN SOLUTION NO PROMPT" in _src(c) and marker in _src(c))
    cell["source"] = _src(cell) + "\n" + extra
    (tmp_path / folder).mkdir()
    path = tmp_path / folder / solution.name
    nbformat.write(nb, path)
    return path


# what a student who copies the check's numbers hands in: right on seed 0, and only there
HARD_CODED = """
_seed0 = fpnotes.checks.ch2_exercise_data("linear-gradient")
_answer = linear_gradient(_seed0["W2"], _seed0["X2"], _seed0["Y2"])


def linear_gradient(W, X, Y):
    return _answer"""


def _case_results(results, question):
    """({test case: "passed" or "failed"}, the question's output) from a results.json."""
    (test,) = [t for t in results["tests"] if t["name"] == question]
    cases = dict(re.findall(rf"^\s*({question} - \d+) result:\n\W*Test case (passed|failed)",
                            test["output"], flags=re.M))
    return cases, test["output"]


def test_otter_function_exercise_files(otter_assignments):
    """The function exercise's tests: public seed 0 for students, hidden seeds for grading."""
    dist = otter_assignments / "otter" / "02_gradient_descent" / "dist"
    (autograder,) = (dist / "autograder").glob("02_gradient_descent-autograder_*.zip")
    with zipfile.ZipFile(autograder) as zf:
        names = {n for n in zf.namelist() if n.startswith("tests/")}
        assert names == {f"tests/{q}.py" for q in OTTER_CHAPTERS["02_gradient_descent.ipynb"]}
        spec = {}
        exec(zf.read(f"tests/{FUNCTION_QUESTION}.py").decode(), spec)   # an OK-format dict
    test = spec["test"]
    assert test["name"] == FUNCTION_QUESTION and test["points"] == 1 and test["all_or_nothing"]
    cases = [(c["hidden"], c["code"].split("\n")[:2]) for c in test["suites"][0]["cases"]]
    call = ">>> all([bool(fpnotes.checks.ch2_linear_gradient(linear_gradient{}))])"
    first = f">>> {TEST_IMPORT}"
    assert cases == [(False, [first, call.format("")]), (True, [first, call.format(", seed=1")]),
                     (True, [first, call.format(", seed=2")])]
    assert all(c["code"].endswith("\nCorrect!\nTrue") for c in test["suites"][0]["cases"])
    # the student's copy of the tests (in the notebook's metadata) has the public one only
    student = nbformat.read(dist / "student" / "02_gradient_descent.ipynb", as_version=4)
    public = student.metadata["otter"]["tests"][FUNCTION_QUESTION]["suites"][0]["cases"]
    assert [c["code"].split("\n")[:2] for c in public] == [[first, call.format("")]]
    # the student's notebook: the stub with its docstring, not the solution's body
    (stub,) = [_src(c) for c in student["cells"] if "def linear_gradient(" in _src(c)]
    tree = ast.parse(stub).body
    assert [type(n).__name__ for n in tree] == ["FunctionDef"]
    assert ast.get_docstring(tree[0]).startswith("Gradient of L")
    assert ast.unparse(tree[0].body[-1]) == ("raise NotImplementedError('Exercise "
                                             "ex-ch2-linear-gradient: write the body of "
                                             "linear_gradient')")
    assert "np.linalg.solve" not in stub


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
    if FUNCTION_QUESTION in questions:
        submissions += [_edited(solution, "dL_dW37 =", "dL_dW37 = 2 * dL_dW37", tmp_path,
                                "wrong"),
                        _edited(solution, "def linear_gradient(", HARD_CODED, tmp_path,
                                "hard_coded")]
    rows, results = _grade(autograder, submissions, tmp_path)
    n = len(questions)
    assert [float(r["possible"]) for r in rows] == [n] * len(rows)
    assert float(rows[0]["total"]) == n                      # the instructor's solution
    assert float(rows[1]["total"]) == 0                      # untouched
    if len(rows) == 2:
        return
    assert float(rows[2]["total"]) == n - 1                  # dL_dW37 wrong: only its point
    assert float(rows[2]["ch2_fd"]) == 0
    assert all(float(rows[2][q]) == 1 for q in questions if q != "ch2_fd")
    # the hard-coded function passes the public test (seed 0), fails both hidden seeds,
    # and the question is all-or-nothing: it loses the whole point
    assert float(rows[3]["total"]) == n - 1
    assert float(rows[3][FUNCTION_QUESTION]) == 0
    assert all(float(rows[3][q]) == 1 for q in questions if q != FUNCTION_QUESTION)
    public = next(t for t in results[3]["tests"] if t["name"] == "Public Tests")
    assert public["status"] == "passed", public["output"]
    cases, output = _case_results(results[3], FUNCTION_QUESTION)
    assert cases == {f"{FUNCTION_QUESTION} - 1": "passed", f"{FUNCTION_QUESTION} - 2": "failed",
                     f"{FUNCTION_QUESTION} - 3": "failed"}, output
    # what the instructor reads in the hidden tests' output: the data each one failed on
    for seed in (1, 2):
        assert f"on the network of seed {seed}" in output, output
    assert "All test cases passed!" in _case_results(results[0], FUNCTION_QUESTION)[1]
