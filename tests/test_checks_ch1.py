"""Chapter 1 checks: judged on the exercise's own data, never on what the student built."""

import numpy as np

import fpnotes
from fpnotes import checks


def _exercise():
    W = fpnotes.random_weights(100, 1.2, np.random.default_rng(5))
    X = np.random.default_rng(6).standard_normal((100, 4))
    return W, X


def test_exercise_data_is_what_the_exercise_states():
    W, X = _exercise()
    d = checks.ch1_exercise_data("fixed-point")
    np.testing.assert_array_equal(d["W_ex"], W)
    np.testing.assert_array_equal(d["X_ex"], X)


def test_fixed_point(capsys):
    W, X = _exercise()
    r = fpnotes.fixed_point(W, X, "tanh", method="newton").r
    assert checks.ch1_fixed_point(r, W, X)
    assert checks.ch1_fixed_point(r)                       # the check's own data
    assert not checks.ch1_fixed_point(np.tanh(X), W, X)
    assert not checks.ch1_fixed_point(r[:, :2], W, X)
    assert not checks.ch1_fixed_point(..., W, X)
    out = capsys.readouterr().out
    assert out.count("Not yet") == 3 and out.count("Correct!") == 2
    assert "shape" in out


def test_fixed_point_of_a_wrongly_built_network_is_not_correct(capsys):
    """Issue 12: the fixed point of the wrong W (scale 1.0, not 1.2) must not pass."""
    W_wrong = fpnotes.random_weights(100, 1.0, np.random.default_rng(5))
    X = np.random.default_rng(6).standard_normal((100, 4))
    r_wrong = fpnotes.fixed_point(W_wrong, X, "tanh", method="newton").r
    assert not checks.ch1_fixed_point(r_wrong, W_wrong, X)
    assert "W_ex is not the one the exercise asks for" in capsys.readouterr().out
    assert not checks.ch1_fixed_point(r_wrong)            # nor against the check's own W
    assert not checks.ch1_fixed_point(r_wrong, ..., X)    # a placeholder W: "Not yet"
    assert "placeholder" in capsys.readouterr().out


def test_critical_rho(capsys):
    W0 = fpnotes.random_weights(200, 1.0, np.random.default_rng(7))
    rc = 1 / np.linalg.eigvals(W0).real.max()
    assert checks.ch1_critical_rho(rc, W0)
    assert checks.ch1_critical_rho(rc)
    assert not checks.ch1_critical_rho(1 / np.abs(np.linalg.eigvals(W0)).max(), W0)
    assert "spectral radius" in capsys.readouterr().out
    assert not checks.ch1_critical_rho(..., W0)
    W_other = fpnotes.random_weights(200, 1.0, np.random.default_rng(8))
    assert not checks.ch1_critical_rho(1 / np.linalg.eigvals(W_other).real.max(), W_other)
    assert not checks.ch1_critical_rho(complex(rc, 0.1), W0)
    assert "complex" in capsys.readouterr().out.splitlines()[-1]


def test_max_euler_step():
    W = checks.ch1_exercise_data("euler-step")["W_rot"]
    mu = np.linalg.eigvals(W)
    h = np.min(2 * (1 - mu.real) / np.abs(1 - mu) ** 2)
    assert checks.ch1_max_euler_step(h, W)
    assert checks.ch1_max_euler_step(h)
    assert not checks.ch1_max_euler_step(1.0, W)
    assert not checks.ch1_max_euler_step(..., W)
    assert not checks.ch1_max_euler_step(h, W.T.copy() * 0.9)
