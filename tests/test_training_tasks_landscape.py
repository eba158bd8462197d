import numpy as np
import pytest

import fpnotes as fp


def test_linear_task_matches_paper_setup():
    t = fp.linear_task(seed=0)
    assert t.X.shape == (200, 100) and t.W0.shape == (200, 200)
    assert np.std(t.X) == pytest.approx(0.1, rel=0.05)
    assert np.std(t.W_true) * np.sqrt(200) == pytest.approx(0.5, rel=0.05)
    assert np.std(t.W0) * np.sqrt(200) == pytest.approx(0.75, rel=0.05)
    noise = t.targets - np.linalg.solve(np.eye(200) - t.W_true, t.X)
    assert np.std(noise) == pytest.approx(0.01, rel=0.05)
    again = fp.linear_task(seed=0)
    np.testing.assert_array_equal(t.targets, again.targets)
    assert not np.array_equal(fp.linear_task(seed=1).X, t.X)


def test_training_reduces_loss_and_records_history():
    t = fp.linear_task(N=30, m=15, seed=0)
    out = fp.train_task(t, "dW3", 1.0, 200, compare="dW2", eig_every=50)
    h = out.history
    assert not out.diverged and out.iterations == 200
    assert h.loss.shape == (200,) and h.angle.shape == (200,)
    assert h.loss[-1] < 1e-2 * h.loss[0] and np.all(np.diff(h.loss) < 0)
    assert h.angle[-1] < h.angle[0] < 10  # dW2 and dW3 agree to first order
    assert out.eig.iteration.tolist() == [0, 50, 100, 150, 200]
    assert out.eig.max_real[-1] == pytest.approx(fp.max_real_eig(out.W))


def test_dW2_and_dW3_beat_dW1_on_linear_task():
    t = fp.linear_task(N=60, m=30, seed=0)
    final = {r: fp.train_task(t, r, 1.0, 800).history.loss[-1] for r in ("dW1", "dW2", "dW3")}
    assert final["dW2"] < 1e-2 * final["dW1"] and final["dW3"] < 1e-2 * final["dW1"]
    assert final["dW3"] == pytest.approx(final["dW2"], rel=0.1)


def test_training_stops_cleanly_on_divergence():
    t = fp.digits_task(N=40, seed=0)
    W0 = t.W0 * 6  # strongly recurrent: the tanh fixed point is lost at once
    out = fp.train(W0, t.X[:, :64], t.targets[:64], rule="dW1", lr=5.0, n_iter=200,
                   f="tanh", loss="softmax_cross_entropy", readout=t.readout,
                   solver={"method": "iterate", "max_iter": 50})
    assert out.diverged and out.iterations < 200
    assert "diverged at iteration" in out.message and "fixed point" in out.message
    assert np.all(np.isfinite(out.W)) and out.history.loss.size == out.iterations


def test_minibatches_cover_the_data_and_evaluate_test_set():
    t = fp.digits_task(N=30, seed=1)
    out = fp.train_task(t, "dW3", 0.05, 12, batch_size=100, eval_every=5)
    assert out.history.accuracy.shape == (12,)
    assert out.test.iteration.tolist() == [0, 5, 10, 12]
    assert np.all((out.test.accuracy >= 0) & (out.test.accuracy <= 1))


def test_train_rejects_bad_arguments():
    t = fp.linear_task(N=5, m=3)
    with pytest.raises(ValueError, match="unknown rule"):
        fp.train_task(t, "dW7", 0.1, 3)
    with pytest.raises(ValueError, match="batch_size"):
        fp.train_task(t, "dW1", 0.1, 3, batch_size=0)
    with pytest.raises(ValueError, match="linear networks only"):
        fp.train(t.W0, t.X, t.targets, rule="dW2", lr=0.1, n_iter=3, f="tanh")


def test_digits_task_shapes():
    t = fp.digits_task(N=50, seed=0)
    assert t.X.shape[0] == 50 and t.X.shape[1] == t.targets.size
    assert t.X_test.shape[1] == t.targets_test.size
    assert t.targets.size + t.targets_test.size == 1797
    assert t.readout.shape == (10, 50) and set(np.unique(t.targets)) == set(range(10))


def test_loss_along_line_has_poles_outside_stable_region_and_parabola_in_A():
    t = fp.linear_task(N=30, m=15, seed=0)
    rng = np.random.default_rng(0)
    W1 = 2.5 * rng.standard_normal((30, 30)) / np.sqrt(30)
    ts = np.linspace(-1.5, 1.5, 301)
    line = fp.loss_along_line(t.W_true, W1, ts, t.X, t.targets)
    assert line.loss.shape == ts.shape and line.stable[150]
    np.testing.assert_allclose(line.loss[150], fp.linear_loss(t.W_true, t.X, t.targets))
    assert np.all(line.stable == (line.max_real < 1))
    # the stable stretch around t = 0: smooth in its inner half (it can still blow up at
    # its ends, where a real eigenvalue of W crosses 1), with poles beyond it
    lo = 150 - np.argmin(line.stable[150::-1])
    hi = 150 + np.argmin(line.stable[150:])
    inner = slice(lo + (hi - lo) // 4, hi - (hi - lo) // 4)
    assert hi - lo > 20
    assert line.loss[inner].max() < 1.0  # O(1), like the loss at W0
    assert line.loss[~line.stable].max() > 1e3
    A0 = fp.reparameterized_map(t.W_true)
    A1 = fp.reparameterized_map(t.W_true + W1) - A0
    par = fp.loss_along_line_in_A(A0, A1, ts, t.X, t.targets)
    c2, c1, c0 = par.coefficients
    np.testing.assert_allclose(par.loss, c2 * ts**2 + c1 * ts + c0, rtol=1e-10)
    np.testing.assert_allclose(np.polyfit(ts, par.loss, 2), par.coefficients, rtol=1e-8)


def test_loss_on_plane_rows_index_second_axis():
    t = fp.linear_task(N=10, m=5, seed=0)
    rng = np.random.default_rng(1)
    W1, W2 = rng.standard_normal((2, 10, 10)) / np.sqrt(10)
    plane = fp.loss_on_plane(t.W_true, W1, W2, [0.0, 0.1, 0.2], [0.0, 0.3], t.X, t.targets)
    assert plane.loss.shape == (2, 3)
    assert plane.loss[1, 2] == pytest.approx(
        fp.linear_loss(t.W_true + 0.2 * W1 + 0.3 * W2, t.X, t.targets))


def test_stability_flags():
    rng = np.random.default_rng(0)
    N = 40
    W = 0.5 * rng.standard_normal((N, N)) / np.sqrt(N)
    X = rng.standard_normal((N, 3))
    r = fp.fixed_point(W, X).r
    st = fp.stability(W, r, X)
    assert st.eigenvalues.shape == (3, N)
    assert np.all(st.discrete_stable) and np.all(st.continuous_stable)
    assert np.all(st.max_real < 0)
    G = 1 - np.tanh(W @ r + X) ** 2
    lam = np.linalg.eigvals(np.diag(G[:, 1]) @ W) - 1
    np.testing.assert_allclose(np.sort_complex(st.eigenvalues[1]), np.sort_complex(lam),
                               atol=1e-10)
    assert fp.spectral_radius(W) == pytest.approx(np.abs(np.linalg.eigvals(W)).max())


def test_unstable_patterns_agrees_with_stability_across_chunks():
    rng = np.random.default_rng(1)
    N, m = 12, 9
    W = 2.0 * rng.standard_normal((N, N)) / np.sqrt(N)
    G = rng.uniform(0.0, 1.0, (N, m))
    G[:, :3] *= 0.05  # small gains: G_i W well inside the stable region
    lam = fp.jacobian_eigenvalues(W, G)
    expected = np.flatnonzero(lam.real.max(axis=1) >= 0)
    assert 0 < expected.size < m and not set(expected) & {0, 1, 2}
    for chunk in (1, 4, 64):
        np.testing.assert_array_equal(fp.unstable_patterns(W, G, chunk=chunk), expected)
    with pytest.raises(ValueError, match="at least one pattern"):
        fp.unstable_patterns(W, G[:, :0])
    assert fp.max_real_eig(np.diag([0.3, 1.2])) == pytest.approx(1.2)


def test_circular_law_radius():
    rng = np.random.default_rng(0)
    W = fp.random_weights(400, 0.7, rng)
    assert fp.spectral_radius(W) == pytest.approx(0.7, rel=0.08)


def test_loss_along_line_through_an_exact_pole_is_infinite_there():
    X, Y = np.eye(2), np.zeros((2, 2))
    line = fp.loss_along_line(np.zeros((2, 2)), np.eye(2), [0.0, 0.5, 1.0], X, Y)
    assert np.isfinite(line.loss[:2]).all() and line.loss[2] == np.inf
    assert fp.linear_loss(np.eye(2), X, Y) == np.inf


def test_stability_along_line_with_per_neuron_gain():
    rng = np.random.default_rng(3)
    W1 = rng.standard_normal((6, 6)) / np.sqrt(6)
    g = np.linspace(0.5, 1.5, 6)
    ts = np.linspace(-2, 2, 9)
    line = fp.loss_along_line(np.zeros((6, 6)), W1, ts, np.eye(6), np.zeros((6, 6)),
                              fp.Linear(g))
    expected = [np.linalg.eigvals(np.diag(g) @ (t * W1)).real.max() < 1 for t in ts]
    assert line.stable.tolist() == expected


def test_require_stable_stops_on_an_unstable_fixed_point():
    # r = tanh(3 r + 0) has the fixed point r = 0, which the solver finds at once,
    # but G W = 3 I there: the dynamics run away from it.
    W0, X, Y = 3.0 * np.eye(4), np.zeros((4, 2)), np.zeros((4, 2))
    plain = fp.train(W0, X, Y, rule="dW1", lr=0.1, n_iter=3)
    assert not plain.diverged
    out = fp.train(W0, X, Y, rule="dW1", lr=0.1, n_iter=3, require_stable=True)
    assert out.diverged and out.iterations == 0 and "unstable" in out.message


def test_book_linear_config_and_curvature_along_rule():
    from fpnotes.conditioning import curvature_along_rule, linear_curvature
    from fpnotes.tasks import BOOK_LINEAR

    assert BOOK_LINEAR["N"] == 2 * BOOK_LINEAR["m"] and BOOK_LINEAR["n_iter"] == 3500
    task = fp.linear_task(N=12, m=6, seed=1)
    c = curvature_along_rule(task, "dW1", 0.5, 40, every=1)
    res = fp.train_task(task, "dW1", 0.5, 40)
    assert list(c.iteration) == list(range(41))
    # the same run as train_task (whose history holds the loss before each update)
    assert np.allclose(c.loss[:-1], res.history.loss, rtol=1e-10)
    # Gauss-Newton eigenvalues against the explicit Hessian of the linearized residual
    W, X = task.W0, task.X
    N, m = X.shape
    A = np.linalg.inv(np.eye(N) - W)
    J = np.kron((A @ X).T, A)            # vec(A U A X) = ((AX)^T kron A) vec(U)
    H = 2 / m * J.T @ J
    ev = np.linalg.eigvalsh(H)
    ev = ev[ev > 1e-10 * ev[-1]]
    cur = linear_curvature(W, X)
    assert np.isclose(cur.W_max, ev[-1]) and np.isclose(cur.W_min, ev[0])
    assert np.isclose(cur.kappa_A, np.linalg.cond(A))
    assert np.isclose(cur.max_real_eig, fp.max_real_eig(W))
    assert cur.A_max >= cur.A_min > 0
