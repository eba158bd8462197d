"""Transient progress bars for long loops (training runs, sweeps).

In a terminal this is tqdm on stderr. In a Jupyter kernel it is a
small HTML bar shown through a display handle that starts empty, is updated while the
loop runs and is emptied again when it closes. Two consequences are wanted:

* a stored notebook keeps no stale bar (nor widget state) after the cell has run;
* tools that ignore display updates, like nbval, record the same (empty) output as
  the stored notebook, so a cell with a progress bar still compares strictly.

A loop that ends in an exception leaves its bar where it stopped, which tells the
reader how far it got.
"""

import sys
from html import escape

from tqdm.std import tqdm as _tqdm

__all__ = ["progress_bar"]


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(total, desc, *, show=True, initial=0, unit="it", leave=False):
    """A progress bar with ``update(n)`` and ``close()``; a no-op one when ``show`` is false.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Label shown left of the bar.
    show : bool
        False returns a bar that does nothing.
    initial : int
        Steps already done (e.g. runs skipped on resume).
    unit : str
        Name of one step.
    leave : bool
        In a terminal, keep the finished bar as a summary line. A notebook bar is
        always removed.
    """
    if not show:
        return _NoBar()
    kwargs = dict(total=total, desc=desc, initial=initial, unit=unit)
    if _in_jupyter_kernel():
        return _NotebookBar(leave=False, **kwargs)
    return _tqdm(file=sys.stderr, leave=leave, **kwargs)


def _in_jupyter_kernel():
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class _NotebookBar(_tqdm):
    """tqdm's counting and rate estimates, drawn as HTML in one display slot."""

    def __init__(self, **kwargs):
        from IPython.display import HTML, display

        self._html = HTML
        self._handle = display(HTML(""), display_id=True)
        super().__init__(gui=True, **kwargs)  # gui: tqdm itself writes nothing

    def display(self, msg=None, pos=None):
        fields = {**self.format_dict, "bar_format": "{l_bar}\0{r_bar}"}
        left, right = self.format_meter(**fields).split("\0")
        self._handle.update(self._html(
            '<div style="font-family: monospace; white-space: pre">'
            f"{escape(left.rstrip('|'))} "
            f'<progress value="{self.n}" max="{self.total}" '
            'style="width: 24em; vertical-align: middle"></progress> '
            f"{escape(right.lstrip('|'))}</div>"))
        return True

    def close(self):
        if self.disable:
            return
        super().close()
        self._handle.update(self._html(""))
