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
    assert "in place" in _last_line(capsys)


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
