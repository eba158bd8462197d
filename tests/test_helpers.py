import matplotlib
import numpy as np
import pytest

from fpnotes._krylov import batched_gmres
from fpnotes.checks import compare_array, compare_scalar, report

matplotlib.use("Agg")


def test_batched_gmres_solves_a_different_system_per_column():
    rng = np.random.default_rng(0)
    N, m = 40, 5
    mats = np.eye(N) + 0.3 * rng.standard_normal((m, N, N)) / np.sqrt(N)
    B = rng.standard_normal((N, m))

    def matvec(V, cols):
        return np.einsum("jnk,kj->nj", mats[cols], V)

    X, res, nmv = batched_gmres(matvec, B, tol=1e-12, restart=10)
    expected = np.linalg.solve(mats, B.T[..., None])[..., 0].T
    np.testing.assert_allclose(X, expected, atol=1e-10)
    assert np.all(res <= 1e-12) and nmv > 10  # needed restarts: 10 < N


def test_compare_array_messages():
    e = np.arange(6.0).reshape(2, 3) + 1
    assert compare_array(e, e) == (True, "")
    assert "shape" in compare_array(np.ones(3), e)[1]
    assert "sign" in compare_array(-e, e)[1]
    assert "0.5 times the reference" in compare_array(e / 2, e)[1]
    assert "placeholder" in compare_array(..., e)[1]
    assert "numeric array" in compare_array("abc", e)[1]
    assert "complex" in compare_array(e + 0j, e)[1]
    assert "NaN" in compare_array(e * np.nan, e)[1]
    sq = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transposed" in compare_array(sq.T, sq)[1]


def test_compare_scalar_and_report(capsys):
    assert compare_scalar(2.0, 2.0)[0]
    assert "sign" in compare_scalar(-2.0, 2.0)[1]
    assert "too large" in compare_scalar(3.0, 2.0)[1]
    assert "placeholder" in compare_scalar(..., 2.0)[1]
    assert "number" in compare_scalar("abc", 2.0)[1]
    assert "complex" in compare_scalar(2 + 0j, 2.0)[1]
    verdict = report(False, "shape is wrong")
    assert not verdict and verdict == False  # noqa: E712 (a Verdict compares like a bool)
    assert "Not yet: shape is wrong" in capsys.readouterr().out
    assert report(True, "") and repr(report(True, "")) == "True"


def test_interactive_wrapper_calls_the_plain_function():
    ipywidgets = pytest.importorskip("ipywidgets")
    import matplotlib.pyplot as plt

    from fpnotes.plotting import interactive, lr_colors, new_figure

    calls = []

    def plot(a=1.0):
        calls.append(a)
        fig, ax = new_figure()
        ax.plot([0, 1], [0, a])
        return fig

    w = interactive(plot, a=ipywidgets.FloatSlider(value=0.5, min=0, max=1))
    w.children[0].value = 0.75
    assert calls[-1] == 0.75
    assert len(lr_colors([0.1, 1, 3])) == 3
    plt.close("all")


def test_verdicts_combine_like_bools(capsys):
    ok = True
    ok &= report(True, "")
    assert ok and isinstance(ok, type(report(True, "")))
    ok &= report(False, "no")
    assert not ok
    assert (report(False, "") | True) and not (False | report(False, ""))
