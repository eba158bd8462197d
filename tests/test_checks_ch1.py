import numpy as np

import fpnotes
from fpnotes import checks


def _net(N=30, m=4, rho=0.8, seed=0):
    rng = np.random.default_rng(seed)
    return fpnotes.random_weights(N, rho, rng), rng.standard_normal((N, m))


def test_fixed_point(capsys):
    W, X = _net()
    r = fpnotes.fixed_point(W, X).r
    assert checks.ch1_fixed_point(r, W, X)
    assert not checks.ch1_fixed_point(np.tanh(X), W, X)
    assert not checks.ch1_fixed_point(r[:, :2], W, X)
    assert not checks.ch1_fixed_point(..., W, X)
    out = capsys.readouterr().out
    assert out.count("Not yet") == 3 and "Correct!" in out


def test_critical_rho():
    W0, _ = _net(rho=1.0)
    rc = 1 / np.linalg.eigvals(W0).real.max()
    assert checks.ch1_critical_rho(rc, W0)
    assert checks.ch1_critical_rho(rc / 2, W0, g=2.0)
    assert not checks.ch1_critical_rho(1 / np.abs(np.linalg.eigvals(W0)).max(), W0)
    assert not checks.ch1_critical_rho(..., W0)


def test_max_euler_step():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, 20))
    W = 2.0 * (A - A.T) / np.sqrt(40)
    mu = np.linalg.eigvals(W)
    h = np.min(2 * (1 - mu.real) / np.abs(1 - mu) ** 2)
    assert checks.ch1_max_euler_step(h, W)
    assert not checks.ch1_max_euler_step(1.0, W)
    assert not checks.ch1_max_euler_step(..., W)
