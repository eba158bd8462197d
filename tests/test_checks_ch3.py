import numpy as np
import pytest

import fpnotes
from fpnotes import checks


def test_one_neuron_minimum():
    assert checks.ch3_one_neuron_minimum(1 / 2 - 1.5 / 3, target=3, g=2, x=1.5)
    assert not checks.ch3_one_neuron_minimum(1 / 2, target=3, g=2, x=1.5)
    assert not checks.ch3_one_neuron_minimum(..., target=3)


def test_one_neuron_gradient():
    w, t, g, x = 0.3, 2.0, 1.5, 0.7
    L = lambda w: (g * x / (1 - g * w) - t) ** 2  # noqa: E731
    d = (L(w + 1e-7) - L(w - 1e-7)) / 2e-7
    assert checks.ch3_one_neuron_gradient(d, w, t, g, x)
    assert not checks.ch3_one_neuron_gradient(-d, w, t, g, x)
    assert not checks.ch3_one_neuron_gradient(..., w, t, g, x)


def test_pole_times(capsys):
    d = checks.ch3_line_data()
    Ws, W1 = d["W_star"], d["W1"]
    np.testing.assert_array_equal(Ws, fpnotes.linear_task().W_true)
    N = Ws.shape[0]
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(N) - Ws))
    t = np.sort(mu.real[np.abs(mu.imag) < 1e-9])
    t = t[np.abs(t) <= 0.8]
    assert t.size >= 1
    assert checks.ch3_pole_times(t[::-1], Ws, W1, (-0.8, 0.8))
    assert checks.ch3_pole_times(t)
    assert not checks.ch3_pole_times(t[1:], Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(t + 0.01, Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(..., Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(t + 0j, Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(t, Ws, 2 * W1, (-0.8, 0.8))
    assert "W1 is not the one the chapter built" in capsys.readouterr().out


def test_max_learning_rate(capsys):
    """Issue 12: L''(w*) = 2 r^4 / x^2, so eta < x^2 / r^4; the gain cancels."""
    g, x, target = 2.0, 1.5, 3.0
    w_star = 1 / g - x / target
    L = lambda w: (g * x / (1 - g * w) - target) ** 2  # noqa: E731
    h = 1e-4
    curvature = (L(w_star + h) - 2 * L(w_star) + L(w_star - h)) / h**2
    assert np.isclose(curvature, 2 * target**4 / x**2, rtol=1e-5)
    curvature = 2 * target**4 / x**2
    assert checks.ch3_max_learning_rate(2 / curvature, target=3, g=2, x=1.5)
    assert not checks.ch3_max_learning_rate(x**2 / (g**2 * target**4), target=3, g=2, x=1.5)
    assert "gain" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch3_max_learning_rate(curvature, target=3, g=2, x=1.5)
    assert "curvature" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch3_max_learning_rate(1 / curvature, target=3, g=2, x=1.5)
    assert "factor of 2" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch3_max_learning_rate(..., target=3, g=2, x=1.5)
    assert not checks.ch3_max_learning_rate(2 / curvature + 0j, target=3, g=2, x=1.5)
    assert "complex" in capsys.readouterr().out.splitlines()[-1]
    # gradient descent at just below / above the bound
    for lr, converges in ((0.9 * 2 / curvature, True), (1.1 * 2 / curvature, False)):
        w = w_star + 1e-3
        for _ in range(200):
            r = g * x / (1 - g * w)
            w -= lr * 2 * (r - target) * r * g / (1 - g * w)
        assert (abs(w - w_star) < 1e-6) == converges


# ---------------------------------------------------------------- the function exercise


def pole_times(W_star, W1, t_range):
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(W_star.shape[0]) - W_star))
    t = np.sort(mu[mu.imag == 0].real)
    return t[(t >= t_range[0]) & (t <= t_range[1])]


def last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_pole_problem_seed_0_is_figure_3_2s_line():
    W_star, W1, t_range = checks.ch3_pole_problem(0)
    d = checks.ch3_line_data()
    np.testing.assert_array_equal(W_star, fpnotes.linear_task().W_true)
    line_rng = np.random.default_rng(np.random.SeedSequence(0).spawn(1)[0])   # as the chapter
    np.testing.assert_array_equal(W1, fpnotes.random_weights(200, 2.5, line_rng))
    np.testing.assert_array_equal(W1, d["W1"])
    assert t_range == (-0.8, 0.8)
    assert checks.ch3_pole_finder.hidden_seeds == (1, 2)
    again = checks.ch3_pole_problem(1)
    np.testing.assert_array_equal(again[1], checks.ch3_pole_problem(1)[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pole_problems_are_unambiguous(seed):
    """Every seed has several poles in range, none near its ends, and no eigenvalue whose
    reality depends on a tolerance, so every reasonable way of finding them agrees."""
    W_star, W1, t_range = checks.ch3_pole_problem(seed)
    N = W_star.shape[0]
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(N) - W_star))
    imag = np.abs(mu.imag)
    assert not np.any((imag > 0) & (imag < 1e-3))
    real = mu[imag == 0].real
    inside = real[(real >= t_range[0]) & (real <= t_range[1])]
    assert inside.size >= 3
    assert np.abs(real[:, None] - np.array(t_range)).min() > 1e-3
    # the poles are where I - W_star - t W1 is singular
    for t in inside:
        assert np.linalg.svd(np.eye(N) - W_star - t * W1, compute_uv=False)[-1] < 1e-9
    if seed:
        assert N != 200 and t_range != (-0.8, 0.8)


def test_pole_finder_judges_the_function_on_every_seed(capsys):
    for seed in (0, 1, 2):
        assert checks.ch3_pole_finder(pole_times, seed=seed)
        assert last_line(capsys) == "Correct!"

    def by_pencil(W_star, W1, t_range):      # the generalized eigenvalue problem, no solve
        import scipy.linalg

        t = scipy.linalg.eigvals(np.eye(W_star.shape[0]) - W_star, W1)
        t = np.sort(t[np.abs(t.imag) < 1e-9].real)
        return list(t[(t >= t_range[0]) & (t <= t_range[1])])

    for seed in (0, 1, 2):
        assert checks.ch3_pole_finder(by_pencil, seed=seed)


def test_pole_finder_hard_coded_seed_0_fails_the_hidden_seeds(capsys):
    seed0 = pole_times(*checks.ch3_pole_problem(0))

    def hard_coded(W_star, W1, t_range):
        return seed0

    assert checks.ch3_pole_finder(hard_coded)
    for seed in checks.ch3_pole_finder.hidden_seeds:
        assert not checks.ch3_pole_finder(hard_coded, seed=seed)
        assert f"seed {seed}" in last_line(capsys)

    def fixed_range(W_star, W1, t_range):     # the exercise's range written in
        return pole_times(W_star, W1, (-0.8, 0.8))

    assert checks.ch3_pole_finder(fixed_range)
    # the question is all-or-nothing over the hidden seeds: failing one loses its point
    assert not all([checks.ch3_pole_finder(fixed_range, seed=seed)
                    for seed in checks.ch3_pole_finder.hidden_seeds])

    def sized_200(W_star, W1, t_range):       # the exercise's size written in
        return pole_times(W_star, W1 + 0 * np.eye(200), t_range)

    assert checks.ch3_pole_finder(sized_200)
    assert not checks.ch3_pole_finder(sized_200, seed=1)
    assert "raised ValueError" in last_line(capsys)


def test_pole_finder_says_what_is_wrong(capsys):
    def wrong_sign(W_star, W1, t_range):
        return pole_times(-W_star + 2 * np.eye(W_star.shape[0]), W1, t_range)  # W1^{-1}(W* - I)

    for seed in (0, 2):
        assert not checks.ch3_pole_finder(wrong_sign, seed=seed)
        assert "wrong sign" in last_line(capsys)
    assert not checks.ch3_pole_finder(lambda *a: -pole_times(*a)[::-1], seed=1)
    assert "wrong sign" in last_line(capsys)

    def reciprocal(W_star, W1, t_range):
        nu = np.linalg.eigvals(np.linalg.solve(np.eye(W_star.shape[0]) - W_star, W1))
        t = np.sort(nu[nu.imag == 0].real)
        return t[(t >= t_range[0]) & (t <= t_range[1])]

    assert not checks.ch3_pole_finder(reciprocal)
    assert "reciprocals" in last_line(capsys)

    def everywhere(W_star, W1, t_range):
        return pole_times(W_star, W1, (-np.inf, np.inf))

    assert not checks.ch3_pole_finder(everywhere)
    assert "t_range[0] <= t <= t_range[1]" in last_line(capsys)

    def with_complex(W_star, W1, t_range):
        mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(W_star.shape[0]) - W_star))
        return np.sort_complex(mu[(mu.real >= t_range[0]) & (mu.real <= t_range[1])])

    assert not checks.ch3_pole_finder(with_complex)
    assert "complex" in last_line(capsys)

    def real_parts_of_all(W_star, W1, t_range):
        t = np.sort(with_complex(W_star, W1, t_range).real)
        return t[(t >= t_range[0]) & (t <= t_range[1])]

    assert not checks.ch3_pole_finder(real_parts_of_all)
    assert "not the right count" in last_line(capsys)
    assert not checks.ch3_pole_finder(lambda *a: pole_times(*a)[::-1])
    assert "increasing order" in last_line(capsys)
    assert not checks.ch3_pole_finder(lambda *a: 2 * pole_times(*a))
    assert "wrong scale" in last_line(capsys)
    assert not checks.ch3_pole_finder(lambda *a: pole_times(*a) + 1e-3)
    assert "differs from the reference" in last_line(capsys)
    assert not checks.ch3_pole_finder(lambda *a: pole_times(*a)[:, None])
    assert "shape" in last_line(capsys)


def test_pole_finder_never_raises_on_a_broken_function(capsys):
    def stub(W_star, W1, t_range):
        """The poles."""
        raise NotImplementedError("Exercise ex-ch3-poles: write the body of pole_times")

    assert not checks.ch3_pole_finder(stub)
    assert last_line(capsys) == ("Not yet: pole_times still raises NotImplementedError: "
                                 "write its body")
    assert not checks.ch3_pole_finder(stub, seed=1)
    assert last_line(capsys).startswith("Not yet: pole_times still raises")
    assert not checks.ch3_pole_finder(...)
    assert "placeholder" in last_line(capsys)

    def crashes(W_star, W1, t_range):
        return np.linalg.solve(W1[:3], W_star)

    assert not checks.ch3_pole_finder(crashes)
    assert last_line(capsys).startswith("Not yet: pole_times raised LinAlgError")
    assert not checks.ch3_pole_finder(lambda W_star, W1: W1)
    assert "raised TypeError" in last_line(capsys)

    def no_return(W_star, W1, t_range):
        pole_times(W_star, W1, t_range)

    assert not checks.ch3_pole_finder(no_return)
    assert "return statement" in last_line(capsys)
    assert not checks.ch3_pole_finder(lambda *a: "abc")
    assert last_line(capsys).startswith("Not yet:")
    assert not checks.ch3_pole_finder(pole_times(*checks.ch3_pole_problem(0)))
    assert "should be a function" in last_line(capsys)


def test_pole_finder_sees_arguments_changed_in_place(capsys):
    def in_place(W_star, W1, t_range):
        W_star *= -1
        W_star += np.eye(W_star.shape[0])
        return pole_times(-W_star + np.eye(W_star.shape[0]), W1, t_range)

    assert not checks.ch3_pole_finder(in_place)
    assert "changed its argument W_star in place" in last_line(capsys)
    # and the next call gets fresh data
    assert checks.ch3_pole_finder(pole_times)
