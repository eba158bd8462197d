"""Chapter 2 checks: judged on the exercise's own data, never on what the student built.

The linear-gradient exercise is a function exercise: its check calls the student's function
on the data of a seed (0 in the chapter; 1 and 2 in the autograder's hidden tests).
"""

import numpy as np
import pytest

import fpnotes
from fpnotes import checks


def linear_gradient(W, X, Y):
    eye = np.eye(W.shape[0])
    R = np.linalg.solve(eye - W, X)
    U = np.linalg.solve(eye - W.T, 2 * (R - Y))
    return U @ R.T / X.shape[1]


def last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_linear_gradient_data():
    d = checks.ch2_exercise_data("linear-gradient")
    W, X, Y = d["W2"], d["X2"], d["Y2"]
    # seed 0 is the data the exercise states
    np.testing.assert_array_equal(W, fpnotes.random_weights(30, 0.6, np.random.default_rng(11)))
    np.testing.assert_array_equal(X, np.random.default_rng(12).standard_normal((30, 8)))
    np.testing.assert_array_equal(Y, np.random.default_rng(13).standard_normal((30, 8)))
    assert checks.ch2_linear_gradient.hidden_seeds == (1, 2)
    shapes = [(checks.ch2_exercise_data("linear-gradient", s)["W2"].shape,
               checks.ch2_exercise_data("linear-gradient", s)["Y2"].shape) for s in (0, 1, 2)]
    assert shapes == [((30, 30), (30, 8)), ((35, 35), (35, 10)), ((40, 40), (40, 12))]
    again = checks.ch2_exercise_data("linear-gradient", 1)
    np.testing.assert_array_equal(again["W2"], checks.ch2_exercise_data("linear-gradient", 1)["W2"])
    for s in (1, 2):     # stable networks, so the gradient exists
        W_s = checks.ch2_exercise_data("linear-gradient", s)["W2"]
        assert np.abs(np.linalg.eigvals(W_s)).max() < 0.9
    with pytest.raises(ValueError, match="no seeds"):
        checks.ch2_exercise_data("fd", seed=1)


def test_linear_gradient_judges_the_function_on_every_seed(capsys):
    for seed in (0, 1, 2):
        assert checks.ch2_linear_gradient(linear_gradient, seed=seed)
    assert checks.ch2_linear_gradient(linear_gradient)
    assert last_line(capsys) == "Correct!"


def test_linear_gradient_hard_coded_seed_0_fails_the_hidden_seeds(capsys):
    d = checks.ch2_exercise_data("linear-gradient")
    seed0 = linear_gradient(d["W2"], d["X2"], d["Y2"])

    def hard_coded(W, X, Y):
        return seed0

    assert checks.ch2_linear_gradient(hard_coded)
    for seed in checks.ch2_linear_gradient.hidden_seeds:
        assert not checks.ch2_linear_gradient(hard_coded, seed=seed)
        assert f"seed {seed}" in last_line(capsys)

    def sized_30_by_8(W, X, Y):          # right formula, sizes of the exercise built in
        eye = np.eye(30)
        R = np.linalg.solve(eye - W, X)
        return np.linalg.solve(eye - W.T, 2 * (R - Y)) @ R.T / 8

    assert checks.ch2_linear_gradient(sized_30_by_8)
    assert not checks.ch2_linear_gradient(sized_30_by_8, seed=1)
    assert "raised ValueError" in last_line(capsys)


def test_linear_gradient_says_what_is_wrong(capsys):
    assert not checks.ch2_linear_gradient(lambda W, X, Y: -linear_gradient(W, X, Y))
    assert "wrong sign" in last_line(capsys)
    assert not checks.ch2_linear_gradient(lambda W, X, Y: linear_gradient(W, X, Y).T, seed=1)
    assert "transposed" in last_line(capsys)
    assert not checks.ch2_linear_gradient(lambda W, X, Y: linear_gradient(W, X, Y) / 2)
    assert "scale" in last_line(capsys)
    assert not checks.ch2_linear_gradient(lambda W, X, Y: linear_gradient(W, X, Y) + 0j)
    assert "complex" in last_line(capsys)

    def stub(W, X, Y):
        """The gradient."""
        raise NotImplementedError("Exercise ex-ch2-linear-gradient: write the body")

    assert not checks.ch2_linear_gradient(stub)
    assert last_line(capsys) == "Not yet: stub still raises NotImplementedError: write its body"
    assert not checks.ch2_linear_gradient(...)
    assert "placeholder" in last_line(capsys)
    d = checks.ch2_exercise_data("linear-gradient")
    assert not checks.ch2_linear_gradient(linear_gradient(d["W2"], d["X2"], d["Y2"]))
    assert "should be a function, got ndarray" in last_line(capsys)
    assert not checks.ch2_linear_gradient(lambda W, X: W)
    assert "raised TypeError" in last_line(capsys)


def test_linear_gradient_fails_a_function_that_changes_its_arguments(capsys):
    def in_place(W, X, Y):
        grad = linear_gradient(W, X, Y)
        Y *= 2
        return grad

    assert not checks.ch2_linear_gradient(in_place)
    assert last_line(capsys) == (
        "Not yet: in_place changed its argument Y in place (on the exercise's network: "
        "N = 30, m = 8); work on new arrays (P = np.eye(N) - W is new, W -= ... is not)")

    def minus_equals(W, X, Y):
        W -= np.eye(W.shape[0])        # P = -(W - I), built in W's own memory
        W *= -1
        R = np.linalg.solve(W, X)
        return np.linalg.solve(W.T, 2 * (R - Y)) @ R.T / X.shape[1]

    assert not checks.ch2_linear_gradient(minus_equals, seed=1)
    assert last_line(capsys).startswith(
        "Not yet: minus_equals changed its argument W in place (on the network of seed 1")
    # a function that only reads its arguments passes, with or without copies of its own
    assert checks.ch2_linear_gradient(linear_gradient)


def _parts(W, X, Y):
    eye = np.eye(W.shape[0])
    R = np.linalg.solve(eye - W, X)
    D = 2 * (R - Y)
    return eye, R, D, np.linalg.solve(eye - W.T, D), X.shape[1]


def _w_not_transposed(W, X, Y):
    eye, R, D, U, m = _parts(W, X, Y)
    return np.linalg.solve(eye - W, D) @ R.T / m


def _inputs_not_fixed_points(W, X, Y):
    eye, R, D, U, m = _parts(W, X, Y)
    return U @ X.T / m


def _no_adjoint(W, X, Y):
    eye, R, D, U, m = _parts(W, X, Y)
    return D @ R.T / m


def _gradient_in_A(W, X, Y):
    eye, R, D, U, m = _parts(W, X, Y)
    return D @ X.T / m


@pytest.mark.parametrize("func, words", [
    (_w_not_transposed, "the adjoint equation is (I - W^T) u = delta: transpose W"),
    (_inputs_not_fixed_points, "the outer product is with the fixed points r_i, not the inputs"),
    (_no_adjoint, "the adjoint solve is missing"),
    (_gradient_in_A, "the gradient with respect to A = (I - W)^{-1}; the gradient with "
                     "respect to W is A^T grad_A L A^T")])
@pytest.mark.parametrize("seed", [0, 1])
def test_linear_gradient_diagnoses_the_typical_slips(capsys, func, words, seed):
    assert not checks.ch2_linear_gradient(func, seed=seed)
    out = last_line(capsys)
    assert words in out and ("seed 1" in out) == (seed == 1)


def test_the_diagnosed_formulas_are_what_their_messages_say():
    """D X^T / m is grad_A L of L = (1/m) ||A X - Y||^2, and A^T grad_A L A^T is grad_W L."""
    d = checks.ch2_exercise_data("linear-gradient")
    W, X, Y = d["W2"], d["X2"], d["Y2"]
    A = np.linalg.inv(np.eye(30) - W)
    grad_A = _gradient_in_A(W, X, Y)
    np.testing.assert_allclose(grad_A, 2 * (A @ X - Y) @ X.T / 8, rtol=1e-12)
    np.testing.assert_allclose(A.T @ grad_A @ A.T, linear_gradient(W, X, Y), rtol=1e-10)


def test_linear_gradient_judges_only_the_values():
    """The method (two solves, no inverse, no loop) is graded by reading the code."""
    def with_inverse_and_loop(W, X, Y):
        A = np.linalg.inv(np.eye(W.shape[0]) - W)
        grad = np.zeros_like(W)
        for x, y in zip(X.T, Y.T, strict=True):
            r = A @ x
            grad += np.outer(A.T @ (2 * (r - y)), r)
        return grad / X.shape[1]

    for seed in (0, 1, 2):
        assert checks.ch2_linear_gradient(with_inverse_and_loop, seed=seed)


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
