import numpy as np

import fpnotes
from fpnotes.checks import ch5_metric_inverse, ch5_metric_length, ch5_slice_metric


def _W():
    return fpnotes.linear_task(N=6, m=3, seed=4).W0


def test_metric_length(capsys):
    W = _W()
    U = np.random.default_rng(0).standard_normal((6, 6))
    length = float(np.sqrt(np.vdot(U, fpnotes.metric(W, U, "linear"))))
    assert ch5_metric_length(length, W, U)
    assert not ch5_metric_length(length**2, W, U)
    assert "squared" in capsys.readouterr().out
    assert not ch5_metric_length(np.linalg.norm(U), W, U)
    assert not ch5_metric_length(..., W, U)
    assert "Not yet" in capsys.readouterr().out


def test_metric_inverse(capsys):
    W = _W()
    V = np.random.default_rng(1).standard_normal((6, 6))
    right = fpnotes.metric_inverse(W, V, "linear")
    assert ch5_metric_inverse(right, W, V)
    assert not ch5_metric_inverse(fpnotes.metric(W, V, "linear"), W, V)
    assert "metric itself" in capsys.readouterr().out
    assert not ch5_metric_inverse(V, W, V)
    assert not ch5_metric_inverse(..., W, V)


def test_slice_metric():
    from fpnotes.plotting import slice_metric

    W = np.array([[0.2, 0.5], [0.5, -0.3]])
    E1, E2 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    g = slice_metric(W, E1, E2)
    assert ch5_slice_metric(g, W, E1, E2)
    assert not ch5_slice_metric(np.eye(2), W, E1, E2)
    assert not ch5_slice_metric(g[0], W, E1, E2)
    assert not ch5_slice_metric(..., W, E1, E2)
