"""Chapter 2 checks: judged on the exercise's own data, never on what the student built."""

import numpy as np

import fpnotes
from fpnotes import checks


def test_linear_gradient(capsys):
    d = checks.ch2_exercise_data("linear-gradient")
    W, X, Y = d["W2"], d["X2"], d["Y2"]
    np.testing.assert_array_equal(W, fpnotes.random_weights(30, 0.6, np.random.default_rng(11)))
    eye = np.eye(W.shape[0])
    R = np.linalg.solve(eye - W, X)
    U = np.linalg.solve(eye - W.T, 2 * (R - Y))
    grad = U @ R.T / X.shape[1]
    assert checks.ch2_linear_gradient(grad, W, X, Y)
    assert checks.ch2_linear_gradient(grad)
    assert not checks.ch2_linear_gradient(-grad, W, X, Y)
    assert "sign" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch2_linear_gradient(grad.T, W, X, Y)
    assert not checks.ch2_linear_gradient(grad / 2, W, X, Y)
    assert "scale" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch2_linear_gradient(..., W, X, Y)
    assert not checks.ch2_linear_gradient(grad + 0j, W, X, Y)
    assert "complex" in capsys.readouterr().out.splitlines()[-1]
    # the right gradient of the wrong problem (Y with another seed) is not correct
    Y_bad = np.random.default_rng(14).standard_normal((30, 8))
    U_bad = np.linalg.solve(eye - W.T, 2 * (R - Y_bad))
    assert not checks.ch2_linear_gradient(U_bad @ R.T / 8, W, X, Y_bad)
    assert "Y2 is not the one" in capsys.readouterr().out


def test_weight_derivative():
    d = checks.ch2_exercise_data("fd")
    W, X, Y = d["W3"], d["X3"], d["Y3"]

    def J(W):
        r = fpnotes.fixed_point(W, X, "tanh", method="newton", tol=1e-14).r
        return fpnotes.squared_error(r, Y).loss

    E = np.zeros_like(W)
    E[3, 7] = 1.0
    eps = 1e-6
    dd = (J(W + eps * E) - J(W - eps * E)) / (2 * eps)
    assert checks.ch2_weight_derivative(dd, W, X, Y, 3, 7)
    assert checks.ch2_weight_derivative(dd)
    assert not checks.ch2_weight_derivative(dd, W, X, Y, 7, 3)
    assert not checks.ch2_weight_derivative(..., W, X, Y, 3, 7)
    assert not checks.ch2_weight_derivative(dd, 2 * W, X, Y, 3, 7)


def test_adjoint():
    d = checks.ch2_exercise_data("rbp")
    W, G, D = d["W"], d["G"], d["delta"]
    U = np.column_stack([np.linalg.solve(np.eye(W.shape[0]) - W.T * G[:, i], D[:, i])
                         for i in range(D.shape[1])])
    assert checks.ch2_adjoint(U, W, G, D)
    assert checks.ch2_adjoint(U)
    assert not checks.ch2_adjoint(D, W, G, D)
    assert not checks.ch2_adjoint("U", W, G, D)
    assert not checks.ch2_adjoint(..., W, G, D)
    assert not checks.ch2_adjoint(U, W, np.ones_like(G), D)
