import numpy as np
import pytest

import fpnotes
from fpnotes import checks
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


# ---------------------------------------------------------------- the steepest step (a function)

def steepest_step(W, grad, eps):
    P = np.eye(W.shape[0]) - W
    direction = -P @ P.T @ grad @ P.T @ P
    ADA = np.linalg.solve(P.T, np.linalg.solve(P, direction).T).T
    return eps * direction / np.linalg.norm(ADA)


def _last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_steepest_step_seed_0_is_the_exercise_data():
    from fpnotes.checks.ch5 import _steepest_problem

    task = fpnotes.linear_task(N=6, m=3, seed=4)
    R = fpnotes.fixed_point(task.W0, task.X, task.f).r
    grad = fpnotes.euclidean_gradient(task.W0, task.X, R,
                                      fpnotes.squared_error(R, task.targets).delta, task.f)
    W, g, eps = _steepest_problem(0)
    np.testing.assert_array_equal(W, task.W0)
    np.testing.assert_allclose(g, grad, rtol=1e-12)
    assert eps == 0.05
    # the reference is -eps M^-1(grad) scaled to metric length eps, via fpnotes' own metric
    U = steepest_step(W, g, eps)
    np.testing.assert_allclose(U, -fpnotes.metric_inverse(W, g) * eps / np.sqrt(
        np.vdot(fpnotes.metric_inverse(W, g), g)), rtol=1e-10)
    assert np.isclose(np.sqrt(np.vdot(U, fpnotes.metric(W, U))), eps, rtol=1e-12)
    assert {_steepest_problem(s)[0].shape for s in (1, 2)} != {(6, 6)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_steepest_step_reference_passes(capsys, seed):
    assert checks.ch5_steepest_step(steepest_step, seed=seed)
    assert capsys.readouterr().out == "Correct!\n"
    assert checks.ch5_steepest_step.hidden_seeds == (1, 2)


def test_steepest_step_hard_coded_seed_0_fails_elsewhere(capsys):
    from fpnotes.checks.ch5 import _steepest_problem

    U0 = steepest_step(*_steepest_problem(0))
    assert checks.ch5_steepest_step(lambda W, grad, eps: U0)
    for seed in (1, 2):
        assert not checks.ch5_steepest_step(lambda W, grad, eps: U0, seed=seed)
        assert f"seed {seed}" in _last_line(capsys)


def test_steepest_step_wrong_answers_get_their_diagnosis(capsys):
    assert not checks.ch5_steepest_step(lambda W, g, e: -steepest_step(W, g, e))
    assert "wrong sign" in _last_line(capsys)
    assert not checks.ch5_steepest_step(lambda W, g, e: steepest_step(W, g, e).T)
    assert "transposed" in _last_line(capsys)
    assert not checks.ch5_steepest_step(lambda W, g, e: 3 * steepest_step(W, g, e))
    out = _last_line(capsys)
    assert "wrong scale" in out and "metric length" in out
    # normalized by the Euclidean length instead of the metric one: the scale is off
    assert not checks.ch5_steepest_step(
        lambda W, g, e: e * steepest_step(W, g, 1.0) / np.linalg.norm(steepest_step(W, g, 1.0)))
    assert "wrong scale" in _last_line(capsys)
    assert not checks.ch5_steepest_step(lambda W, g, e: -e * g / np.linalg.norm(g))
    assert "Euclidean length (dW1)" in _last_line(capsys)

    def metric_not_inverse(W, g, e):
        D = -fpnotes.metric(W, g)
        return e * D / np.linalg.norm(D)

    assert not checks.ch5_steepest_step(metric_not_inverse)
    assert "needs its inverse" in _last_line(capsys)


def _stub(W, grad, eps):
    raise NotImplementedError


def _crash(W, grad, eps):
    return np.linalg.solve(W[:2], grad)


@pytest.mark.parametrize("func, words", [(_stub, "NotImplementedError"), (..., "placeholder"),
                                         (_crash, "raised LinAlgError")])
def test_steepest_step_unfinished_or_crashing_says_not_yet(capsys, func, words):
    verdict = checks.ch5_steepest_step(func)
    assert not verdict and isinstance(verdict, checks.Verdict)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and words in out


def test_steepest_step_fails_a_function_that_changes_its_arguments(capsys):
    def scales_grad(W, grad, eps):
        grad *= -1                     # -grad in grad's own memory
        P = np.eye(W.shape[0]) - W
        direction = P @ P.T @ grad @ P.T @ P
        ADA = np.linalg.solve(P.T, np.linalg.solve(P, direction).T).T
        return eps * direction / np.linalg.norm(ADA)

    assert not checks.ch5_steepest_step(scales_grad)
    assert _last_line(capsys) == (
        "Not yet: steepest_step changed its argument grad in place; work on new arrays "
        "(P = np.eye(N) - W is new, W -= ... is not)")

    def p_in_W(W, grad, eps):
        W -= np.eye(W.shape[0])
        W *= -1
        return steepest_step(np.eye(W.shape[0]) - W, grad, eps)

    assert not checks.ch5_steepest_step(p_in_W, seed=1)
    assert _last_line(capsys).startswith(
        "Not yet: steepest_step changed its argument W in place (on the network of seed 1: N = ")


def test_steepest_step_names_the_data_of_a_hidden_seed(capsys):
    from fpnotes.checks.ch5 import _steepest_problem

    for seed in (1, 2):
        W, _, eps = _steepest_problem(seed)
        assert not checks.ch5_steepest_step(lambda W, g, e: -steepest_step(W, g, e), seed=seed)
        assert _last_line(capsys).endswith(
            f"(on the network of seed {seed}: N = {W.shape[0]}, eps = {eps:.3g})")


def _along(left, right):
    """A step of the right metric length along -left(P) grad right(P)."""
    def step(W, grad, eps):
        P = np.eye(W.shape[0]) - W
        D = -left(P) @ grad @ right(P)
        ADA = np.linalg.solve(P.T, np.linalg.solve(P, D).T).T
        return eps * D / np.linalg.norm(ADA)

    return step


def _PPt(P):
    return P @ P.T


def _PtP(P):
    return P.T @ P


@pytest.mark.parametrize("left, right, shown", [(_PtP, _PPt, "-P^T P grad P P^T"),
                                                (_PtP, _PtP, "-P^T P grad P^T P"),
                                                (_PPt, _PPt, "-P P^T grad P P^T")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_steepest_step_sees_transposed_factors(capsys, left, right, shown, seed):
    assert checks.ch5_steepest_step(_along(_PPt, _PtP), seed=seed)     # the right one
    assert not checks.ch5_steepest_step(_along(left, right), seed=seed)
    assert (f"U points along {shown}: check which factors of M^-1(V) = P P^T V P^T P are "
            "transposed") in _last_line(capsys)


def test_steepest_step_judges_only_the_values():
    """The method (products and solves, no inverse) is graded by reading the code."""
    def with_inverses(W, grad, eps):
        A = np.linalg.inv(np.eye(W.shape[0]) - W)
        D = -fpnotes.metric_inverse(W, grad)
        return eps * D / np.linalg.norm(A @ D @ A)

    for seed in (0, 1, 2):
        assert checks.ch5_steepest_step(with_inverses, seed=seed)


def test_the_normalization_needs_no_solve():
    """|M^-1 g|_W^2 = <M^-1 g, g> (the solution's comment): the length from products only."""
    from fpnotes.checks.ch5 import _metric_length, _steepest_problem

    for seed in (0, 1, 2):
        W, g, _ = _steepest_problem(seed)
        Minv_g = fpnotes.metric_inverse(W, g, "linear")
        assert np.isclose(_metric_length(W, Minv_g) ** 2, np.vdot(Minv_g, g), rtol=1e-10)
