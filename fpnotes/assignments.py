"""Student notebooks from the book's chapters: the solutions stripped, the checks kept.

Run ``python -m fpnotes.assignments book _assignments`` (``make assignments``). Each
chapter notebook ``book/NN_*.ipynb`` that has exercises is written to the output folder
with

* every ``solution``-tagged code cell replaced by a stub: each top-level name the solution
  assigns becomes ``name = ...  # your code here``, followed by a
  ``raise NotImplementedError("Exercise <label>: replace the ... above")``;
* every gated solution block (the markdown ``{solution-start}`` cell through the
  ``{solution-end}`` cell) removed, apart from the stubs, and every plain ``{solution}``
  directive removed from markdown cells, so no solution text is left;
* the check cell after each solution kept, outputs cleared, execution counts reset, and a
  markdown header saying that this is the student version.

The exercise cell convention the chapters follow::

    markdown   ```{exercise} Title / :label: ex-chN-short / text ```
    markdown   ```{solution-start} ex-chN-short / :class: dropdown ```
    code       (tagged "solution") answer = ...
    markdown   ```{solution-end} ```
    code       fpnotes.checks.chN_name(answer)

Because a stub assigns ``...`` (Ellipsis) to every answer name before it raises, a student
notebook executed with errors allowed fails only with ``NotImplementedError``; the check
cells then print "Not yet: ..." rather than raising ``NameError``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

import nbformat

__all__ = [
    "SOLUTION_TAG",
    "STUB_TAG",
    "assigned_names",
    "make_stub",
    "strip_solution_directives",
    "make_student_notebook",
    "chapter_notebooks",
    "main",
]

SOLUTION_TAG = "solution"
STUB_TAG = "exercise-stub"

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


def make_stub(source, label):
    """The student stub for one solution cell.

    Parameters
    ----------
    source : str
        The solution cell's source.
    label : str
        The exercise label (e.g. ``"ex-ch1-iterate"``), quoted in the error message.

    Returns
    -------
    str
        One ``name = ...  # your code here`` line per assigned name, then
        ``raise NotImplementedError("Exercise <label>: replace the ... above")``.
    """
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    lines = [f"{name} = ...  # your code here" for name in assigned_names(source)]
    lines.append(f'raise NotImplementedError("Exercise {label}: replace the ... above")')
    return "\n".join(lines)


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


HEADER = """\
**Student version of `{name}`.** Generated from the book by `python -m fpnotes.assignments`;
the solutions have been removed. In each exercise, replace every `...` with your own code,
delete the `raise NotImplementedError(...)` line, and run the check cell below it: it prints
`Correct!` or says what is still wrong."""


def _new_id(base, suffix, used):
    """A valid, unique cell id (``[a-zA-Z0-9-_]{1,64}``) derived from ``base``."""
    stem = re.sub(r"[^a-zA-Z0-9_-]", "-", f"{base}-{suffix}")[:60]
    cid, k = stem, 0
    while cid in used:
        k += 1
        cid = f"{stem[:56]}-{k}"
    used.add(cid)
    return cid


def make_student_notebook(nb, name="this chapter"):
    """Return the student version of a chapter notebook (the input is not modified).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A chapter notebook (nbformat 4) following the exercise cell convention.
    name : str, optional
        File name shown in the header cell.

    Returns
    -------
    nbformat.NotebookNode
        The notebook with solution cells replaced by stubs, solution blocks and
        ``{solution}`` directives removed, outputs cleared, execution counts reset and a
        header markdown cell (tagged ``student-header``) first.

    Raises
    ------
    TypeError
        If ``nb`` is not a notebook (a mapping with a ``cells`` list).
    ValueError
        If a ``{solution-start}`` block is never closed by ``{solution-end}``.
    """
    if not hasattr(nb, "get") or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be a notebook with a 'cells' list, got {type(nb).__name__}")
    out = copy.deepcopy(nb)
    out.pop("cells")
    used = {c.get("id") for c in nb["cells"] if c.get("id")}
    cells = []
    label = "exercise"          # label quoted in stubs: the current exercise's
    gated = False               # inside {solution-start} ... {solution-end}
    gate_label = None
    for cell in nb["cells"]:
        cell = copy.deepcopy(cell)
        src = _source(cell)
        if cell["cell_type"] == "markdown":
            lines = src.split("\n")
            keep = []
            if gated:
                found = _find_directive(lines, {"solution-end"})
                if found is None:
                    continue                                # solution text: drop
                i, m = found
                keep_from = _closing(lines, i, m.group("fence")) + 1
                lines = lines[keep_from:]
                gated = False
            found = _find_directive(lines, {"solution-start"})
            if found is not None:
                i, m = found
                gate_label = m.group("arg").strip() or None
                keep = lines[:i]
                rest = lines[i:]
                end = _find_directive(rest, {"solution-end"})
                if end is None:
                    gated = True
                else:                                       # start and end in one cell
                    j = _closing(rest, end[0], end[1].group("fence"))
                    keep += rest[j + 1:]
                lines = keep
            text = strip_solution_directives("\n".join(lines))
            found_label = _exercise_label(text)
            if found_label:
                label = found_label
            if not text.strip():
                continue
            cell["source"] = text
            cells.append(cell)
            continue
        if cell["cell_type"] == "code" and SOLUTION_TAG in _tags(cell):
            stub_label = gate_label if gated and gate_label else label
            tags = [t for t in _tags(cell) if t != SOLUTION_TAG] + [STUB_TAG]
            stub = nbformat.v4.new_code_cell(make_stub(src, stub_label))
            stub.metadata["tags"] = tags
            stub["id"] = _new_id(cell.get("id") or "cell", "stub", used)
            cells.append(stub)
            continue
        if gated:
            continue                                        # anything else in the gate
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    if gated:
        raise ValueError(f"{name}: {{solution-start}} {gate_label or ''} is never closed "
                         "by {solution-end}")
    header = nbformat.v4.new_markdown_cell(HEADER.format(name=name))
    header.metadata["tags"] = ["student-header"]
    header["id"] = _new_id("student", "header", used)
    out["cells"] = [header] + cells
    out.setdefault("nbformat", 4)
    out["nbformat_minor"] = max(int(out.get("nbformat_minor", 5)), 5)  # cell ids
    return out


def _has_exercises(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and SOLUTION_TAG in _tags(cell):
            return True
        if cell["cell_type"] == "markdown" and _find_directive(
                _source(cell).split("\n"), {"exercise"}) is not None:
            return True
    return False


def chapter_notebooks(src_dir):
    """The chapter notebooks of a book folder: ``[0-9]*.ipynb``, sorted by name."""
    src = Path(src_dir)
    if not src.is_dir():
        raise ValueError(f"{src} is not a directory")
    return sorted(src.glob("[0-9]*.ipynb"))


def main(src_dir="book", out_dir="_assignments"):
    """Write the student version of every chapter notebook with exercises.

    Parameters
    ----------
    src_dir : str or Path
        Folder with the chapter notebooks (``[0-9]*.ipynb``).
    out_dir : str or Path
        Output folder (created); only the student notebooks are written there.

    Returns
    -------
    list of Path
        The notebooks written, in chapter order.
    """
    out = Path(out_dir)
    written = []
    for path in chapter_notebooks(src_dir):
        nb = nbformat.read(path, as_version=4)
        if not _has_exercises(nb):
            continue
        student = make_student_notebook(nb, name=path.name)
        nbformat.validate(student)
        out.mkdir(parents=True, exist_ok=True)
        target = out / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def _cli(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m fpnotes.assignments",
        description="Write student notebooks (solutions stripped) from the book's chapters.")
    parser.add_argument("src_dir", nargs="?", default="book")
    parser.add_argument("out_dir", nargs="?", default="_assignments")
    args = parser.parse_args(argv)
    written = main(args.src_dir, args.out_dir)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"no chapter notebooks with exercises in {args.src_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
