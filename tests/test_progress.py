"""Progress bars: silent when off, tqdm in a terminal, a transient HTML bar in Jupyter."""

import sys

import nbformat
import pytest

import fpnotes
from fpnotes import _progress


class FakeHandle:
    def __init__(self, shown):
        self.shown = [shown]

    def update(self, obj):
        self.shown.append(obj)


@pytest.fixture
def notebook_display(monkeypatch):
    """Pretend to run in a kernel; record what the bar displays."""
    import IPython.display

    handles = []

    def display(obj, display_id=False):
        assert display_id, "the bar must be updatable in place"
        handles.append(FakeHandle(obj))
        return handles[-1]

    monkeypatch.setattr(_progress, "_in_jupyter_kernel", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    return handles


def html(obj):
    return obj._repr_html_() or ""


def test_no_bar_when_off(capsys):
    bar = _progress.progress_bar(10, "x", show=False)
    bar.update(3)
    bar.close()
    assert capsys.readouterr() == ("", "")


def test_terminal_bar_is_tqdm_on_stderr_and_not_left_behind():
    from tqdm.std import tqdm

    bar = _progress.progress_bar(10, "train", initial=2, unit="run")
    assert isinstance(bar, tqdm) and not isinstance(bar, _progress._NotebookBar)
    assert bar.fp is sys.stderr or getattr(bar.fp, "_wrapped", None) is sys.stderr
    assert (bar.n, bar.total, bar.unit, bar.leave) == (2, 10, "run", False)
    bar.close()
    kept = _progress.progress_bar(3, "sweep", leave=True)
    assert kept.leave is True
    kept.close()


def test_notebook_bar_starts_empty_shows_progress_and_clears(notebook_display):
    bar = _progress.progress_bar(10, "dW1 <lr>", initial=1, leave=True)  # cleared regardless
    (handle,) = notebook_display
    assert html(handle.shown[0]) == ""  # what a tool that ignores updates records
    bar.update(2)
    bar.refresh()  # tqdm throttles redraws in time; force one
    shown = html(handle.shown[-1])
    assert '<progress value="3" max="10"' in shown
    assert "dW1 &lt;lr&gt;" in shown and " 30%" in shown and "3/10" in shown
    bar.close()
    assert html(handle.shown[-1]) == ""
    n_shown = len(handle.shown)
    bar.close()  # closing twice is harmless and draws nothing more
    assert len(handle.shown) == n_shown


def test_training_progress_uses_one_display_slot(notebook_display):
    task = fpnotes.linear_task(N=10, m=5, seed=0)
    quiet = fpnotes.train_task(task, "dW3", 0.5, 20)
    shown = fpnotes.train_task(task, "dW3", 0.5, 20, progress=True)
    assert len(notebook_display) == 1
    assert html(notebook_display[0].shown[-1]) == ""
    assert shown.history.loss.tolist() == quiet.history.loss.tolist()


def test_bptt_progress_uses_one_display_slot_too(notebook_display):
    from fpnotes.bptt_training import train_task_bptt

    task = fpnotes.linear_task(N=10, m=5, seed=0)
    quiet = train_task_bptt(task, 0.5, 20, steps=10, h=0.3)
    shown = train_task_bptt(task, 0.5, 20, steps=10, h=0.3, progress=True)
    assert len(notebook_display) == 1
    assert html(notebook_display[0].shown[-1]) == ""
    assert shown.history.loss.tolist() == quiet.history.loss.tolist()


def test_stored_notebook_keeps_only_an_empty_output():
    """Executed like the book: the bar leaves one empty HTML output and no widget state."""
    nbclient = pytest.importorskip("nbclient")
    code = ("import fpnotes\n"
            "task = fpnotes.linear_task(N=30, m=10, seed=0)\n"
            "run = fpnotes.train_task(task, 'dW1', 0.3, 2000, progress=True)\n"
            "print(run.iterations)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data", "stream"]
    assert outputs[0].data["text/html"] == ""
    assert outputs[1].text == "2000\n"
    assert "widgets" not in nb.metadata
