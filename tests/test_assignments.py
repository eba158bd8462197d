"""Student notebooks (fpnotes.assignments): solutions stripped, stubs raise, checks kept.

The fixture notebook tests/fixtures/assignment_fixture.ipynb follows the book's exercise
convention; every notebook of the book with exercises is also checked statically here.
tests/test_course.py executes every student notebook and grades with Otter.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import json
import re
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest

import fpnotes.checks
from fpnotes.assignments import (
    ANSWER_TAG,
    SOLUTION_TAG,
    STUB_TAG,
    TEST_IMPORT,
    WRITTEN_PART_TAG,
    assigned_names,
    chapter_notebooks,
    data_paths,
    loaded_names,
    main,
    make_otter_master,
    make_stub,
    make_student_notebook,
    split_setup,
    strip_solution_directives,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "assignment_fixture.ipynb"
CHAPTERS = chapter_notebooks(ROOT / "book")
STUB_RAISE = re.compile(
    r'^raise NotImplementedError\("Exercise [\w.-]+: replace the \.\.\. above"\)$')
FUNCTION_RAISE = re.compile(r"^raise NotImplementedError\('Exercise [\w.-]+: write the body of ")


def src(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def is_solution(cell):
    return cell["cell_type"] == "code" and SOLUTION_TAG in tags(cell)


def gated_blocks(nb):
    """(indices of the cells inside each solution-start..end block, index of the check cell)."""
    blocks, current = [], None
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        text = src(cell)
        if cell["cell_type"] == "markdown" and "{solution-start}" in text:
            current = [i]
            if "{solution-end}" not in text:
                continue
        if current is not None:
            if i != current[0]:
                current.append(i)
            if cell["cell_type"] == "markdown" and "{solution-end}" in text:
                check = next((j for j in range(i + 1, len(cells))
                              if cells[j]["cell_type"] == "code"), None)
                blocks.append((current, check))
                current = None
    assert current is None, "a {solution-start} block is never closed"
    return blocks


def statements(source):
    """Top-level statements of a code cell, normalized (ast.dump), without magics."""
    lines = [ln if not ln.lstrip().startswith(("%", "!")) else "" for ln in source.splitlines()]
    return {ast.dump(node) for node in ast.parse("\n".join(lines)).body}


def check_names(source):
    """Names of the check functions a check cell calls (fpnotes.checks.X, checks.X, chN_x)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(
                owner, "id", "")
            if owner_name == "checks":
                names.append(func.attr)
        elif isinstance(func, ast.Name) and re.match(r"ch\d+_\w+$", func.id):
            names.append(func.id)
    return names


def stubbed_names(stub, solution):
    """The answers a stub (without its setup lines) names, after checking its form.

    A variable stub is ``name = ...  # your code here`` and the stub then ends with the
    ``raise NotImplementedError`` line; a function stub is the solution's own ``def``
    (same arguments, decorators and docstring) whose body only raises
    ``NotImplementedError("Exercise <label>: write the body of <name>")``.
    """
    defs = {n.name: n for n in ast.parse(solution).body if isinstance(n, ast.FunctionDef)}
    body = ast.parse(stub).body
    names, variables = [], False
    for k, node in enumerate(body):
        if isinstance(node, ast.FunctionDef):
            original = defs[node.name]
            assert ast.dump(node.args) == ast.dump(original.args), node.name
            assert [ast.dump(d) for d in node.decorator_list] == [
                ast.dump(d) for d in original.decorator_list]
            assert ast.get_docstring(node) == ast.get_docstring(original), node.name
            raise_stmt = node.body[-1]
            assert len(node.body) == 1 + (ast.get_docstring(node) is not None)
            assert isinstance(raise_stmt, ast.Raise)
            assert FUNCTION_RAISE.match(ast.unparse(raise_stmt)), ast.unparse(raise_stmt)
            assert ast.unparse(raise_stmt).endswith(f"write the body of {node.name}')")
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            (target,) = node.targets
            assert isinstance(node.value, ast.Constant) and node.value.value is Ellipsis
            assert f"{target.id} = ...  # your code here" in stub.splitlines()
            names.append(target.id)
            variables = True
        else:
            assert k == len(body) - 1 and variables, f"unexpected statement in a stub: {node}"
    if variables:
        assert STUB_RAISE.match(stub.splitlines()[-1]), stub.splitlines()[-1]
    return names


def assert_student_version(book_nb, student):
    """The static guarantees, shared by the fixture and every real chapter."""
    nbformat.validate(student)
    cells = student["cells"]
    assert cells[0]["cell_type"] == "markdown" and "Student version" in src(cells[0])
    # no solution cells, no solution directives, nothing executed
    for cell in cells:
        assert not is_solution(cell)
        if cell["cell_type"] == "markdown":
            for directive in ("{solution-start}", "{solution-end}", "{solution}"):
                assert directive not in src(cell), f"{directive} left in the student copy"
        else:
            assert cell["outputs"] == [] and cell["execution_count"] is None
    # no solution source survives: statements found only in solution cells are gone
    other = set()
    for cell in book_nb["cells"]:
        if cell["cell_type"] == "code" and not is_solution(cell):
            other |= statements(src(cell))
    student_code = set()
    for cell in cells:
        if cell["cell_type"] == "code":
            student_code |= statements(src(cell))
    solutions = [cell for cell in book_nb["cells"] if is_solution(cell)]
    for cell in solutions:
        leaked = (statements(split_setup(src(cell))[1]) - other) & student_code
        assert not leaked, f"solution code left in the student copy: {leaked}"
    # markdown inside a gated block (the written-out solution) is gone too
    student_md = {src(c).strip() for c in cells if c["cell_type"] == "markdown"}
    blocks = gated_blocks(book_nb)
    for inside, _ in blocks:
        for i in inside:
            cell = book_nb["cells"][i]
            if cell["cell_type"] == "markdown":
                assert src(cell).strip() not in student_md
    # one stub per solution cell; each assigns Ellipsis to the solution's names, then raises
    stubs = [c for c in cells if c["cell_type"] == "code" and STUB_TAG in tags(c)]
    assert len(stubs) == len(solutions)
    for stub, solution in zip(stubs, solutions, strict=True):
        lines = src(stub).splitlines()
        setup, answer_part = split_setup(src(solution))
        n_setup = len(setup.splitlines()) if setup else 0
        assert lines[:n_setup] == (setup.splitlines() if setup else [])   # setup kept
        answers = stubbed_names("\n".join(lines[n_setup:]), answer_part)
        assert answers and set(answers) <= set(assigned_names(answer_part))
    # every check cell after a solution is still there, after its stub, in order
    position = -1
    for k, (inside, check) in enumerate(blocks):
        assert check is not None, "a solution block is not followed by a check cell"
        check_src = src(book_nb["cells"][check])
        stub_pos = None
        if any(is_solution(book_nb["cells"][i]) for i in inside):
            stub = stubs[_stub_index(book_nb, inside)]
            stub_pos = next(i for i, c in enumerate(cells) if c is stub)
        matches = [i for i, c in enumerate(cells)
                   if c["cell_type"] == "code" and src(c) == check_src and i > position]
        assert matches, f"check cell {k + 1} is missing from the student copy"
        position = matches[0]
        if stub_pos is not None:
            assert stub_pos < position
    return blocks


def _stub_index(book_nb, inside):
    """Index (among all solution cells) of the last solution cell in a gated block."""
    solution_ids = [i for i, c in enumerate(book_nb["cells"]) if is_solution(c)]
    last = max(i for i in inside if is_solution(book_nb["cells"][i]))
    return solution_ids.index(last)


def execute(nb, path):
    nbclient = pytest.importorskip("nbclient")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(path)}})
    client.execute()
    return [out for cell in nb["cells"] if cell["cell_type"] == "code"
            for out in cell["outputs"] if out["output_type"] == "error"]


def master_questions(master):
    """[(solution cell source, [test cell sources])] of an Otter master, one per question."""
    questions, block = [], None
    for cell in master["cells"]:
        text = src(cell)
        if cell["cell_type"] == "raw":
            first = text.split("\n", 1)[0].strip()
            if first == "# BEGIN QUESTION":
                questions.append([None, []])
            block = {"# BEGIN SOLUTION": "solution", "# BEGIN TESTS": "tests"}.get(first)
        elif block == "solution":
            questions[-1][0] = text
        elif block == "tests":
            questions[-1][1].append(text)
    return [tuple(q) for q in questions]


def run_test(source, namespace):
    """(value of the last line, what it printed) of a test cell run in ``namespace``."""
    tree = ast.parse(source)
    last = ast.Expression(tree.body.pop().value)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(tree, "<test>", "exec"), namespace)
        value = eval(compile(last, "<test>", "eval"), namespace)
    return value, printed.getvalue()


# ---------------------------------------------------------------- unit tests


def test_data_paths(tmp_path):
    book = tmp_path / "book"
    (book / "results" / "runs").mkdir(parents=True)
    (book / "results" / "runs" / "a.json").write_text("{}")
    (book / "values.txt").write_text("1")
    (book / "01_x.ipynb").write_text("{}")
    (tmp_path / "outside.txt").write_text("1")
    cells = [nbformat.v4.new_code_cell('load_results("results/runs")\nopen("values.txt")\n'
                                       'print("results/runs/a.json")'),
             nbformat.v4.new_code_cell('%time x = "results"\nopen("/")\nopen("../outside.txt")\n'
                                       'open("missing/file")\n"01_x.ipynb", "a b", ".", ""'),
             nbformat.v4.new_code_cell("this is not python"),
             nbformat.v4.new_markdown_cell('open("results")')]
    nb = nbformat.v4.new_notebook(cells=cells)
    # a path inside a listed folder goes with it; outside the book, absolute, missing, the
    # notebooks, magics and markdown do not count
    assert data_paths(nb, book) == ["results/runs", "values.txt"]
    nb["cells"].append(nbformat.v4.new_code_cell('STORE = "results"'))
    assert data_paths(nb, book) == ["results", "values.txt"]


def test_assigned_names_targets():
    source = "\n".join([
        "%matplotlib inline",
        "a = 1",
        "b, (c, *d) = 1, (2, 3)",
        "e: int = 3",
        "a += 1",
        "x.attr = 2",
        "y[0] = 3",
        "for i in range(2):",
        "    inner = i",
        "def f(u):",
        "    hidden = u",
        "    return hidden",
        "if True:",
        "    g = 1",
    ])
    assert assigned_names(source) == ["a", "b", "c", "d", "e", "i", "inner", "f", "g"]


def test_assigned_names_bad_input():
    with pytest.raises(TypeError):
        assigned_names(None)


def test_strip_solution_directive_keeps_the_exercise():
    text = ("````{exercise} E\n:label: ex-a\n\nText\n```python\ncode\n```\n````\n\n"
            "````{solution} ex-a\n:class: dropdown\n\n```python\nsecret\n```\nsecret prose\n````\n"
            "after")
    out = strip_solution_directives(text)
    assert "secret" not in out and "{solution}" not in out
    assert "{exercise}" in out and "Text" in out and out.endswith("after")
    assert strip_solution_directives(":::{solution} x\nsecret\n:::") == ""


def test_unclosed_solution_block_raises():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```{solution-start} ex-a\n:class: dropdown\n```")])
    with pytest.raises(ValueError, match="never closed"):
        make_student_notebook(nb)


def test_missing_solution_end_names_the_notebook_and_the_exercise():
    """An unclosed block before the next exercise is an error, not a dropped exercise."""
    cells = [nbformat.v4.new_markdown_cell("```{exercise} A\n:label: ex-a\nDo `x`.\n```"),
             nbformat.v4.new_markdown_cell("```{solution-start} ex-a\n:class: dropdown\n```"),
             nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_code_cell("print(x)"),
             nbformat.v4.new_markdown_cell("```{exercise} B\n:label: ex-b\nDo `y`.\n```"),
             nbformat.v4.new_markdown_cell("```{solution-start} ex-b\n:class: dropdown\n```"),
             nbformat.v4.new_markdown_cell("```{solution-end}\n```")]
    cells[2].metadata["tags"] = [SOLUTION_TAG]
    nb = nbformat.v4.new_notebook(cells=cells)
    with pytest.raises(ValueError, match=r"03_x\.ipynb: exercise ex-a"):
        make_student_notebook(nb, name="03_x.ipynb")


def test_setup_lines_are_kept_and_only_the_answers_stubbed():
    source = "W_ex = make(5)\nX_ex = make(6)\n# solution\nhelper = W_ex @ X_ex\nr_ex = helper + 1"
    assert split_setup(source) == ("W_ex = make(5)\nX_ex = make(6)",
                                   "helper = W_ex @ X_ex\nr_ex = helper + 1")
    assert split_setup("a = 1") == ("", "a = 1")
    stub = make_stub(source, "ex-a", ["r_ex"])
    assert stub.splitlines() == [
        "W_ex = make(5)", "X_ex = make(6)", "r_ex = ...  # your code here",
        'raise NotImplementedError("Exercise ex-a: replace the ... above")']
    with pytest.raises(ValueError, match="never assigns"):
        make_stub(source, "ex-a", ["W_ex"])          # setup names are not answers
    assert loaded_names("f(a, b.c)\nd = a") == ["f", "a", "b"]


def test_bad_notebook_type():
    with pytest.raises(TypeError):
        make_student_notebook("not a notebook")


# ---------------------------------------------------------------- the fixture


@pytest.fixture
def fixture_nb():
    return nbformat.read(FIXTURE, as_version=4)


def test_fixture_student_version(fixture_nb):
    before = nbformat.writes(fixture_nb)
    student = make_student_notebook(fixture_nb, name=FIXTURE.name)
    assert nbformat.writes(fixture_nb) == before, "the input notebook was modified"
    blocks = assert_student_version(fixture_nb, student)
    assert len(blocks) == 2
    text = nbformat.writes(student)
    for secret in ("SECRET-SUM-SOLUTION", "SECRET-TRANSPOSE-SOLUTION",
                   "SECRET-MARKDOWN-EXPLANATION", "SECRET-DISCUSSION-ANSWER", "np.trace"):
        assert secret not in text
    stubs = [src(c) for c in student["cells"] if STUB_TAG in tags(c)]
    # only the answer the check cell uses, not the solution's helper variable `values`
    assert stubs[0] == ('total = ...  # your code here\n'
                        'raise NotImplementedError("Exercise ex-fix-sum: replace the ... above")')
    assert stubs[1].startswith("WT = ...  # your code here\ntr = ...  # your code here\n")
    answers = [c for c in student["cells"] if ANSWER_TAG in tags(c)]
    assert len(answers) == 1 and "ex-fix-discuss" in src(answers[0])
    assert "Exercise ex-fix-transpose:" in stubs[1]
    # the exercises themselves (statements) are still there
    assert sum("{exercise}" in src(c) for c in student["cells"]) == 3


def test_fixture_student_executes_with_only_not_implemented(fixture_nb, tmp_path):
    student = make_student_notebook(fixture_nb, name=FIXTURE.name)
    errors = execute(student, tmp_path)
    assert {e["ename"] for e in errors} == {"NotImplementedError"}
    assert len(errors) == 2
    # the check cells ran on the placeholders and said "Not yet" without raising
    printed = "".join(o.get("text", "") for c in student["cells"] if c["cell_type"] == "code"
                      for o in c["outputs"] if o["output_type"] == "stream")
    assert printed.count("Not yet:") == 3 and "Correct!" not in printed


def test_main_writes_only_chapter_notebooks_with_exercises(fixture_nb, tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(FIXTURE, book / "01_fixture.ipynb")
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Preface")])
    nbformat.write(plain, book / "00_preface.ipynb")
    shutil.copy(FIXTURE, book / "appendix_a.ipynb")
    (book / "notes.md").write_text("# Notes\n")
    written = main(book, tmp_path / "out")
    assert [p.name for p in written] == ["01_fixture.ipynb", "appendix_a.ipynb"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "01_fixture.ipynb", "appendix_a.ipynb"]
    student = nbformat.read(written[0], as_version=4)
    assert_student_version(fixture_nb, student)


def test_command_line(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(FIXTURE, book / "01_fixture.ipynb")
    result = subprocess.run([sys.executable, "-m", "fpnotes.assignments", "--no-otter", str(book),
                             str(tmp_path / "out")], capture_output=True, text=True, check=True)
    assert "01_fixture.ipynb" in result.stdout
    assert (tmp_path / "out" / "01_fixture.ipynb").exists()


def test_never_writes_into_its_source_and_never_overwrites_without_force(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(FIXTURE, book / "01_fixture.ipynb")
    before = (book / "01_fixture.ipynb").read_bytes()
    cmd = [sys.executable, "-m", "fpnotes.assignments", "--no-otter"]
    same = subprocess.run(cmd + [str(book), str(book)], capture_output=True, text=True)
    assert same.returncode != 0 and "source folder" in same.stderr
    assert (book / "01_fixture.ipynb").read_bytes() == before
    with pytest.raises(ValueError, match="source folder"):
        main(book, tmp_path / "x" / ".." / "book")
    out = tmp_path / "out"
    out.mkdir()
    (out / "01_fixture.ipynb").write_text("my edits")
    again = subprocess.run(cmd + [str(book), str(out)], capture_output=True, text=True)
    assert again.returncode != 0 and "--force" in again.stderr
    assert (out / "01_fixture.ipynb").read_text() == "my edits"
    forced = subprocess.run(cmd + ["--force", str(book), str(out)], capture_output=True,
                            text=True)
    assert forced.returncode == 0, forced.stderr
    assert "Student version" in (out / "01_fixture.ipynb").read_text()


def test_otter_master_structure(fixture_nb):
    master = make_otter_master(fixture_nb, "01_fixture.ipynb", "requirements.txt")
    raws = [src(c) for c in master["cells"] if c["cell_type"] == "raw"]
    assert raws[0].startswith("# ASSIGNMENT CONFIG\nname: 01_fixture")
    assert "requirements: requirements.txt" in raws[0]
    assert [r.split("\n")[1] for r in raws if r.startswith("# BEGIN QUESTION")] == [
        "name: fix_sum", "name: fix_transpose"]
    assert raws.count("# BEGIN SOLUTION") == raws.count("# END SOLUTION") == 2
    assert raws.count("# BEGIN TESTS") == raws.count("# END TESTS") == 2
    tests = [src(c) for c in master["cells"] if c["cell_type"] == "code"
             and "bool(fpnotes.checks." in src(c)]
    assert len(tests) == 4 and sum(t.startswith("# HIDDEN") for t in tests) == 2
    assert all(t.removeprefix("# HIDDEN\n").startswith(TEST_IMPORT + "\n") for t in tests)
    solutions = [src(c) for c in master["cells"] if "# BEGIN SOLUTION NO PROMPT" in src(c)]
    assert len(solutions) == 2
    assert solutions[0].endswith('"""; # END PROMPT')
    assert "total = ...  # your code here" in solutions[0]
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Preface")])
    assert make_otter_master(plain, "00.ipynb") is None


# ---------------------------------------------------------------- function exercises

FUNCTION_SOLUTION = '''W_try = np.eye(3) / 2
# solution
def helper(A):
    return A


def linear_gradient(W, X, Y):
    """Gradient of the linear network's squared error.

    Returns
    -------
    ndarray, shape (N, N)
    """
    # SECRET-FUNCTION-COMMENT: two solves
    eye = np.eye(W.shape[0])
    R = np.linalg.solve(eye - W, X)
    U = np.linalg.solve(eye - W.T, 2 * (R - Y))
    return helper(U @ R.T / X.shape[1])


R_try = linear_gradient(W_try, np.ones((3, 2)), np.zeros((3, 2)))'''


def function_exercise_nb(check="fpnotes.checks.ch2_linear_gradient(linear_gradient)"):
    """A notebook with one function exercise, checked by a real function-exercise check."""
    cells = [nbformat.v4.new_code_cell("import numpy as np\n\nimport fpnotes.checks"),
             nbformat.v4.new_markdown_cell(
                 "```{exercise} Gradient\n:label: ex-fn-grad\n\nWrite `linear_gradient`.\n```"),
             nbformat.v4.new_markdown_cell("```{solution-start} ex-fn-grad\n:class: dropdown\n```"),
             nbformat.v4.new_code_cell(FUNCTION_SOLUTION),
             nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
             nbformat.v4.new_code_cell(check)]
    cells[3].metadata["tags"] = [SOLUTION_TAG]
    return nbformat.v4.new_notebook(cells=cells)


def test_function_stub_keeps_signature_and_docstring():
    stub = make_stub(FUNCTION_SOLUTION, "ex-fn-grad", ["linear_gradient"])
    assert stub == '''W_try = np.eye(3) / 2


def linear_gradient(W, X, Y):
    """Gradient of the linear network's squared error.

    Returns
    -------
    ndarray, shape (N, N)
    """
    raise NotImplementedError("Exercise ex-fn-grad: write the body of linear_gradient")'''
    assert stubbed_names(stub.split("\n", 1)[1], split_setup(FUNCTION_SOLUTION)[1]) == [
        "linear_gradient"]
    # with a variable answer too, the cell stops after naming it
    both = make_stub(FUNCTION_SOLUTION, "ex-fn-grad", ["linear_gradient", "R_try"])
    assert both.endswith('R_try = ...  # your code here\n'
                         'raise NotImplementedError("Exercise ex-fn-grad: replace the ... above")')
    # one-line, decorated and docstring-less definitions
    odd = ("# solution\n@staticmethod\ndef g(x): return x  # secret\n\n"
           "def h(\n    x,\n):\n    # secret\n    return x\n"
           'def k(x): """Doc, λ."""; return x')
    assert make_stub(odd, "ex-b", ["g", "h", "k"]) == "\n".join([
        "@staticmethod", "def g(x):",
        '    raise NotImplementedError("Exercise ex-b: write the body of g")', "", "",
        "def h(", "    x,", "):",
        '    raise NotImplementedError("Exercise ex-b: write the body of h")', "", "",
        "def k(x):", '    """Doc, λ."""',
        '    raise NotImplementedError("Exercise ex-b: write the body of k")'])


def test_function_exercise_student_version_runs_and_says_not_yet(tmp_path):
    nb = function_exercise_nb()
    student = make_student_notebook(nb, name="03_fn.ipynb")
    assert_student_version(nb, student)
    text = nbformat.writes(student)
    for secret in ("SECRET-FUNCTION-COMMENT", "np.linalg.solve", "def helper", "R_try"):
        assert secret not in text
    errors = execute(student, tmp_path)
    assert errors == []          # a cell of function stubs defines them without raising
    printed = "".join(o.get("text", "") for o in student["cells"][-1]["outputs"])
    assert printed == ("Not yet: linear_gradient still raises NotImplementedError: write its "
                       "body\n")


def test_function_exercise_otter_master_tests_the_hidden_seeds():
    master = make_otter_master(function_exercise_nb(), "03_fn.ipynb")
    raws = [src(c) for c in master["cells"] if c["cell_type"] == "raw"]
    (config,) = [r for r in raws if r.startswith("# BEGIN QUESTION")]
    assert config.splitlines() == ["# BEGIN QUESTION", "name: fn_grad", "points: 1",
                                   "all_or_nothing: true"]
    start = next(i for i, c in enumerate(master["cells"]) if src(c) == "# BEGIN TESTS")
    end = next(i for i, c in enumerate(master["cells"]) if src(c) == "# END TESTS")
    tests = [src(c) for c in master["cells"][start + 1:end]]
    assert tests == [
        "import fpnotes.checks\n"
        "all([bool(fpnotes.checks.ch2_linear_gradient(linear_gradient))])",
        "# HIDDEN\nimport fpnotes.checks\n"
        "all([bool(fpnotes.checks.ch2_linear_gradient(linear_gradient, seed=1))])",
        "# HIDDEN\nimport fpnotes.checks\n"
        "all([bool(fpnotes.checks.ch2_linear_gradient(linear_gradient, seed=2))])"]
    (solution,) = [src(c) for c in master["cells"] if "# BEGIN SOLUTION NO PROMPT" in src(c)]
    ast.parse(solution)          # the docstring of the prompt does not end its string
    assert "r''' # BEGIN PROMPT" in solution and solution.endswith("'''; # END PROMPT")
    # what otter assign gives the student: the setup, then the prompt (the function stub)
    solutions = pytest.importorskip("otter.assign.solutions")
    student = "\n".join(solutions.replace_solutions(solution.split("\n"), "python"))
    assert student.strip() == make_stub(FUNCTION_SOLUTION, "ex-fn-grad", ["linear_gradient"])
    # the seeds are the check's own, and an explicit seed in the check cell is replaced
    master = make_otter_master(function_exercise_nb(
        "fpnotes.checks.ch2_linear_gradient(linear_gradient, seed=0)"), "03_fn.ipynb")
    hidden = [src(c) for c in master["cells"] if src(c).startswith("# HIDDEN")]
    assert [h.split("seed=")[1] for h in hidden] == [
        f"{s}))])" for s in fpnotes.checks.ch2_linear_gradient.hidden_seeds]


def test_answer_and_function_checks_in_one_check_cell():
    check = ("g = linear_gradient\n"
             "fpnotes.checks.ch2_linear_gradient(g)\n"
             "fpnotes.checks.report(*fpnotes.checks.compare_scalar(R_try.sum(), 1.0))")
    master = make_otter_master(function_exercise_nb(check), "03_fn.ipynb")
    tests = [src(c) for c in master["cells"] if "bool(fpnotes.checks." in src(c)]
    assert tests[0] == ("import fpnotes.checks\ng = linear_gradient\n"
                        "all([bool(fpnotes.checks.ch2_linear_gradient(g)), "
                        "bool(fpnotes.checks.report(*fpnotes.checks.compare_scalar(R_try.sum(), "
                        "1.0)))])")
    # the answer check again (it needs its arguments), then the function on each hidden seed,
    # with the check cell's own statements where the call needs them
    head = "# HIDDEN\nimport fpnotes.checks\ng = linear_gradient\n"
    assert tests[1:] == [
        head + "all([bool(fpnotes.checks.report("
        "*fpnotes.checks.compare_scalar(R_try.sum(), 1.0)))])",
        head + "all([bool(fpnotes.checks.ch2_linear_gradient(g, seed=1))])",
        head + "all([bool(fpnotes.checks.ch2_linear_gradient(g, seed=2))])"]
    (stub,) = [c for c in make_student_notebook(function_exercise_nb(check))["cells"]
               if STUB_TAG in tags(c)]
    assert stubbed_names(src(stub).split("\n", 1)[1], split_setup(FUNCTION_SOLUTION)[1]) == [
        "linear_gradient", "R_try"]


def written_part_nb():
    """The function exercise with a question graded by hand: its exercise cell is tagged
    written-part. A second, untagged exercise follows, then a written exercise."""
    nb = function_exercise_nb()
    nb["cells"][1]["source"] = ("```{exercise} Gradient\n:label: ex-fn-grad\n\nWrite "
                                "`linear_gradient`. Why two solves?\n```")
    nb["cells"][1].metadata["tags"] = [WRITTEN_PART_TAG]
    more = [nbformat.v4.new_markdown_cell("```{exercise} Sum\n:label: ex-fn-sum\n\nSum into "
                                          "`total`.\n```"),
            nbformat.v4.new_markdown_cell("```{solution-start} ex-fn-sum\n:class: dropdown\n```"),
            nbformat.v4.new_code_cell("total = 1.0"),
            nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
            nbformat.v4.new_code_cell(
                "fpnotes.checks.report(*fpnotes.checks.compare_scalar(total, 1.0))"),
            nbformat.v4.new_markdown_cell("```{exercise} Discuss\n:label: ex-fn-discuss\n\nWhy?"
                                          "\n```\n\n```{solution} ex-fn-discuss\n:class: "
                                          "dropdown\nBecause.\n```")]
    more[2].metadata["tags"] = [SOLUTION_TAG]
    more[5].metadata["tags"] = [WRITTEN_PART_TAG]      # a written exercise: one answer cell
    nb["cells"] += more
    return nb


def _answers_after(nb):
    """[(source of the cell before each answer cell, answer text)]."""
    cells = nb["cells"]
    return [(src(cells[i - 1]), src(c)) for i, c in enumerate(cells) if ANSWER_TAG in tags(c)]


def test_a_written_part_gets_an_answer_cell_after_its_check_cell(tmp_path):
    nb = written_part_nb()
    student = make_student_notebook(nb, name="03_fn.ipynb")
    assert_student_version(nb, student)
    assert _answers_after(student) == [
        ("fpnotes.checks.ch2_linear_gradient(linear_gradient)",
         "*Your answer to the written part (Exercise ex-fn-grad):* ..."),
        (src(nb["cells"][-1]).split("\n\n```{solution}")[0],
         "*Your answer (Exercise ex-fn-discuss):* ...")]
    # the Otter master: the same cell after the check cell, outside the question
    master = make_otter_master(nb, "03_fn.ipynb")
    assert _answers_after(master) == _answers_after(student)
    cells = master["cells"]
    k = next(i for i, c in enumerate(cells) if ANSWER_TAG in tags(c))
    assert src(cells[k - 2]) == "# END QUESTION"
    assert len({c["id"] for c in cells}) == len(cells)
    nbformat.validate(master)
    # untagged, the exercise gets no answer cell
    del nb["cells"][1].metadata["tags"]
    assert len(_answers_after(make_student_notebook(nb))) == 1
    # the student notebook still runs with only the stub's NotImplementedError
    errors = execute(make_student_notebook(written_part_nb()), tmp_path)
    assert {e["ename"] for e in errors} == {"NotImplementedError"}


def test_a_written_part_without_a_check_cell_is_answered_before_the_next_exercise():
    nb = written_part_nb()
    del nb["cells"][5]                     # the check cell of ex-fn-grad
    cells = make_student_notebook(nb)["cells"]
    k = next(i for i, c in enumerate(cells) if ANSWER_TAG in tags(c))
    assert "ex-fn-grad" in src(cells[k]) and STUB_TAG in tags(cells[k - 1])
    assert "{exercise} Sum" in src(cells[k + 1])
    # and at the end of the notebook, when nothing follows
    nb["cells"][5:] = []
    assert "ex-fn-grad" in src(make_student_notebook(nb)["cells"][-1])


def test_written_part_tag_needs_an_exercise():
    nb = function_exercise_nb()
    nb["cells"][0] = nbformat.v4.new_markdown_cell("Some prose.")
    nb["cells"][0].metadata["tags"] = [WRITTEN_PART_TAG]
    with pytest.raises(ValueError, match="03_x.ipynb: a markdown cell tagged 'written-part'"):
        make_student_notebook(nb, name="03_x.ipynb")


# the book's computational exercises whose statements ask a question graded by hand
WRITTEN_PARTS = {"00_preface.ipynb": ["ex-ch0-linear-fixed-point"],
                 "04_reparameterization.ipynb": ["ex-ch4-dw2-function"],
                 "05_metrics.ipynb": ["ex-ch5-length", "ex-ch5-steepest-step", "ex-ch5-slice"]}


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_written_parts_have_answer_cells(path):
    book_nb = nbformat.read(path, as_version=4)
    tagged = [m.group(1) for c in book_nb["cells"] if WRITTEN_PART_TAG in tags(c)
              and "{solution}" not in src(c)          # a written exercise has its answer cell
              for m in [re.search(r":label:\s*(\S+)", src(c))]]
    assert set(WRITTEN_PARTS.get(path.name, [])) <= set(tagged)
    student = make_student_notebook(book_nb, name=path.name)
    master = make_otter_master(book_nb, path.name)
    for label in tagged:
        for nb in (student, master) if master is not None else (student,):
            before = [b for b, text in _answers_after(nb) if f"(Exercise {label})" in text]
            assert len(before) == 1, label
            # right after the exercise's check cell
            assert check_names(before[0]), (label, before[0])


def aliased_nb():
    """A notebook like the preface: it binds the package as ``fp`` only, and its check cells
    call ``fp.checks``; a last cell then rebinds ``fp``, as Chapter 2 does for a fixed point."""
    nb = function_exercise_nb("fp.checks.ch2_linear_gradient(linear_gradient)")
    nb["cells"][0]["source"] = "import numpy as np\n\nimport fpnotes as fp"
    nb["cells"].append(nbformat.v4.new_code_cell("fp = None  # the chapter reuses the name"))
    return nb


def test_generated_tests_need_no_name_of_the_notebook():
    master = make_otter_master(aliased_nb(), "00_alias.ipynb")
    ((solution, tests),) = master_questions(master)
    assert [t.count("fpnotes.checks.ch2_linear_gradient(") for t in tests] == [1, 1, 1]
    assert not any("fp.checks" in t for t in tests)
    # the solutions run in the notebook's namespace; Otter runs the tests after the whole
    # notebook, so with fp rebound and no name fpnotes bound
    namespace = {}
    for cell in master["cells"]:
        if cell["cell_type"] == "code" and src(cell) not in tests:
            exec(src(cell), namespace)
    assert namespace["fp"] is None and "fpnotes" not in namespace
    for test in tests:
        value, printed = run_test(test, namespace)
        assert value is True and printed == "Correct!\n", (test, printed)
    # an answer check's hidden test, which calls it with the answer alone, is canonical too
    nb = function_exercise_nb("fp.checks.ch1_fixed_point(R_try, W_try, np.ones((3, 2)))")
    ((_, tests),) = master_questions(make_otter_master(nb, "01_alias.ipynb"))
    assert tests[1] == ("# HIDDEN\nimport fpnotes.checks\n"
                        "all([bool(fpnotes.checks.ch1_fixed_point(R_try))])")


def data_book(tmp_path):
    """A book folder whose chapter reads a data file in a cell outside the exercises."""
    book = tmp_path / "book"
    (book / "data").mkdir(parents=True)
    (book / "data" / "values.json").write_text("[1, 2, 3]")
    (book / "unused.txt").write_text("not read by the chapter")
    nb = aliased_nb()
    nb["cells"][:1] = [nbformat.v4.new_code_cell(
        "import json\n\nimport numpy as np\n\nimport fpnotes as fp\n\n"
        'with open("data/values.json") as fh:\n    values = json.load(fh)')]
    cells = [nbformat.v4.new_markdown_cell(
                 "```{exercise} Squares\n:label: ex-data-sum\n\nSum the squares of `values` "
                 "into `total`.\n```"),
             nbformat.v4.new_markdown_cell(
                 "```{solution-start} ex-data-sum\n:class: dropdown\n```"),
             nbformat.v4.new_code_cell("total = float(np.sum(np.square(values)))"),
             nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
             nbformat.v4.new_code_cell(
                 "fp.checks.report(*fp.checks.compare_scalar(total, 14.0, name='total'))")]
    cells[2].metadata["tags"] = [SOLUTION_TAG]
    nb["cells"][1:1] = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}     # otter assign reads it
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, book / "01_data.ipynb")
    return book


def test_otter_assignment_ships_the_data_its_chapter_reads(tmp_path):
    """``otter assign`` runs the tests on the solution in a folder of its own, holding only the
    notebook and the autograder zip's files: it passes only if the zip ships the data."""
    pytest.importorskip("otter", reason="needs the course extra")
    book, out = data_book(tmp_path), tmp_path / "out"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main(book, out, otter=True, run_tests=True)
    assert not [w for w in caught if "Otter master raised" in str(w.message)]
    assert json.loads((out / "data" / "values.json").read_text()) == [1, 2, 3]  # self-checking
    dist = out / "otter" / "01_data" / "dist"
    assert (dist / "student" / "data" / "values.json").is_file()
    (autograder,) = (dist / "autograder").glob("01_data-autograder_*.zip")
    with zipfile.ZipFile(autograder) as zf:
        shipped = [n for n in zf.namelist() if n.startswith("files/")]
    assert shipped == ["files/data/values.json"]
    assert not list(out.rglob("unused.txt"))
    # both questions (the data one and the function one) passed every test in the master
    master = nbformat.read(out / "otter" / "01_data" / "01_data.ipynb", as_version=4)
    assert [src(c).split("\n")[1] for c in master["cells"]
            if src(c).startswith("# BEGIN QUESTION")] == ["name: data_sum", "name: fn_grad"]
    tests = [c for c in master["cells"]
             if src(c).removeprefix("# HIDDEN\n").startswith(TEST_IMPORT)]
    outputs = {src(c): "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                               for o in c["outputs"]) for c in tests}
    assert len(outputs) == 5 and all(o == "Correct!\nTrue" for o in outputs.values()), outputs


# ---------------------------------------------------------------- the real chapters


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_student_version(path):
    book_nb = nbformat.read(path, as_version=4)
    student = make_student_notebook(book_nb, name=path.name)
    blocks = assert_student_version(book_nb, student)
    missing = []
    for _, check in blocks:
        names = check_names(src(book_nb["cells"][check]))
        check_src = src(book_nb["cells"][check])
        assert names, f"check cell {check_src!r} calls no fpnotes.checks function"
        missing += [n for n in names if not hasattr(fpnotes.checks, n)]
    assert not missing, f"check functions missing from fpnotes.checks: {missing}"
    # the stubs name only variables the check cells read (no helper names of the solution)
    read = set()
    for _, check in blocks:
        read |= set(loaded_names(src(book_nb["cells"][check])))
    for stub in (c for c in student["cells"] if STUB_TAG in tags(c)):
        stubbed = [ln.split(" = ...", 1)[0] for ln in src(stub).splitlines()
                   if ln.endswith(" = ...  # your code here")]
        stubbed += [n.name for n in ast.parse(src(stub)).body if isinstance(n, ast.FunctionDef)
                    and "write the body of" in ast.unparse(n.body[-1])]
        assert set(stubbed) <= read, stubbed
    if not blocks:
        return
    # the stored results a chapter reads are found, listed for Otter and copied with it
    data = data_paths(book_nb, path.parent)
    for cell in book_nb["cells"]:
        for store in re.findall(r"load_results\(\s*[\"']([^\"']+)", src(cell)):
            assert any(store == d or store.startswith(d + "/") for d in data), (store, data)
    master = make_otter_master(book_nb, path.name, files=data)
    assert master is not None
    config = next(src(c) for c in master["cells"] if c["cell_type"] == "raw").splitlines()
    files = [json.loads(ln.split(":", 1)[1]) for ln in config if ln.startswith("files:")]
    assert files == ([sorted({d.split("/")[0] for d in data})] if data else [])
    # every test imports the package itself: Otter runs them after the whole notebook, where
    # the chapter's own name for it may be unbound (the preface binds only fp)
    tests = [t for _, ts in master_questions(master) for t in ts]
    assert tests and all(t.removeprefix("# HIDDEN\n").startswith(TEST_IMPORT + "\n")
                         for t in tests)


def test_otter_master_execution_stops_on_a_broken_solution_only(fixture_nb, tmp_path):
    pytest.importorskip("nbclient")
    from fpnotes.assignments import _execute_master

    nb = copy.deepcopy(fixture_nb)
    nb["cells"].insert(2, nbformat.v4.new_code_cell("assert False, 'a chapter assertion'"))
    master = make_otter_master(nb, "01_fixture.ipynb")
    with pytest.warns(UserWarning, match="a chapter assertion"):
        _execute_master(master, tmp_path, "01_fixture.ipynb")
    tests = [c for c in master["cells"] if c["cell_type"] == "code"
             and src(c).startswith(TEST_IMPORT)]
    printed = ["".join(o.get("text", "") for o in c["outputs"]) for c in tests]
    assert printed[0].startswith("Correct!")
    broken = copy.deepcopy(fixture_nb)
    cell = next(c for c in broken["cells"] if is_solution(c))
    cell["source"] = src(cell) + "\nraise ValueError('broken solution')"
    with pytest.raises(RuntimeError, match="solution cell.*broken solution"):
        _execute_master(make_otter_master(broken, "01_fixture.ipynb"), tmp_path,
                        "01_fixture.ipynb")
