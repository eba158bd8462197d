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


# ---------------------------------------------------------------- the function exercise


def iterate_fixed_point(W, X, tol, max_iter=1000):
    """Plain iteration from zero; returns the first iterate whose residual is below tol."""
    R = np.zeros_like(X)
    for _ in range(max_iter):
        F = np.tanh(W @ R + X)
        if np.max(np.abs(R - F)) <= tol:
            return R
        R = F
    raise RuntimeError("no convergence")


def last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_iterate_problem():
    W, X, tol = checks.ch1_iterate_problem(0)
    # seed 0 is the network the exercise states
    W0 = fpnotes.random_weights(100, 1.0, np.random.default_rng(8))
    np.testing.assert_array_equal(W, 0.9 * W0 / np.linalg.norm(W0, 2))
    np.testing.assert_array_equal(X, np.random.default_rng(9).standard_normal((100, 6)))
    assert tol == 1e-10
    assert checks.ch1_iterate_fixed_point.hidden_seeds == (1, 2)
    problems = [checks.ch1_iterate_problem(s) for s in (0, 1, 2, 3)]
    # other seeds: other sizes and tighter tolerances; every network a contraction
    assert len({P[1].shape for P in problems}) == len(problems)
    assert all(P[2] < 1e-10 for P in problems[1:])
    assert all(np.linalg.norm(P[0], 2) < 1 for P in problems)
    np.testing.assert_array_equal(checks.ch1_iterate_problem(1)[0], problems[1][0])


def test_iterate_judges_the_function_on_every_seed(capsys):
    def next_iterate(W, X, tol):          # one step further: a smaller residual still
        return np.tanh(W @ iterate_fixed_point(W, X, tol) + X)

    def damped(W, X, tol):
        R = np.zeros_like(X)
        while np.max(np.abs(R - np.tanh(W @ R + X))) > tol:
            R = R + 0.5 * (np.tanh(W @ R + X) - R)
        return R

    def newton(W, X, tol):
        return fpnotes.fixed_point(W, X, "tanh", method="newton", tol=tol).r

    for seed in (0, 1, 2, 3):
        for func in (iterate_fixed_point, next_iterate, damped, newton):
            assert checks.ch1_iterate_fixed_point(func, seed=seed), func.__name__
            assert last_line(capsys) == "Correct!"


def test_iterate_hard_coded_seed_0_fails_the_hidden_seeds(capsys):
    seed0 = iterate_fixed_point(*checks.ch1_iterate_problem(0))

    def hard_coded(W, X, tol):
        return seed0

    assert checks.ch1_iterate_fixed_point(hard_coded)
    for seed in checks.ch1_iterate_fixed_point.hidden_seeds:
        assert not checks.ch1_iterate_fixed_point(hard_coded, seed=seed)
        assert f"seed {seed}" in last_line(capsys)

    def tol_written_in(W, X, tol):        # the exercise's tolerance, not the one given
        return iterate_fixed_point(W, X, 1e-10)

    assert checks.ch1_iterate_fixed_point(tol_written_in)
    for seed in checks.ch1_iterate_fixed_point.hidden_seeds:
        assert not checks.ch1_iterate_fixed_point(tol_written_in, seed=seed)
        out = last_line(capsys)
        assert "nearly" in out and "the tol the function is given" in out
        assert f"seed {seed}" in out


def test_iterate_says_what_is_wrong(capsys):
    cases = [
        (lambda W, X, tol: iterate_fixed_point(W, X, tol).T, "one row per pattern"),
        (lambda W, X, tol: iterate_fixed_point(W, X, tol)[:, 0], "shape (100,)"),
        (lambda W, X, tol: np.tanh(X), "one step of the iteration"),
        (lambda W, X, tol: iterate_fixed_point(W.T, X, tol), "tanh(W^T r + x)"),
        (lambda W, X, tol: np.linalg.solve(np.eye(len(W)) - W, X), "linear network"),
        (lambda W, X, tol: np.zeros_like(X), "the input x is missing"),
        (lambda W, X, tol: iterate_fixed_point(W, X, 1e-3), "not the fixed point yet"),
        (lambda W, X, tol: np.full(X.shape, np.nan), "NaN"),
        (lambda W, X, tol: iterate_fixed_point(W, X, tol) + 0j, "complex"),
        (lambda W, X, tol: "abc", "numeric array"),
        (lambda W, X, tol: None, "returns None"),
    ]
    for func, words in cases:
        assert not checks.ch1_iterate_fixed_point(func)
        out = last_line(capsys)
        assert out.startswith("Not yet: ") and words in out, (words, out)

    def outside(W, X, tol):               # r = tanh(W r) + x
        R = np.zeros_like(X)
        for _ in range(500):
            R = np.tanh(W @ R) + X
        return R

    assert not checks.ch1_iterate_fixed_point(outside)
    assert "the input goes inside the nonlinearity" in last_line(capsys)


def test_iterate_never_raises_on_a_broken_function(capsys):
    def stub(W, X, tol):
        """The fixed points."""
        raise NotImplementedError("Exercise ex-ch1-iterate: write the body")

    assert not checks.ch1_iterate_fixed_point(stub)
    assert last_line(capsys) == ("Not yet: iterate_fixed_point still raises "
                                 "NotImplementedError: write its body")
    for placeholder in (..., None):
        assert not checks.ch1_iterate_fixed_point(placeholder)
        assert "placeholder" in last_line(capsys)
    assert not checks.ch1_iterate_fixed_point(np.zeros((100, 6)))
    assert "should be a function, got ndarray" in last_line(capsys)

    def sized_100(W, X, tol):             # the exercise's N written in: crashes elsewhere
        return iterate_fixed_point(W[:100, :100], X[:100], tol)

    assert checks.ch1_iterate_fixed_point(sized_100)
    assert not checks.ch1_iterate_fixed_point(sized_100, seed=2)
    assert "seed 2" in last_line(capsys)
    assert not checks.ch1_iterate_fixed_point(lambda W, X: W)
    assert "raised TypeError" in last_line(capsys)


def test_iterate_sees_arguments_changed_in_place(capsys):
    def in_place(W, X, tol):
        R = iterate_fixed_point(W, X, tol)
        X[:] = 0
        return R

    assert not checks.ch1_iterate_fixed_point(in_place)
    assert "changed its argument X in place" in last_line(capsys)
    # the check judged copies: the right function still passes afterwards
    assert checks.ch1_iterate_fixed_point(iterate_fixed_point)
