"""The preface's check: it judges the student's function on networks it builds from a seed."""

import numpy as np
import pytest

import fpnotes
from fpnotes import checks
from fpnotes.checks.ch0 import _problem


def linear_fixed_point(W, X):
    return np.linalg.solve(np.eye(W.shape[0]) - W, X)


def _last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_seed_0_is_the_preface_network():
    rng = np.random.default_rng(0)
    W = fpnotes.random_weights(100, 0.5, rng)
    X = rng.standard_normal((100, 3))
    W0, X0 = _problem(0)
    np.testing.assert_array_equal(W0, W)
    np.testing.assert_array_equal(X0, X)
    # the other seeds are other networks, of other sizes
    assert len({_problem(s)[1].shape for s in (0, 1, 2)}) == 3


def test_picked_up_by_the_package():
    assert "ch0_linear_fixed_point" in checks.__all__
    assert checks.ch0_linear_fixed_point.hidden_seeds == (1, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_solution_passes(capsys, seed):
    assert checks.ch0_linear_fixed_point(linear_fixed_point, seed=seed)
    assert capsys.readouterr().out == "Correct!\n"


def test_seed_0_answer_hard_coded_fails_on_other_seeds(capsys):
    R0 = linear_fixed_point(*_problem(0))
    assert checks.ch0_linear_fixed_point(lambda W, X: R0)
    for seed in (1, 2):
        assert not checks.ch0_linear_fixed_point(lambda W, X: R0, seed=seed)
        assert f"seed {seed}" in _last_line(capsys)
    # sizes written into the function fail too
    assert not checks.ch0_linear_fixed_point(
        lambda W, X: np.linalg.solve(np.eye(100) - W, X), seed=1)
    assert "Not yet" in _last_line(capsys)


def test_wrong_answers_get_their_diagnosis(capsys):
    assert not checks.ch0_linear_fixed_point(lambda W, X: -linear_fixed_point(W, X))
    assert "wrong sign" in _last_line(capsys)
    assert not checks.ch0_linear_fixed_point(lambda W, X: 2 * linear_fixed_point(W, X))
    assert "wrong scale" in _last_line(capsys)
    assert not checks.ch0_linear_fixed_point(lambda W, X: linear_fixed_point(W, X).T)
    out = _last_line(capsys)
    assert "shape (3, 100)" in out and "one column per input pattern" in out
    assert not checks.ch0_linear_fixed_point(lambda W, X: linear_fixed_point(W.T, X))
    assert "W^T" in _last_line(capsys)
    assert not checks.ch0_linear_fixed_point(lambda W, X: X)
    assert "the input X itself" in _last_line(capsys)
    assert not checks.ch0_linear_fixed_point(lambda W, X: X + W @ X)   # one step only
    assert "residual" in _last_line(capsys)
    assert not checks.ch0_linear_fixed_point(lambda W, X: linear_fixed_point(W, X) + 0j)
    assert "complex" in _last_line(capsys)


def test_changing_the_arguments_in_place_is_reported(capsys):
    def in_place(W, X):
        W *= -1
        W += np.eye(W.shape[0])
        return np.linalg.solve(W, X)

    assert not checks.ch0_linear_fixed_point(in_place)
    assert _last_line(capsys) == (
        "Not yet: linear_fixed_point changed its argument W in place; work on new arrays "
        "(P = np.eye(N) - W is new, W -= ... is not)")

    def scales_X(W, X):
        X *= 1.0                       # the same values: not a change
        R = linear_fixed_point(W, X)
        X[0, 0] += 1.0
        return R

    assert not checks.ch0_linear_fixed_point(scales_X, seed=2)
    assert _last_line(capsys).startswith(
        "Not yet: linear_fixed_point changed its argument X in place (on the network of "
        "seed 2); work on new arrays")


def _iterate(W, X, tol):
    """The fixed points by plain iteration r <- W r + x, to a residual tol |X|."""
    R = X.copy()
    while np.linalg.norm(R - W @ R - X) > tol * np.linalg.norm(X):
        R = W @ R + X
    return R


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_solution_to_round_off_passes(capsys, seed):
    """The docstring's promise: element-wise equal to solve's, or a residual <= 1e-9 |X|."""
    W, X = _problem(seed)
    assert checks.ch0_linear_fixed_point(lambda W, X: _iterate(W, X, 3e-11), seed=seed)
    assert _last_line(capsys) == "Correct!"
    # an error of 3e-11 |X| in the residual, all of it in the smallest entry of R: not within
    # rtol 1e-8 of solve's R there, but a solution to round-off, and that is what is checked
    exact = linear_fixed_point(W, X)
    k = np.unravel_index(np.argmin(np.abs(exact)), exact.shape)
    E = np.zeros_like(exact)
    E[k] = 3e-11 * np.linalg.norm(X) / np.linalg.norm((np.eye(W.shape[0]) - W)[:, k[0]])
    near = exact + E
    assert not np.allclose(near, exact, rtol=1e-8, atol=1e-12)
    assert np.isclose(np.linalg.norm(near - W @ near - X) / np.linalg.norm(X), 3e-11,
                      rtol=1e-2)
    assert checks.ch0_linear_fixed_point(lambda W, X: near, seed=seed)
    assert _last_line(capsys) == "Correct!"
    # the method is graded by reading the code: an explicit inverse passes the check
    assert checks.ch0_linear_fixed_point(
        lambda W, X: np.linalg.inv(np.eye(W.shape[0]) - W) @ X, seed=seed)
    # a residual well above round-off does not pass, and the message says so
    assert not checks.ch0_linear_fixed_point(lambda W, X: _iterate(W, X, 1e-7), seed=seed)
    out = _last_line(capsys)
    assert "the residual |R - W R - X| / |X| is" in out and "accepts up to 1e-09" in out


def test_the_docstring_states_the_tolerances():
    doc = " ".join(checks.ch0_linear_fixed_point.__doc__.split())
    assert "rtol = 1e-8" in doc and "|R - W R - X|_F <= 1e-9 |X|_F" in doc
    from fpnotes.checks.ch0 import RESIDUAL_TOL

    assert RESIDUAL_TOL == 1e-9


def _stub(W, X):
    raise NotImplementedError


def _crash(W, X):
    return W @ X @ W


@pytest.mark.parametrize("func, words", [(_stub, "NotImplementedError"), (..., "placeholder"),
                                         (_crash, "raised ValueError"), (None, "placeholder"),
                                         (3.0, "should be a function")])
def test_unfinished_or_crashing_functions_say_not_yet(capsys, func, words):
    verdict = checks.ch0_linear_fixed_point(func)
    assert not verdict and isinstance(verdict, checks.Verdict)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and words in out
