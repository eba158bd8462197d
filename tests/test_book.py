"""Static checks of the stored book notebooks: figures, execution order, progress bars.

nbval re-runs the notebooks and compares outputs; these tests check what a reader of the
stored notebooks and of the HTML book relies on and nbval does not look at.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
CAPTION = re.compile(r"\*\*Figure ([0-9A-Z]+)\.(\d+)\.\*\*")
LONG_CELL_SECONDS = 10.0


APPENDICES = {"appendix_sweeps": "A", "appendix_full_size": "B"}  # in the order of _toc.yml


def chapter_label(path: Path) -> str:
    """'01_fixed_points' -> '1'; 'appendix_sweeps' -> 'A'."""
    prefix = path.stem.split("_", 1)[0]
    return str(int(prefix)) if prefix.isdigit() else APPENDICES[path.stem]


def test_appendix_letters_follow_the_table_of_contents():
    toc = (BOOK.parent / "_toc.yml").read_text()
    listed = [stem for stem in re.findall(r"file: book/(appendix_\w+)", toc)]
    assert listed == sorted(APPENDICES, key=APPENDICES.get)


def has_output(cell, mime):
    return any(mime in out.get("data", {}) for out in cell.get("outputs", []))


def seconds(cell):
    timing = cell.metadata.get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except KeyError:
        return None
    return (end - start).total_seconds()


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_the_book_has_its_notebooks():
    assert len(NOTEBOOKS) >= 9


def test_every_static_figure_has_alt_text_and_a_numbered_caption(notebook):
    path, nb = notebook
    cells = nb.cells
    expected = 1
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or not has_output(cell, "image/png"):
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        assert len(alt) >= 40, f"{path.name} cell {i}: figure without alt text (mystnb.image.alt)"
        assert "$" not in alt and "\\" not in alt, f"{path.name} cell {i}: LaTeX in alt text"
        # consecutive figure cells share the caption after the last of them
        j = i + 1
        while j < len(cells) and cells[j].cell_type == "code" and has_output(cells[j], "image/png"):
            j += 1
        assert j < len(cells) and cells[j].cell_type == "markdown", (
            f"{path.name} cell {i}: a figure must be followed by its caption")
        match = CAPTION.match(cells[j].source)
        assert match, f"{path.name} cell {j}: caption must start with **Figure N.k.**"
        if j == i + 1:  # count each caption once
            assert match.groups() == (chapter_label(path), str(expected)), (
                f"{path.name} cell {j}: expected Figure {chapter_label(path)}.{expected}, "
                f"found {match.group(0)}")
            expected += 1


def test_interactive_figures_point_to_their_static_figure(notebook):
    """Static pages show a widget's initial state; the text says which figure that is."""
    path, nb = notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and has_output(cell, WIDGET):
            before = nb.cells[i - 1]
            refers = re.search(r"Figure \d+\.\d+", before.source)
            assert before.cell_type == "markdown" and refers, (
                f"{path.name} cell {i}: introduce an interactive figure with a reference to "
                "the static figure it shows")


def test_notebooks_are_stored_executed_top_to_bottom(notebook):
    path, nb = notebook
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run from a fresh kernel"


def test_long_cells_show_progress_and_leave_no_bar_behind(notebook):
    path, nb = notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        took = seconds(cell)
        if took is not None and took > LONG_CELL_SECONDS:
            assert "progress=True" in cell.source, (
                f"{path.name} cell {i} ran {took:.0f} s: pass progress=True to its long loops")
        for out in cell.get("outputs", []):
            text = out.get("text", "") + out.get("data", {}).get("text/plain", "")
            assert "it/s]" not in text, f"{path.name} cell {i}: a stale progress bar is stored"
    states = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = {s.get("model_name") for s in states.get("state", {}).values()}
    assert "FloatProgressModel" not in models, f"{path.name}: progress widget state is stored"
