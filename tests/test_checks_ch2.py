import numpy as np

import fpnotes
from fpnotes import checks


def _task(N=15, m=3, seed=0):
    rng = np.random.default_rng(seed)
    W = fpnotes.random_weights(N, 0.6, rng)
    return W, rng.standard_normal((N, m)), rng.standard_normal((N, m))


def test_linear_gradient():
    W, X, Y = _task()
    eye = np.eye(W.shape[0])
    R = np.linalg.solve(eye - W, X)
    U = np.linalg.solve(eye - W.T, 2 * (R - Y))
    grad = U @ R.T / X.shape[1]
    assert checks.ch2_linear_gradient(grad, W, X, Y)
    assert not checks.ch2_linear_gradient(-grad, W, X, Y)
    assert not checks.ch2_linear_gradient(grad.T, W, X, Y)
    assert not checks.ch2_linear_gradient(grad / 2, W, X, Y)
    assert not checks.ch2_linear_gradient(..., W, X, Y)


def test_weight_derivative():
    W, X, Y = _task(seed=1)

    def J(W):
        r = fpnotes.fixed_point(W, X, "tanh").r
        return fpnotes.squared_error(r, Y).loss

    E = np.zeros_like(W)
    E[2, 5] = 1.0
    eps = 1e-6
    d = (J(W + eps * E) - J(W - eps * E)) / (2 * eps)
    assert checks.ch2_weight_derivative(d, W, X, Y, 2, 5)
    assert not checks.ch2_weight_derivative(d, W, X, Y, 5, 2)
    assert not checks.ch2_weight_derivative(..., W, X, Y, 2, 5)


def test_adjoint():
    W, X, _ = _task(seed=2)
    fp = fpnotes.fixed_point(W, X)
    D = np.ones_like(X)
    U = np.column_stack([np.linalg.solve(np.eye(W.shape[0]) - W.T * fp.gains[:, i], D[:, i])
                         for i in range(X.shape[1])])
    assert checks.ch2_adjoint(U, W, fp.gains, D)
    assert not checks.ch2_adjoint(D, W, fp.gains, D)
    assert not checks.ch2_adjoint("U", W, fp.gains, D)
    assert not checks.ch2_adjoint(..., W, fp.gains, D)
