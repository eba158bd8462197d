"""Student notebooks and Otter assignments from the book's chapters.

Run ``python -m fpnotes.assignments book _assignments`` (``make assignments``). Every
notebook of the book with exercises (``NN_*.ipynb`` and ``appendix_*.ipynb``) gives

* a **student notebook** ``OUT/<name>.ipynb``: every ``solution``-tagged code cell
  replaced by a stub, every gated solution block and ``{solution}`` directive removed, an
  answer cell after each written exercise and after the check cell of each computational
  exercise with a written part, the check cells kept, outputs cleared;
* for a notebook with computational exercises, an **Otter assignment** in
  ``OUT/otter/<stem>/``: an executed master notebook (one question per exercise, whose
  tests call the same ``fpnotes.checks`` functions as the check cells) and what
  ``otter assign`` makes from it, ``dist/student/`` (the notebook students fill in,
  with ``grader.check`` cells) and ``dist/autograder/`` (the solution notebook and the
  autograder zip). This needs otter-grader (``pip install "fpnotes[course]"``); pass
  ``--no-otter`` to write the student notebooks only;
* the stored results the notebooks read by a relative path (``results/full_size`` in
  Chapters 3 and 4, ``results/mnist`` in Chapter 6; see :func:`data_paths`), copied to the
  same path in ``OUT/`` and, through Otter's ``files:``, into each assignment's ``dist/``
  folders and autograder zip.

The output folder must not be the source folder, and existing files in it are only
replaced with ``--force``. ``python -m fpnotes.assignments grade AUTOGRADER.zip SUB...
--csv grades.csv`` grades submissions with ``otter run`` (no Docker) into one CSV
(``--results DIR`` keeps Otter's ``results.json`` of each, with every test's output).

The exercise cell convention the chapters follow::

    markdown   ```{exercise} Title / :label: ex-chN-short / text ```
    markdown   ```{solution-start} ex-chN-short / :class: dropdown ```
    code       (tagged "solution") setup lines / # solution / answer = ...
    markdown   ```{solution-end} ```
    code       fpnotes.checks.chN_name(answer, ...)

A computational exercise that also asks a question graded by hand (a *written part*) has
its ``{exercise}`` cell tagged ``written-part`` (cell metadata tags): the student notebook
and the Otter master get a *Your answer* cell right after its check cell.

In a solution cell, the lines above a ``# solution`` comment line are the exercise's
setup (the problem data the exercise tells the student to build): they are kept in the
stub. The answers are the names the solution binds that its check cell uses. The stub
assigns ``...`` to each answer variable and then raises ``NotImplementedError``; an
answer that is a function the solution defines (a *function exercise*, whose check is
marked with ``fpnotes.checks.function_exercise``) keeps its ``def`` line and docstring,
with the body ``raise NotImplementedError(...)``. Either way the check cells then print
"Not yet: ..." rather than raising. In the Otter master, a function exercise's hidden
tests call its check on the student's function once per hidden seed, so that a function
which only reproduces the public seed's numbers loses the question's point.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

__all__ = [
    "SOLUTION_TAG",
    "STUB_TAG",
    "ANSWER_TAG",
    "WRITTEN_PART_TAG",
    "SOLUTION_MARKER",
    "assigned_names",
    "loaded_names",
    "split_setup",
    "make_stub",
    "strip_solution_directives",
    "make_student_notebook",
    "make_otter_master",
    "build_otter_assignment",
    "grade_submissions",
    "chapter_notebooks",
    "data_paths",
    "main",
]

SOLUTION_TAG = "solution"
STUB_TAG = "exercise-stub"
ANSWER_TAG = "written-answer"
# an exercise cell with this tag has a written part besides its computation (a question
# graded by hand): it gets a *Your answer* cell after its check cell
WRITTEN_PART_TAG = "written-part"
# in a solution cell, the lines above this comment line are the exercise's setup
SOLUTION_MARKER = "# solution"

# an opening MyST fence: ``` or ::: (3 or more), then {directive} and an optional argument
_FENCE_OPEN = re.compile(
    r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}\s*(?P<arg>.*)$")
_LABEL = re.compile(r"^\s*:label:\s*(\S+)\s*$")


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell):
    return list(cell.get("metadata", {}).get("tags", []))


def assigned_names(source):
    """Top-level names a code cell binds, in order of first appearance.

    Parameters
    ----------
    source : str
        Python source of one cell (IPython magics are ignored line by line).

    Returns
    -------
    list of str
        Names bound by top-level assignments (``=``, augmented, annotated, tuple/list
        unpacking, starred), ``for``/``with`` targets and ``def``/``class`` statements,
        including those nested in top-level ``if``/``try``/``for``/``while``/``with`` blocks.
        Attribute and subscript targets (``a.b = ...``, ``a[0] = ...``) bind no new name.

    Raises
    ------
    TypeError
        If ``source`` is not a string.
    SyntaxError
        If the cell is not valid Python.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    lines = [ln if not ln.lstrip().startswith(("%", "!")) else "" for ln in source.splitlines()]
    tree = ast.parse("\n".join(lines))
    names = []

    def add_target(t):
        if isinstance(t, ast.Name):
            if t.id not in names:
                names.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for elt in t.elts:
                add_target(elt)
        elif isinstance(t, ast.Starred):
            add_target(t.value)

    def visit(body):
        for node in body:
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    add_target(t)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                add_target(node.target)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                add_target(ast.Name(id=node.name))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                add_target(node.target)
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        add_target(item.optional_vars)
                visit(node.body)
            elif isinstance(node, (ast.If, ast.While)):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.NamedExpr):
                add_target(node.value.target)

    visit(tree.body)
    return names


def _find_directive(lines, names, start=0):
    """Index and fence of the first opening fence of a directive in ``names``, or None."""
    for i in range(start, len(lines)):
        m = _FENCE_OPEN.match(lines[i])
        if m and m.group("name") in names:
            return i, m
    return None


def _closing(lines, i, fence):
    """Index of the line closing the fence opened at line ``i`` (or the last line)."""
    char, n = fence[0], len(fence)
    close = re.compile(rf"^\s*{re.escape(char)}{{{n},}}\s*$")
    for j in range(i + 1, len(lines)):
        if close.match(lines[j]):
            return j
    return len(lines) - 1


def strip_solution_directives(text):
    """Remove every ``{solution}`` directive block (fence to closing fence) from markdown.

    Parameters
    ----------
    text : str
        Markdown source of one cell.

    Returns
    -------
    str
        The text without the solution blocks (other directives untouched).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    lines = text.split("\n")
    while (found := _find_directive(lines, {"solution"})) is not None:
        i, m = found
        j = _closing(lines, i, m.group("fence"))
        del lines[i:j + 1]
    return "\n".join(lines).strip("\n")


def _exercise_label(text):
    """The ``:label:`` of the last exercise directive in a markdown cell, or None."""
    lines = text.split("\n")
    label, pos = None, 0
    while (found := _find_directive(lines, {"exercise"}, pos)) is not None:
        i, m = found
        j = _closing(lines, i, m.group("fence"))
        for line in lines[i + 1:j]:
            lm = _LABEL.match(line)
            if lm:
                label = lm.group(1)
                break
        pos = j + 1
    return label




def _code_lines(source):
    return [ln if not ln.lstrip().startswith(("%", "!")) else "" for ln in source.splitlines()]


def loaded_names(source):
    """Names a code cell reads (``ast.Name`` in load context), in order, without repeats."""
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    nodes = [node for node in ast.walk(ast.parse("\n".join(_code_lines(source))))
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)]
    names = []
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset)):
        if node.id not in names:
            names.append(node.id)
    return names


def split_setup(source):
    """Split a solution cell into (setup, solution) at its ``# solution`` marker line.

    Without a marker the whole cell is the solution and the setup is empty.
    """
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == SOLUTION_MARKER:
            return "\n".join(lines[:i]).rstrip("\n"), "\n".join(lines[i + 1:]).strip("\n")
    return "", source


def _function_defs(solution):
    """The top-level ``def`` statements of a solution, by name (the last one of a name wins)."""
    tree = ast.parse("\n".join(_code_lines(solution)))
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _cut(line, col):
    """``line`` up to the AST column ``col`` (a UTF-8 byte offset, not a character index)."""
    return line.encode("utf-8")[:col].decode("utf-8", errors="ignore")


def _function_stub(solution, node, label):
    """A function's stub: its decorators, ``def`` line(s) and docstring, then a raise.

    The lines are copied verbatim from ``solution``, so the student gets the solution's own
    signature and docstring; comments between the signature and the body go with the body,
    since they may describe the solution.
    """
    lines = solution.split("\n")
    first = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    body = node.body[0]
    start = body.lineno - 1
    prefix = _cut(lines[start], body.col_offset)
    one_line = prefix.rstrip().endswith(":")       # def f(x): return x
    if one_line:
        head = lines[first:start] + [prefix.rstrip()]
        indent = " " * (node.col_offset + 4)
    else:
        head = lines[first:start]
        while head and (not head[-1].strip() or head[-1].lstrip().startswith("#")):
            head.pop()
        indent = prefix
    if isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant) \
            and isinstance(body.value.value, str):
        doc = ast.get_source_segment(solution, body).split("\n")
        head += [indent + doc[0]] + doc[1:]
    head.append(f'{indent}raise NotImplementedError("Exercise {label}: write the body of '
                f'{node.name}")')
    return "\n".join(head)


def _stub_lines(source, label, answers):
    """(setup, answer stubs, whether a final raise is due) of one solution cell."""
    setup, solution = split_setup(source)
    assigned = assigned_names(solution)
    if answers is None:
        answers = assigned
    unknown = [a for a in answers if a not in assigned]
    if unknown:
        raise ValueError(f"exercise {label}: the solution never assigns {unknown}")
    if not answers:
        raise ValueError(f"exercise {label}: the solution assigns no answer variable")
    defs = _function_defs(solution)
    stubs = [_function_stub(solution, defs[name], label) if name in defs
             else f"{name} = ...  # your code here" for name in answers]
    return setup, stubs, any(name not in defs for name in answers)


def make_stub(source, label, answers=None):
    """The student stub for one solution cell.

    Parameters
    ----------
    source : str
        The solution cell's source (setup lines, ``# solution``, the solution).
    label : str
        The exercise label (e.g. ``"ex-ch1-iterate"``), quoted in the error messages.
    answers : list of str, optional
        The answers the exercise asks for; by default every name the solution assigns.
        Names the solution does not assign are an error.

    Returns
    -------
    str
        The setup lines, then one stub per answer in order: for a function the solution
        defines at top level, its decorators, ``def`` line(s) and docstring verbatim and
        the body ``raise NotImplementedError("Exercise <label>: write the body of
        <name>")``; for any other name ``name = ...  # your code here``. When any answer
        is such a variable, a last line ``raise NotImplementedError("Exercise <label>:
        replace the ... above")`` stops the cell. A cell of functions only runs without
        error: their stubs raise when called, which the check cell reports as "Not yet".
    """
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    setup, stubs, variables = _stub_lines(source, label, answers)
    blocks = ([setup] if setup else []) + stubs
    if variables:
        blocks.append(f'raise NotImplementedError("Exercise {label}: replace the ... above")')
    return _join_blocks(blocks)


def _is_def(block):
    return block.lstrip().startswith(("def ", "async def ", "@"))


def _join_blocks(blocks):
    """Join code blocks by newlines, with two blank lines around a function (PEP 8)."""
    out = blocks[:1]
    for prev, block in itertools.pairwise(blocks):
        out.append(("\n\n\n" if _is_def(prev) or _is_def(block) else "\n") + block)
    return "".join(out)


def _new_id(base, suffix, used):
    """A valid, unique cell id (``[a-zA-Z0-9-_]{1,64}``) derived from ``base``."""
    stem = re.sub(r"[^a-zA-Z0-9_-]", "-", f"{base}-{suffix}")[:60]
    cid, k = stem, 0
    while cid in used:
        k += 1
        cid = f"{stem[:56]}-{k}"
    used.add(cid)
    return cid


class _Exercise:
    """One computational exercise: its label, solution cell, check cell and answers."""

    def __init__(self, label, solution, exercise_text):
        self.label = label
        self.solution = solution          # the solution code cell (a copy)
        self.exercise_text = exercise_text
        self.check = None                 # the check code cell (a kept cell), if any
        self.answers = None

    def resolve_answers(self, where):
        setup, solution = split_setup(_source(self.solution))
        assigned = assigned_names(solution)
        used = set(loaded_names(_source(self.check))) if self.check is not None else set()
        answers = [n for n in assigned if n in used]
        if not answers:
            quoted = set(re.findall(r"`([A-Za-z_]\w*)`", self.exercise_text or ""))
            answers = [n for n in assigned if n in quoted]
        if not answers:
            raise ValueError(f"{where}: exercise {self.label}: cannot tell which of "
                             f"{assigned} are the answers (use them in the check cell)")
        self.answers = answers


def _parse(nb, name):
    """The notebook as a list of ("cell", cell) and ("exercise", _Exercise) items.

    Solution text is removed from the kept cells; check cells are kept as cells and
    also attached to their exercise.
    """
    if not hasattr(nb, "get") or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be a notebook with a 'cells' list, got {type(nb).__name__}")
    items = []
    label = "exercise"          # label quoted in stubs: the current exercise's
    exercise_text = ""
    gated = False               # inside {solution-start} ... {solution-end}
    gate_label = None
    pending = None              # exercise whose check cell is still to come
    part_due = None             # written-part exercise whose answer cell is still to come
    for cell in nb["cells"]:
        cell = copy.deepcopy(cell)
        src = _source(cell)
        if cell["cell_type"] == "markdown" and WRITTEN_PART_TAG in _tags(cell) and \
                _exercise_label(src) is None:
            raise ValueError(f"{name}: a markdown cell tagged {WRITTEN_PART_TAG!r} has no "
                             "{exercise} directive with a :label:")
        if cell["cell_type"] == "markdown":
            lines = src.split("\n")
            if gated:
                found = _find_directive(lines, {"solution-end"})
                if found is None:
                    if _find_directive(lines, {"exercise", "solution-start"}) is not None:
                        raise ValueError(
                            f"{name}: exercise {gate_label or label}: {{solution-start}} is "
                            "not closed by {solution-end} before the next exercise")
                    continue                                # solution text: drop
                i, m = found
                lines = lines[_closing(lines, i, m.group("fence")) + 1:]
                gated = False
            found = _find_directive(lines, {"solution-start"})
            if found is not None:
                i, m = found
                gate_label = m.group("arg").strip() or None
                keep, rest = lines[:i], lines[i:]
                end = _find_directive(rest, {"solution-end"})
                if end is None:
                    gated = True
                else:                                       # start and end in one cell
                    keep += rest[_closing(rest, end[0], end[1].group("fence")) + 1:]
                lines = keep
            had_written = _find_directive(lines, {"solution"}) is not None
            text = strip_solution_directives("\n".join(lines))
            found_label = _exercise_label(text)
            if found_label:
                label, exercise_text = found_label, text
                pending = None
                if part_due is not None:        # its check cell never came: answer here
                    items.append(("part", part_due))
                    part_due = None
            if text.strip():
                cell["source"] = text
                items.append(("cell", cell))
            if had_written:
                items.append(("written", label))
            elif found_label and WRITTEN_PART_TAG in _tags(cell):
                part_due = found_label
            continue
        if cell["cell_type"] == "code" and SOLUTION_TAG in _tags(cell):
            ex = _Exercise(gate_label if gated and gate_label else label, cell, exercise_text)
            items.append(("exercise", ex))
            pending = ex
            continue
        if gated:
            continue                                        # anything else in the gate
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.metadata.pop("execution", None)
            if pending is not None and pending.check is None:
                pending.check = cell
                pending = None
                if part_due is not None:
                    items += [("cell", cell), ("part", part_due)]
                    part_due = None
                    continue
        items.append(("cell", cell))
    if part_due is not None:
        items.append(("part", part_due))
    if gated:
        raise ValueError(f"{name}: exercise {gate_label or label}: {{solution-start}} is "
                         "never closed by {solution-end}")
    for kind, obj in items:
        if kind == "exercise":
            obj.resolve_answers(name)
    return items


HEADER = """\
**Student version of `{name}`.** Generated from the book by `python -m fpnotes.assignments`;
the solutions have been removed. In each exercise, replace every `...` with your own code,
delete the `raise NotImplementedError(...)` line (in an exercise that asks for a function,
replace that line inside the function by its body), and run the check cell below it: it prints
`Correct!` or says what is still wrong. Write your answers to the written exercises, and to
the questions of the computational ones, in the cells marked *Your answer*."""


def _finish(out, cells, used, header):
    head = nbformat.v4.new_markdown_cell(header)
    head.metadata["tags"] = ["student-header"]
    head["id"] = _new_id("student", "header", used)
    out["cells"] = [head] + cells
    out.setdefault("nbformat", 4)
    out["nbformat_minor"] = max(int(out.get("nbformat_minor", 5)), 5)  # cell ids
    return out


def _answer_cell(label, used, part=False):
    """A *Your answer* markdown cell (tagged ``written-answer``) for exercise ``label``.

    ``part``: the answer to the written part of a computational exercise (one tagged
    ``written-part``), placed after its check cell.
    """
    what = "to the written part " if part else ""
    cell = nbformat.v4.new_markdown_cell(f"*Your answer {what}(Exercise {label}):* ...")
    cell.metadata["tags"] = [ANSWER_TAG]
    cell["id"] = _new_id(label, "answer", used)
    return cell


def make_student_notebook(nb, name="this chapter"):
    """Return the student version of a chapter notebook (the input is not modified).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A chapter notebook (nbformat 4) following the exercise cell convention.
    name : str, optional
        File name shown in the header cell and in error messages.

    Returns
    -------
    nbformat.NotebookNode
        The notebook with solution cells replaced by stubs (setup lines kept), solution
        blocks and ``{solution}`` directives removed, an answer cell (tagged
        ``written-answer``) after each written exercise and after the check cell of each
        exercise whose ``{exercise}`` cell is tagged ``written-part``, outputs cleared,
        execution counts reset and a header markdown cell (tagged ``student-header``)
        first.

    Raises
    ------
    TypeError
        If ``nb`` is not a notebook (a mapping with a ``cells`` list).
    ValueError
        If a ``{solution-start}`` block is not closed by ``{solution-end}`` (the message
        names the notebook and the exercise), an exercise's answers cannot be told, or a
        cell tagged ``written-part`` has no labelled ``{exercise}`` directive.
    """
    items = _parse(nb, name)
    out = copy.deepcopy(nb)
    out.pop("cells")
    used = {c.get("id") for c in nb["cells"] if c.get("id")}
    cells = []
    for kind, obj in items:
        if kind == "cell":
            cells.append(obj)
        elif kind in ("written", "part"):
            cells.append(_answer_cell(obj, used, part=kind == "part"))
        else:
            tags = [t for t in _tags(obj.solution) if t != SOLUTION_TAG] + [STUB_TAG]
            stub = nbformat.v4.new_code_cell(
                make_stub(_source(obj.solution), obj.label, obj.answers))
            stub.metadata["tags"] = tags
            stub["id"] = _new_id(obj.solution.get("id") or "cell", "stub", used)
            cells.append(stub)
    return _finish(out, cells, used, HEADER.format(name=name))


# ---------------------------------------------------------------- Otter


OTTER_HEADER = """\
**Assignment `{name}`.** Generated from the book by `python -m fpnotes.assignments`. In each
question, replace every `...` with your own code and run the `grader.check` cell below it;
the check cells of the book stay too and say what is still wrong. Where a question asks for a
function, replace its `raise NotImplementedError(...)` line by the function's body: when the
assignment is graded, the function is also called on data other than the exercise's. Keep this
notebook's file name (its tests are stored in it)."""


def question_name(label):
    """Otter question name of an exercise label: ``ex-ch1-fixed-point`` -> ``ch1_fixed_point``."""
    name = re.sub(r"^ex-", "", label)
    name = re.sub(r"\W", "_", name)
    return name if name[:1].isalpha() else f"q_{name}"


def _raw(text):
    return nbformat.v4.new_raw_cell(text)


# the first line of every generated test: Otter runs the tests after the whole notebook, in
# its namespace, where the name a check cell used for the package (``fp`` in the preface) may
# be unbound or, later in the chapter, name something else (Chapter 2's fixed point ``fp``)
TEST_IMPORT = "import fpnotes.checks"


class _CanonicalChecks(ast.NodeTransformer):
    """Rewrite ``<anything>.checks.<name>`` (a function of ``fpnotes.checks``) as
    ``fpnotes.checks.<name>``, which :data:`TEST_IMPORT` binds."""

    def __init__(self):
        import fpnotes.checks as checks

        self.checks = checks

    def visit_Attribute(self, node):
        self.generic_visit(node)
        owner = node.value
        named = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if named == "checks" and hasattr(self.checks, node.attr):
            return ast.Attribute(
                value=ast.Attribute(value=ast.Name(id="fpnotes", ctx=ast.Load()),
                                    attr="checks", ctx=ast.Load()),
                attr=node.attr, ctx=node.ctx)
        return node


def _check_calls(source):
    """(statements before the calls, [(function name, call source, call node)]).

    Every reference to a check function is rewritten as ``fpnotes.checks.<name>``, whatever
    name the check cell used for the package, and the sources are unparsed from the AST.
    """
    import fpnotes.checks as checks

    tree = ast.fix_missing_locations(_CanonicalChecks().visit(ast.parse(source)))
    pre, calls = [], []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        func = getattr(call, "func", None)
        if isinstance(func, ast.Attribute) and hasattr(checks, func.attr) and \
                ast.unparse(func.value) == "fpnotes.checks":
            calls.append((func.attr, ast.unparse(call), call))
        else:
            pre.append(ast.unparse(node))
    return pre, calls


def _own_data_call(fname, call):
    """The call with the problem-data arguments dropped, when the check builds its own."""
    import inspect

    import fpnotes.checks as checks

    params = list(inspect.signature(getattr(checks, fname)).parameters.values())[1:]
    if not call.args or call.keywords or len(call.args) - 1 > len(params):
        return None
    if not all(p.default is not inspect.Parameter.empty for p in params):
        return None
    return f"fpnotes.checks.{fname}({ast.unparse(call.args[0])})"


def _hidden_seeds(fname):
    """The hidden seeds of a function exercise's check (see ``function_exercise``), or ()."""
    import fpnotes.checks as checks

    return tuple(getattr(getattr(checks, fname), "hidden_seeds", None) or ())


def _seed_call(fname, call, seed):
    """A function exercise's check call with ``seed=seed`` (any ``seed`` it had replaced)."""
    if not call.args:
        raise ValueError(f"the check cell calls fpnotes.checks.{fname} without the student's "
                         "function as its first argument")
    args = [ast.unparse(a) for a in call.args]
    args += [ast.unparse(k) for k in call.keywords if k.arg != "seed"]
    return f"fpnotes.checks.{fname}({', '.join(args + [f'seed={seed}'])})"


def _all(calls):
    return "all([" + ", ".join(f"bool({c})" for c in calls) + "])"


def _test_sources(ex):
    """Test cell sources of an exercise: ``(public, [hidden, ...], seeds)``, or None.

    None when there is no check cell calling ``fpnotes.checks``. Every test starts with
    :data:`TEST_IMPORT` and calls the checks as ``fpnotes.checks.<name>``, so that it does not
    depend on the names the notebook binds at the end. The public test is the check cell's
    statements and calls. An answer check's hidden test calls it with the answer alone (so
    with the problem data the check builds itself) where its other arguments are optional, else
    repeats the public test. A function exercise's check (one with ``hidden_seeds``) gets one
    hidden test per hidden seed, calling it on the student's function with ``seed=s``;
    ``seeds`` lists those seeds (empty for an exercise of answer checks only).
    """
    if ex.check is None:
        return None
    pre, calls = _check_calls(_source(ex.check))
    if not calls:
        return None
    public = [TEST_IMPORT] + pre + [_all(c for _, c, _ in calls)]
    answer = [(f, c, node) for f, c, node in calls if not _hidden_seeds(f)]
    function = [(f, node) for f, _, node in calls if _hidden_seeds(f)]
    hidden = []
    if answer:
        own = [_own_data_call(f, node) for f, _, node in answer]
        hidden.append([_all(own)] if all(own) else pre + [_all(c for _, c, _ in answer)])
    seeds = sorted({s for f, _ in function for s in _hidden_seeds(f)})
    pre_names = set(assigned_names("\n".join(pre))) if pre else set()
    for seed in seeds:
        here = [(f, node) for f, node in function if seed in _hidden_seeds(f)]
        uses_pre = any(set(loaded_names(ast.unparse(node))) & pre_names for _, node in here)
        hidden.append((pre if uses_pre else []) + [_all(_seed_call(f, node, seed)
                                                        for f, node in here)])
    return ("\n".join(public), ["\n".join(["# HIDDEN", TEST_IMPORT] + h) for h in hidden],
            seeds)


def _prompt_string(prompt, label):
    """The master's prompt block: the prompt inside a raw string Otter strips off.

    The quotes are chosen so that a docstring in the prompt does not close the string.
    """
    for quote in ('"""', "'''"):
        if quote not in prompt:
            return [f"r{quote} # BEGIN PROMPT", prompt, f"{quote}; # END PROMPT"]
    raise ValueError(f"exercise {label}: the stub uses both kinds of triple quotes, so it "
                     "cannot be embedded in the Otter master; use one kind only")


def _config_text(stem, requirements, files=()):
    lines = ["# ASSIGNMENT CONFIG", f"name: {stem}", "init_cell: true",
             "check_all_cell: false", "export_cell: false", "run_tests: true",
             "generate: true"]
    if requirements:
        lines.append(f"requirements: {requirements}")
    # Otter copies a listed folder to dist/student/ and dist/autograder/ under its base name,
    # so only top-level names keep the notebook's relative paths; JSON strings are YAML
    tops = sorted({Path(f).parts[0] for f in files})
    if tops:
        lines.append(f"files: [{', '.join(json.dumps(t) for t in tops)}]")
    return "\n".join(lines)


def make_otter_master(nb, name, requirements=None, files=()):
    """The Otter master notebook (v1 format) of a chapter: one question per exercise.

    Each computational exercise with a check cell becomes a question worth one point,
    with the solution (setup lines outside the solution block, so students keep them;
    the prompt is the student stub's answer lines) and a public test that calls the check
    cell's ``fpnotes.checks`` functions. The hidden tests: for an answer check, a call
    with the answer alone, so with the problem data the check builds itself (or the
    public call again when the check needs more arguments); for a function exercise
    (a check with ``hidden_seeds``), one test per hidden seed calling the check on the
    student's function with ``seed=s``, and the question is all-or-nothing, so passing
    the public seed alone earns nothing. The check cell stays after the question, and
    written exercises, and exercises tagged ``written-part`` after their check cell, get an
    answer cell.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A chapter notebook following the exercise cell convention.
    name : str
        Its file name; the assignment is named after its stem.
    requirements : str, optional
        Path (relative to the master) of a requirements file for the autograder.
    files : sequence of str, optional
        Paths (relative to the master) of the files and folders the notebook reads, as
        :func:`data_paths` gives them. Their top-level names go into the ``files:`` key of the
        assignment config, so that ``otter assign`` copies them next to the student's and the
        solution notebook and into the autograder zip, whose grading puts them next to each
        submission. The caller puts them next to the master
        (:func:`build_otter_assignment` does).

    Returns
    -------
    nbformat.NotebookNode or None
        The master, or None when the notebook has no computational exercise.
    """
    items = _parse(nb, name)
    out = copy.deepcopy(nb)
    out.pop("cells")
    used = {c.get("id") for c in nb["cells"] if c.get("id")}
    stem = Path(name).stem
    cells = [_raw(_config_text(stem, requirements, files))]
    questions = 0
    for kind, obj in items:
        if kind == "cell":
            cells.append(obj)
            continue
        if kind in ("written", "part"):
            cells.append(_answer_cell(obj, used, part=kind == "part"))
            continue
        tests = _test_sources(obj)
        if tests is None:
            raise ValueError(f"{name}: exercise {obj.label} has no check cell calling "
                             "fpnotes.checks, so Otter cannot grade it")
        setup, solution = split_setup(_source(obj.solution))
        prompt = _join_blocks(_stub_lines(_source(obj.solution), obj.label, obj.answers)[1])
        if setup and _is_def(prompt):   # so that the student's cell reads as the stub
            setup += "\n\n"
        code = "\n".join(([setup] if setup else []) + [
            "# BEGIN SOLUTION NO PROMPT", solution, "# END SOLUTION",
            *_prompt_string(prompt, obj.label)])
        sol = nbformat.v4.new_code_cell(code)
        sol["id"] = _new_id(obj.solution.get("id") or "cell", "otter", used)
        public, hidden, seeds = tests
        config = f"# BEGIN QUESTION\nname: {question_name(obj.label)}\npoints: 1"
        if seeds:       # passing the public seed alone must not earn part of the point
            config += "\nall_or_nothing: true"
        cells += [_raw(config), _raw("# BEGIN SOLUTION"), sol, _raw("# END SOLUTION"),
                  _raw("# BEGIN TESTS"), nbformat.v4.new_code_cell(public),
                  *[nbformat.v4.new_code_cell(h) for h in hidden], _raw("# END TESTS"),
                  _raw("# END QUESTION")]
        questions += 1
    if not questions:
        return None
    for cell in cells:
        if "id" not in cell or cell["id"] in (None, ""):
            cell["id"] = _new_id("otter", "cell", used)
    return _finish(out, cells, used, OTTER_HEADER.format(name=name))


def _otter_available():
    try:
        import otter  # noqa: F401
    except ImportError:
        return False
    return True


def _execute_master(nb, cwd, name, timeout=900):
    """Execute an Otter master; an error in a solution or test cell is fatal.

    An error elsewhere (e.g. a wall-time assertion of the chapter on a loaded machine) is
    reported as a warning: the tests' expected outputs come from the test cells only.
    """
    import warnings

    import nbclient

    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}}).execute()
    block = None
    for k, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "raw":
            first = _source(cell).split("\n", 1)[0].strip()
            if first in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
                block = first
            elif first in ("# END SOLUTION", "# END TESTS"):
                block = None
            continue
        if cell["cell_type"] != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            continue
        what = f"{errors[0]['ename']}: {errors[0]['evalue']}"
        if block is not None:
            raise RuntimeError(f"{name}: executing the Otter master failed in a "
                               f"{block.split()[-1].lower()} cell (cell {k}): {what}")
        warnings.warn(f"{name}: cell {k} of the Otter master raised {what}", stacklevel=2)
    return nb


def build_otter_assignment(master, folder, name, requirement=None, run_tests=True,
                           data_dir=None, data=()):
    """Execute an Otter master in ``folder`` and run ``otter assign`` on it.

    Parameters
    ----------
    master : nbformat.NotebookNode
        From :func:`make_otter_master`.
    folder : Path
        Empty or new folder; receives ``<name>`` (the executed master),
        ``requirements.txt`` (if ``requirement``) and ``dist/``.
    name : str
        File name of the master (the chapter's).
    requirement : str, optional
        The line that installs fpnotes in the autograder image, e.g.
        ``fpnotes @ git+https://github.com/OWNER/fpnotes``.
    run_tests : bool
        Let ``otter assign`` run the tests on the solutions (a second execution).
    data_dir : str or Path, optional
        The folder the chapter runs in (the book's), from which ``data`` is copied.
    data : sequence of str
        Paths relative to ``data_dir`` that the chapter reads (:func:`data_paths`); each is
        copied to the same path in ``folder`` before the master runs there. The master must
        list them (``make_otter_master(..., files=data)``) for Otter to ship them.

    Returns
    -------
    Path
        ``folder / "dist"``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if data:
        if data_dir is None:
            raise ValueError("data needs the data_dir it is relative to")
        _copy_data(data_dir, folder, data)
    if requirement:
        (folder / "requirements.txt").write_text(requirement + "\n")
    path = folder / name
    _execute_master(master, folder, name)   # OK tests take their expected outputs from it
    nbformat.write(master, path)
    cmd = [sys.executable, "-m", "otter", "assign", name, "dist"]
    if not run_tests:
        cmd.append("--no-run-tests")
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"otter assign failed on {name}:\n{done.stdout[-3000:]}"
                           f"\n{done.stderr[-3000:]}")
    return folder / "dist"


def _repository_url(src_dir):
    """The repository URL of the book's ``_config.yml`` (next to ``src_dir``), or None."""
    cfg = Path(src_dir).resolve().parent / "_config.yml"
    if not cfg.is_file():
        return None
    m = re.search(r"^repository:\s*\n(?:\s+.*\n)*?\s+url:\s*(\S+)", cfg.read_text(),
                  flags=re.M)
    return m.group(1) if m else None


def _has_exercises(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and SOLUTION_TAG in _tags(cell):
            return True
        if cell["cell_type"] == "markdown" and _find_directive(
                _source(cell).split("\n"), {"exercise"}) is not None:
            return True
    return False


def data_paths(nb, src_dir):
    """The files and folders of ``src_dir`` that a notebook's code names by a relative path.

    A chapter reads stored results by a path relative to its own folder (Chapter 3's
    ``load_results("results/full_size")``), so its student notebook and its Otter assignment
    need a copy of them at the same relative path.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A chapter notebook.
    src_dir : str or Path
        The folder the notebook runs in (the book's).

    Returns
    -------
    list of str
        Sorted POSIX paths relative to ``src_dir``: every string constant of a code cell
        (solution cells included) that names an existing file or folder inside ``src_dir``,
        other than the folder itself and the notebooks; a path inside another one listed is
        left out (the outer one is copied whole).
    """
    src = Path(src_dir).resolve()
    found = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("\n".join(_code_lines(_source(cell))))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if not isinstance(text, str) or not text or len(text) > 255 or \
                    any(ch.isspace() for ch in text) or Path(text).is_absolute():
                continue
            try:
                path = (src / text).resolve()
                rel = path.relative_to(src)
            except (OSError, ValueError):
                continue                    # outside src_dir (or not a path at all)
            if rel.parts and path.exists() and path.suffix != ".ipynb":
                found.add(rel.as_posix())
    return sorted(p for p in found
                  if not any(p.startswith(q + "/") for q in found if q != p))


def _copy_data(src_dir, dest, paths):
    """Copy ``src_dir / p`` to ``dest / p`` for each relative path ``p`` (replacing it)."""
    for rel in paths:
        source, target = Path(src_dir) / rel, Path(dest) / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)


def chapter_notebooks(src_dir):
    """The book's notebooks: ``[0-9]*.ipynb`` then ``appendix_*.ipynb``, sorted by name."""
    src = Path(src_dir)
    if not src.is_dir():
        raise ValueError(f"{src} is not a directory")
    return sorted(src.glob("[0-9]*.ipynb")) + sorted(src.glob("appendix_*.ipynb"))


def main(src_dir="book", out_dir="_assignments", force=False, otter=False, only=None,
         run_tests=True, repo_url=None):
    """Write the student notebooks (and Otter assignments) of every notebook with exercises.

    Parameters
    ----------
    src_dir : str or Path
        Folder with the book's notebooks.
    out_dir : str or Path
        Output folder (created). It must not be ``src_dir``.
    force : bool
        Replace existing output files; without it, any existing one is an error and
        nothing is written.
    otter : bool
        Also build the Otter assignments (needs otter-grader).
    only : list of str, optional
        File names (e.g. ``["01_fixed_points.ipynb"]``) to restrict to.
    run_tests : bool
        Passed to :func:`build_otter_assignment`.
    repo_url : str, optional
        Repository the autograder installs fpnotes from; default the ``repository: url``
        of ``_config.yml`` next to ``src_dir``.

    Returns
    -------
    list of Path
        The student notebooks written, in order (the Otter folders are under
        ``out_dir/otter``). The files and folders the notebooks read by a relative path
        (:func:`data_paths`, e.g. ``results/full_size``) are copied to the same path in
        ``out_dir``, and each Otter assignment ships those of its chapter.
    """
    src, out = Path(src_dir), Path(out_dir)
    if out.resolve() == src.resolve():
        raise ValueError(f"the output folder {out} is the source folder: the chapters "
                         "would be replaced by their student versions")
    if otter and not _otter_available():
        raise RuntimeError('Otter assignments need otter-grader: pip install '
                           '"fpnotes[course]" (or pass --no-otter)')
    url = repo_url or _repository_url(src)
    # without a URL there is no requirements.txt to point the autograder at
    requirements = "requirements.txt" if url else None
    todo = []
    for path in chapter_notebooks(src):
        if only and path.name not in only:
            continue
        nb = nbformat.read(path, as_version=4)
        if not _has_exercises(nb):
            continue
        student = make_student_notebook(nb, name=path.name)
        nbformat.validate(student)
        data = data_paths(nb, src)
        master = make_otter_master(nb, path.name, requirements, data) if otter else None
        todo.append((path, student, master, data))
    data_all = sorted({d for *_, data in todo for d in data})
    targets = [out / p.name for p, *_ in todo] + [out / d for d in data_all]
    targets += [out / "otter" / p.stem for p, _, m, _ in todo if m is not None]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise FileExistsError(f"{len(existing)} output file(s) exist, e.g. {existing[0]}; "
                              "pass --force to replace them")
    written = []
    if todo:
        out.mkdir(parents=True, exist_ok=True)
    _copy_data(src, out, data_all)          # the student notebooks read them where the book does
    for path, student, master, data in todo:
        nbformat.write(student, out / path.name)
        written.append(out / path.name)
        if master is not None:
            folder = out / "otter" / path.stem
            with tempfile.TemporaryDirectory(dir=out) as tmp:
                build_otter_assignment(master, Path(tmp) / path.stem, path.name,
                                       f"fpnotes @ git+{url}" if url else None, run_tests,
                                       data_dir=src, data=data)
                if folder.exists():
                    shutil.rmtree(folder)
                folder.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(Path(tmp) / path.stem), str(folder))
    return written


def _otter_run(autograder, submission, res_dir):
    res_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "otter", "run", "-a",
                           str(Path(autograder).resolve()), "-o", str(res_dir),
                           str(Path(submission).resolve())], capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    if done.returncode != 0 or not (res_dir / "results.json").is_file():
        raise RuntimeError(f"otter run failed on {submission}:\n{done.stderr[-3000:]}")
    return json.loads((res_dir / "results.json").read_text())


def grade_submissions(autograder, submissions, csv_path, workdir=None, jobs=1):
    """Grade notebooks with ``otter run`` (no Docker) and write one CSV row per notebook.

    Parameters
    ----------
    autograder : str or Path
        The autograder zip from ``dist/autograder/``.
    submissions : list of str or Path
        Submitted notebooks.
    csv_path : str or Path
        The CSV written: ``file``, one column per question (its points), ``total`` and
        ``possible``.
    workdir : str or Path, optional
        Where each submission's ``results.json`` goes (default: a temporary folder).
    jobs : int
        Submissions graded at the same time (each in its own kernel).

    Returns
    -------
    list of dict
        The rows written, in the order of ``submissions``.
    """
    from concurrent.futures import ThreadPoolExecutor

    submissions = [Path(s) for s in submissions]
    questions = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(workdir or tmp)
        dirs = [base / f"{k:03d}-{sub.stem}" for k, sub in enumerate(submissions)]
        with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
            results = list(pool.map(_otter_run, [autograder] * len(submissions),
                                    submissions, dirs))
    rows = []
    for sub, res in zip(submissions, results, strict=True):
        row = {"file": sub.name}
        scored = [t for t in res["tests"] if t.get("score") is not None]
        for test in scored:                 # (the "Public Tests" summary has no score)
            q = test["name"].split(" - ")[0]
            row[q] = row.get(q, 0) + test["score"]
            if q not in questions:
                questions.append(q)
        row["total"] = sum(t["score"] for t in scored)
        row["possible"] = sum(t.get("max_score") or 0 for t in scored)
        rows.append(row)
    fields = ["file"] + questions + ["total", "possible"]
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval=0)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _cli(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["grade"]:
        parser = argparse.ArgumentParser(
            prog="python -m fpnotes.assignments grade",
            description="Grade submitted notebooks with otter run (no Docker) into a CSV.")
        parser.add_argument("autograder", help="the autograder zip (dist/autograder/*.zip)")
        parser.add_argument("submissions", nargs="+")
        parser.add_argument("--csv", default="grades.csv")
        parser.add_argument("--jobs", type=int, default=1,
                            help="submissions graded at the same time")
        parser.add_argument("--results", metavar="DIR",
                            help="keep each submission's Otter results.json (every test's "
                                 "output, hidden ones included) in DIR/NNN-<name>/")
        args = parser.parse_args(argv[1:])
        rows = grade_submissions(args.autograder, args.submissions, args.csv,
                                 workdir=args.results, jobs=args.jobs)
        for row in rows:
            print(f"{row['file']}: {row['total']:g} / {row['possible']:g}")
        print(f"wrote {args.csv}")
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m fpnotes.assignments",
        description="Write student notebooks (solutions stripped) and Otter assignments "
                    "from the book's notebooks. 'python -m fpnotes.assignments grade -h' "
                    "for grading.")
    parser.add_argument("src_dir", nargs="?", default="book")
    parser.add_argument("out_dir", nargs="?", default="_assignments")
    parser.add_argument("--force", action="store_true",
                        help="replace existing files in the output folder")
    parser.add_argument("--no-otter", dest="otter", action="store_false",
                        help="write the student notebooks only (no otter-grader needed)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these notebooks (file names)")
    parser.add_argument("--repo-url", help="repository the autograder installs fpnotes from")
    args = parser.parse_args(argv)
    try:
        written = main(args.src_dir, args.out_dir, force=args.force, otter=args.otter,
                       only=args.only, repo_url=args.repo_url)
    except (ValueError, FileExistsError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if args.otter and written:
        print(f"wrote the Otter assignments under {Path(args.out_dir) / 'otter'}")
    if not written:
        print(f"no notebooks with exercises in {args.src_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
