import numpy as np
import pytest

import fpnotes
from fpnotes.checks import (
    ch4_dw2_problem,
    ch4_dw2_step,
    ch4_dw3_step,
    ch4_gradient_from_A,
    ch4_one_neuron_dw2,
)


def _data():
    t = fpnotes.linear_task(N=8, m=4, seed=3)
    return t.W0, t.X, t.targets


def test_one_neuron_dw2(capsys):
    w, x, y, lr = -0.5, 1.0, 2.0, 0.1
    a = 1 / (1 - w)
    a_plus = a - lr * 2 * (a * x - y) * x
    w_plus = 1 - 1 / a_plus
    assert ch4_one_neuron_dw2(w_plus, w, x, y, lr)
    assert "Correct!" in capsys.readouterr().out
    assert not ch4_one_neuron_dw2(a_plus, w, x, y, lr)
    assert "new value of a" in capsys.readouterr().out
    assert not ch4_one_neuron_dw2(w_plus - w, w, x, y, lr)
    assert "change of w" in capsys.readouterr().out
    assert not ch4_one_neuron_dw2(..., w, x, y, lr)
    assert "Not yet" in capsys.readouterr().out


def test_gradient_from_A(capsys):
    W, X, Y = _data()
    A = fpnotes.reparameterized_map(W, "linear")
    grad_A = 2 * (A @ X - Y) @ X.T / X.shape[1]
    right = A.T @ grad_A @ A.T
    assert ch4_gradient_from_A(right, W, X, Y)
    R = A @ X
    assert np.allclose(right, fpnotes.euclidean_gradient(W, X, R, 2 * (R - Y), "linear"))
    assert not ch4_gradient_from_A(A @ grad_A @ A, W, X, Y)
    assert "transposed" in capsys.readouterr().out
    assert not ch4_gradient_from_A(-right, W, X, Y)
    assert "sign" in capsys.readouterr().out
    assert not ch4_gradient_from_A(..., W, X, Y)
    assert not ch4_gradient_from_A(right[:3], W, X, Y)


def test_dw3_step(capsys):
    W, X, Y = _data()
    R = fpnotes.reparameterized_map(W, "linear") @ X
    right = fpnotes.step("dW3", W, X, R, 2 * (R - Y), "linear", 0.2)
    assert ch4_dw3_step(right, W, X, Y, 0.2)
    assert not ch4_dw3_step(W + right, W, X, Y, 0.2)
    assert "new W" in capsys.readouterr().out
    assert not ch4_dw3_step(right / 0.2, W, X, Y, 0.2)
    assert "scale" in capsys.readouterr().out
    assert not ch4_dw3_step(..., W, X, Y, 0.2)
    assert not ch4_dw3_step("abc", W, X, Y, 0.2)


# ---------------------------------------------------------------- the function exercise


def dw2_step(W, X, Y, lr):
    eye = np.eye(W.shape[0])
    P = eye - W
    B = 2 * (np.linalg.solve(P, X) - Y) @ X.T / X.shape[1]
    return P - np.linalg.solve(eye - lr * P @ B, P)


def by_inverses(W, X, Y, lr):
    """dW2 as defined, with explicit inverses: right, if not the way the exercise asks."""
    A = np.linalg.inv(np.eye(W.shape[0]) - W)
    A_plus = A - lr * 2 * (A @ X - Y) @ X.T / X.shape[1]
    return np.eye(W.shape[0]) - np.linalg.inv(A_plus) - W


def last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_dw2_problem():
    W, X, Y, lr = ch4_dw2_problem(0)
    t = fpnotes.linear_task(N=8, m=4, seed=3)       # the task of the chapter's exercises
    np.testing.assert_array_equal(W, t.W0)
    np.testing.assert_array_equal(X, t.X)
    np.testing.assert_array_equal(Y, t.targets)
    assert lr == 0.2
    assert ch4_dw2_step.hidden_seeds == (1, 2)
    sizes = [(ch4_dw2_problem(s)[1].shape, ch4_dw2_problem(s)[3]) for s in (1, 2)]
    assert all(shape != (8, 4) and lr != 0.2 for shape, lr in sizes)
    np.testing.assert_array_equal(ch4_dw2_problem(1)[0], ch4_dw2_problem(1)[0])
    for seed in (0, 1, 2):
        W, X, Y, lr = ch4_dw2_problem(seed)
        R = fpnotes.reparameterized_map(W, "linear") @ X
        step2 = fpnotes.step("dW2", W, X, R, 2 * (R - Y), "linear", lr)
        step3 = fpnotes.step("dW3", W, X, R, 2 * (R - Y), "linear", lr)
        # the reference is dW2 as fpnotes implements it, and far enough from dW3 to tell
        np.testing.assert_allclose(dw2_step(W, X, Y, lr), step2, rtol=1e-10, atol=1e-14)
        assert np.linalg.norm(step2 - step3) > 1e-3 * np.linalg.norm(step2)


def test_dw2_step_judges_the_function_on_every_seed(capsys):
    for seed in (0, 1, 2):
        assert ch4_dw2_step(dw2_step, seed=seed)
        assert last_line(capsys) == "Correct!"
        assert ch4_dw2_step(by_inverses, seed=seed)

    def with_fpnotes(W, X, Y, lr):
        R = fpnotes.fixed_point(W, X, "linear").r
        return fpnotes.step("dW2", W, X, R, 2 * (R - Y), "linear", lr)

    assert ch4_dw2_step(with_fpnotes, seed=1)


def test_dw2_step_hard_coded_seed_0_fails_the_hidden_seeds(capsys):
    seed0 = dw2_step(*ch4_dw2_problem(0))

    def hard_coded(W, X, Y, lr):
        return seed0

    assert ch4_dw2_step(hard_coded)
    for seed in ch4_dw2_step.hidden_seeds:
        assert not ch4_dw2_step(hard_coded, seed=seed)
        assert f"seed {seed}" in last_line(capsys)

    def rate_written_in(W, X, Y, lr):
        return dw2_step(W, X, Y, 0.2)

    assert ch4_dw2_step(rate_written_in)
    for seed in ch4_dw2_step.hidden_seeds:
        assert not ch4_dw2_step(rate_written_in, seed=seed)
        assert f"seed {seed}" in last_line(capsys)


def test_dw2_step_says_what_is_wrong(capsys):
    assert not ch4_dw2_step(lambda W, X, Y, lr: -dw2_step(W, X, Y, lr))
    assert "wrong sign" in last_line(capsys)
    assert not ch4_dw2_step(lambda W, X, Y, lr: dw2_step(W, X, Y, lr).T, seed=1)
    assert "transposed" in last_line(capsys)
    assert not ch4_dw2_step(lambda W, X, Y, lr: 2 * dw2_step(W, X, Y, lr))
    assert "wrong scale" in last_line(capsys)
    assert not ch4_dw2_step(lambda W, X, Y, lr: W + dw2_step(W, X, Y, lr))
    assert "new W" in last_line(capsys)
    assert not ch4_dw2_step(lambda W, X, Y, lr: dw2_step(W, X, Y, lr) + 0j)
    assert "complex" in last_line(capsys)
    assert not ch4_dw2_step(lambda W, X, Y, lr: dw2_step(W, X, Y, lr)[:, :3])
    assert "shape" in last_line(capsys)

    def dw3(W, X, Y, lr):
        P = np.eye(W.shape[0]) - W
        B = 2 * (np.linalg.solve(P, X) - Y) @ X.T / X.shape[1]
        return -lr * P @ B @ P

    assert not ch4_dw2_step(dw3, seed=2)
    assert "dW3" in last_line(capsys)

    def gradient_transposed(W, X, Y, lr):
        eye = np.eye(W.shape[0])
        P = eye - W
        B = 2 * X @ (np.linalg.solve(P, X) - Y).T / X.shape[1]
        return P - np.linalg.solve(eye - lr * P @ B, P)

    assert not ch4_dw2_step(gradient_transposed)
    assert "gradient in A is transposed" in last_line(capsys)

    def without_2_over_m(W, X, Y, lr):
        return dw2_step(W, X, Y, lr * X.shape[1] / 2)

    assert not ch4_dw2_step(without_2_over_m, seed=1)
    assert "factor 2 and the 1/m" in last_line(capsys)
    assert not ch4_dw2_step(lambda W, X, Y, lr: dw2_step(W, X, Y, lr) + 1e-4)
    assert "differs from the reference" in last_line(capsys)


def test_dw2_step_never_raises_on_a_broken_function(capsys):
    def stub(W, X, Y, lr):
        """The dW2 change."""
        raise NotImplementedError("Exercise ex-ch4-dw2-function: write the body of dw2_step")

    for seed in (0, 1):
        assert not ch4_dw2_step(stub, seed=seed)
        assert last_line(capsys).startswith(
            "Not yet: dw2_step still raises NotImplementedError: write its body")
    assert not ch4_dw2_step(...)
    assert "placeholder" in last_line(capsys)

    def crashes(W, X, Y, lr):
        return np.linalg.solve(W, X.T)

    assert not ch4_dw2_step(crashes)
    assert last_line(capsys).startswith("Not yet: dw2_step raised ValueError")
    assert not ch4_dw2_step(lambda W, X, Y: W)
    assert "raised TypeError" in last_line(capsys)

    def no_return(W, X, Y, lr):
        dw2_step(W, X, Y, lr)

    assert not ch4_dw2_step(no_return)
    assert "return statement" in last_line(capsys)
    assert not ch4_dw2_step(lambda *a: "abc")
    assert last_line(capsys).startswith("Not yet:")
    assert not ch4_dw2_step(dw2_step(*ch4_dw2_problem(0)))
    assert "should be a function" in last_line(capsys)


def test_dw2_step_sees_arguments_changed_in_place(capsys):
    def in_place(W, X, Y, lr):
        step = dw2_step(W, X, Y, lr)
        W *= -1
        return step

    assert not ch4_dw2_step(in_place)
    assert last_line(capsys) == (
        "Not yet: dw2_step changed its argument W in place; work on new arrays "
        "(P = np.eye(N) - W is new, W -= ... is not)")
    assert ch4_dw2_step(dw2_step)

    def p_in_place(W, X, Y, lr):
        W -= np.eye(W.shape[0])        # P = I - W in W's own memory
        W *= -1
        B = 2 * (np.linalg.solve(W, X) - Y) @ X.T / X.shape[1]
        return W - np.linalg.solve(np.eye(W.shape[0]) - lr * W @ B, W)

    assert not ch4_dw2_step(p_in_place, seed=2)
    assert last_line(capsys).startswith(
        "Not yet: dw2_step changed its argument W in place (on the task of seed 2")


def _parts(W, X, Y, lr):
    eye = np.eye(W.shape[0])
    P = eye - W
    return eye, P, 2 * (np.linalg.solve(P, X) - Y) @ X.T / X.shape[1]


def _inverse_in_the_wrong_order(W, X, Y, lr):
    eye, P, B = _parts(W, X, Y, lr)
    return P - P @ np.linalg.inv(eye - lr * P @ B)


def _change_of_A(W, X, Y, lr):
    eye, P, B = _parts(W, X, Y, lr)
    return -lr * B


def _dw1(W, X, Y, lr):
    eye, P, B = _parts(W, X, Y, lr)
    A = np.linalg.inv(P)
    return -lr * A.T @ B @ A.T


@pytest.mark.parametrize("func, words", [
    (_inverse_in_the_wrong_order, "(A (I - lr P B))^{-1} = (I - lr P B)^{-1} P: the inverse "
                                  "of a product reverses the order"),
    (_change_of_A, "that is the change of A, -lr grad_A L; return the change of W"),
    (_dw1, "that is the Euclidean step dW1")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dw2_step_diagnoses_more_slips(capsys, func, words, seed):
    assert not ch4_dw2_step(func, seed=seed)
    out = last_line(capsys)
    assert words in out and (f"seed {seed}" in out) == (seed != 0)


def test_the_dw1_diagnosis_is_the_gradient_step():
    """-lr A^T B A^T is dW1 as fpnotes implements it (grad_W L of the same loss)."""
    W, X, Y, lr = ch4_dw2_problem(1)
    R = fpnotes.reparameterized_map(W, "linear") @ X
    np.testing.assert_allclose(_dw1(W, X, Y, lr),
                               fpnotes.step("dW1", W, X, R, 2 * (R - Y), "linear", lr),
                               rtol=1e-9, atol=1e-14)
