import numpy as np

import fpnotes
from fpnotes.checks import ch7_fixed_point_jacobian, ch7_jacobian_frobenius


def _problem():
    rng = np.random.default_rng(7)
    W = fpnotes.random_weights(30, 0.8, rng)
    x = rng.standard_normal((30, 1))
    r = fpnotes.fixed_point(W, x, "tanh").r
    J = (1 - np.tanh(W @ r + x) ** 2) * W
    return W, x, J


def test_jacobian(capsys):
    W, x, J = _problem()
    assert ch7_fixed_point_jacobian(J, W, x)
    assert "Correct!" in capsys.readouterr().out
    assert not ch7_fixed_point_jacobian(J.T, W, x)
    assert "transposed" in capsys.readouterr().out
    assert not ch7_fixed_point_jacobian(W, W, x)
    assert not ch7_fixed_point_jacobian(J[:3], W, x)
    assert not ch7_fixed_point_jacobian(..., W, x)
    assert "Not yet" in capsys.readouterr().out


def test_frobenius(capsys):
    W, x, J = _problem()
    assert ch7_jacobian_frobenius(np.sum(J ** 2), W, x)
    assert not ch7_jacobian_frobenius(np.linalg.norm(J), W, x)
    assert "square" in capsys.readouterr().out.splitlines()[-1]
    assert not ch7_jacobian_frobenius(..., W, x)
    assert not ch7_jacobian_frobenius("abc", W, x)


def test_own_data_and_a_wrong_network(capsys):
    W, x, J = _problem()
    assert ch7_fixed_point_jacobian(J) and ch7_jacobian_frobenius(np.sum(J ** 2))
    assert not ch7_fixed_point_jacobian(J, 0.5 * W, x)
    assert "W7 is not the one the chapter built" in capsys.readouterr().out
    assert ch7_fixed_point_jacobian(J, W, x.ravel())          # a flat x7 is the same data
