import numpy as np

import fpnotes
from fpnotes import checks
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


# ---------------------------------------------------------------- the function exercise


def input_jacobian(W, x):
    r = fpnotes.fixed_point(W, x, "tanh").r
    g = 1 - np.tanh(W @ r + x) ** 2
    return np.linalg.solve(np.eye(W.shape[0]) - g * W, np.diag(g[:, 0]))


def _parts(W, x):
    """(G, I - G W) at the fixed point, for building wrong answers."""
    r = fpnotes.fixed_point(W, x, "tanh", tol=1e-13).r
    g = 1 - np.tanh(W @ r + x) ** 2
    return np.diag(g[:, 0]), np.eye(W.shape[0]) - g * W


def last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_input_jacobian_problem():
    W, x = checks.ch7_input_jacobian_problem(0)
    d = checks.ch7_exercise_data()               # seed 0: the chapter's W7, x7
    np.testing.assert_array_equal(W, d["W7"])
    np.testing.assert_array_equal(x, d["x7"])
    assert checks.ch7_input_jacobian.hidden_seeds == (1, 2)
    sizes = {checks.ch7_input_jacobian_problem(s)[0].shape[0] for s in (1, 2, 3)}
    assert 30 not in sizes and len(sizes) == 3
    for s in (1, 2):
        W_s, x_s = checks.ch7_input_jacobian_problem(s)
        assert x_s.shape == (W_s.shape[0], 1)
        np.testing.assert_array_equal(W_s, checks.ch7_input_jacobian_problem(s)[0])


def test_input_jacobian_judges_the_function_on_every_seed(capsys):
    def by_finite_differences(W, x, eps=1e-6):
        cols = []
        for j in range(W.shape[0]):
            e = np.zeros_like(x)
            e[j] = eps
            up = fpnotes.fixed_point(W, x + e, "tanh", tol=1e-13).r
            down = fpnotes.fixed_point(W, x - e, "tanh", tol=1e-13).r
            cols.append((up - down)[:, 0] / (2 * eps))
        return np.column_stack(cols)

    for seed in (0, 1, 2, 3):
        assert checks.ch7_input_jacobian(input_jacobian, seed=seed)
        assert last_line(capsys) == "Correct!"
    assert checks.ch7_input_jacobian(by_finite_differences, seed=2)


def test_input_jacobian_hard_coded_seed_0_fails_the_hidden_seeds(capsys):
    seed0 = input_jacobian(*checks.ch7_input_jacobian_problem(0))

    def hard_coded(W, x):
        return seed0

    assert checks.ch7_input_jacobian(hard_coded)
    for seed in checks.ch7_input_jacobian.hidden_seeds:
        assert not checks.ch7_input_jacobian(hard_coded, seed=seed)
        assert f"seed {seed}" in last_line(capsys)

    def sized_30(W, x):
        G, P = _parts(W, x)
        return np.linalg.solve(np.eye(30) - G @ W, G)

    assert checks.ch7_input_jacobian(sized_30)
    assert not checks.ch7_input_jacobian(sized_30, seed=1)
    assert "raised ValueError" in last_line(capsys)


def test_input_jacobian_says_what_is_wrong(capsys):
    def inv(M):
        return np.linalg.inv(M)

    cases = [
        (lambda W, x: -input_jacobian(W, x), "wrong sign"),
        (lambda W, x: input_jacobian(W, x).T, "transposed"),
        (lambda W, x: 2 * input_jacobian(W, x), "scale"),
        (lambda W, x: input_jacobian(W, x)[:, 0], "is a matrix"),
        (lambda W, x: _parts(W, x)[0] @ W, "Jacobian of the map"),
        (lambda W, x: _parts(W, x)[0], "direct effect"),
        (lambda W, x: inv(_parts(W, x)[1]), "gains G of the direct path are missing"),
        (lambda W, x: _parts(W, x)[0] @ inv(_parts(W, x)[1]), "wrong order"),
        (lambda W, x: inv(np.eye(len(W)) - W @ _parts(W, x)[0]) @ _parts(W, x)[0],
         "wrong order"),
        (lambda W, x: inv(np.eye(len(W)) - W), "linear network"),
        (lambda W, x: np.linalg.solve(np.eye(len(W)) + _parts(W, x)[0] @ W, _parts(W, x)[0]),
         "sign of the loop"),
        (lambda W, x: input_jacobian(W, x) + 0j, "complex"),
        (lambda W, x: None, "returns None"),
        (lambda W, x: np.full(W.shape, np.inf), "NaN or inf"),
    ]
    for func, words in cases:
        assert not checks.ch7_input_jacobian(func, seed=1)
        out = last_line(capsys)
        assert out.startswith("Not yet: ") and words in out and "seed 1" in out, (words, out)

    def loose(W, x):                       # the right formula at a rough fixed point
        r = fpnotes.fixed_point(W, x, "tanh", tol=1e-4).r
        g = 1 - np.tanh(W @ r + x) ** 2
        return np.linalg.solve(np.eye(len(W)) - g * W, np.diag(g[:, 0]))

    assert not checks.ch7_input_jacobian(loose)
    assert "loose tolerance" in last_line(capsys)


def test_input_jacobian_never_raises_on_a_broken_function(capsys):
    def stub(W, x):
        """dr*/dx."""
        raise NotImplementedError("Exercise ex-ch7-input-jacobian: write the body")

    assert not checks.ch7_input_jacobian(stub)
    assert last_line(capsys) == ("Not yet: input_jacobian still raises NotImplementedError: "
                                 "write its body")
    assert not checks.ch7_input_jacobian(...)
    assert "placeholder" in last_line(capsys)
    assert not checks.ch7_input_jacobian(np.eye(30))
    assert "should be a function, got ndarray" in last_line(capsys)
    assert not checks.ch7_input_jacobian(lambda W: W)
    assert "raised TypeError" in last_line(capsys)


def test_input_jacobian_sees_arguments_changed_in_place(capsys):
    def in_place(W, x):
        J = input_jacobian(W, x)
        W *= 0
        return J

    assert not checks.ch7_input_jacobian(in_place)
    assert "changed its argument W in place" in last_line(capsys)
    assert checks.ch7_input_jacobian(input_jacobian)
