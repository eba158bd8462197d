import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import fpnotes  # noqa: E402
from fpnotes import plotting as P  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _net(N=20, m=3, rho=0.6, seed=0):
    rng = np.random.default_rng(seed)
    return fpnotes.random_weights(N, rho, rng), rng.standard_normal((N, m))


def test_fixed_point_figures():
    W, X = _net()
    hist = {m: P.fixed_point_residual_history(W, X, method=m, max_iters=[1, 2, 4, 8, 16])
            for m in ("iterate", "newton")}
    assert hist["newton"].residual[-1] < 1e-9
    assert isinstance(P.plot_solver_convergence(hist, tol=1e-10), Figure)
    logx = P.plot_solver_convergence(hist, xscale="log")
    assert [ax.get_xscale() for ax in logx.axes] == ["log", "log"]
    with pytest.raises(ValueError):
        P.plot_solver_convergence(hist, xscale="symlog")
    assert isinstance(P.plot_eigenvalue_cloud(np.linalg.eigvals(W), rho=0.6), Figure)
    assert isinstance(P.plot_rho_explorer(rho=1.2, N=20, steps=20), Figure)
    with pytest.raises(ValueError):
        P.fixed_point_residual_history(W, X, max_iters=[3, 2])
    with pytest.raises(TypeError):
        P.plot_solver_convergence([])


def test_interactive_wrappers():
    assert P.interactive_rho_explorer(N=20, steps=10) is not None
    assert P.interactive_one_neuron() is not None


def test_gradient_figures():
    W, X = _net()
    fwd = P.iteration_residuals(W, X)
    fp = fpnotes.fixed_point(W, X)
    adj = P.recurrent_backprop_residuals(W, fp.gains, np.ones_like(X))
    assert fwd.residual[-1] <= 1e-10 and adj.residual[-1] <= 1e-10
    assert isinstance(P.plot_forward_vs_adjoint(fwd, adj), Figure)
    assert isinstance(P.plot_bptt_convergence([1, 10, 100], [1.0, 0.1, 0.01], h=0.1), Figure)
    with pytest.raises(ValueError):
        P.plot_bptt_convergence([1, 10], [1.0])


def _iteration_residuals_by_hand(W, X, tol=1e-10, max_iter=1000):
    """iteration_residuals as it was written before it used the solver (issue 16)."""
    R, res = np.zeros_like(X), []
    for _ in range(max_iter + 1):
        F = np.tanh(W @ R + X)
        err = float(np.max(np.abs(F - R)))
        res.append(err)
        if not np.isfinite(err) or err <= tol:
            break
        R = F
    return np.asarray(res), len(res) - 1, R


@pytest.mark.parametrize("N, m, rho, seed, scale", [(100, 10, 0.8, 3, 1.0),  # Chapter 2's
                                                    (40, 6, 0.9, 1, 0.5), (30, 1, 0.5, 2, 1.0)])
def test_iteration_residuals_come_from_the_solver_unchanged(N, m, rho, seed, scale):
    """Chapter 2's forward curve, now fixed_point(history=True), is the hand-written loop's
    to round-off; r is the solver's fixed point (within tol of the loop's last iterate)."""
    rng = np.random.default_rng(seed)
    W = fpnotes.random_weights(N, rho, rng)
    X = scale * rng.standard_normal((N, m))
    res, its, R = _iteration_residuals_by_hand(W, X)
    fwd = P.iteration_residuals(W, X, "tanh", tol=1e-10)
    assert fwd.iterations == its and fwd.residual.shape == res.shape
    np.testing.assert_allclose(fwd.residual, res, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fwd.r, R, rtol=0, atol=1e-9)
    capped, its, _ = _iteration_residuals_by_hand(W, X, max_iter=5)
    short = P.iteration_residuals(W, X, max_iter=5)
    assert short.iterations == its == 5
    np.testing.assert_allclose(short.residual, capped, rtol=1e-12, atol=1e-14)


def test_landscape_figures():
    ws = P.one_neuron_iterates(0.2, 2.0, 0.05, n_steps=200)
    assert abs(ws[-1] - 0.5) < 1e-6  # w* = 1/g - x/target
    assert np.isinf(P.one_neuron_loss(1.0, 2.0))
    assert isinstance(P.plot_one_neuron(), Figure)
    task = fpnotes.linear_task(N=12, m=5)
    rng = np.random.default_rng(0)
    W1 = fpnotes.random_weights(12, 2.5, rng)
    W2 = fpnotes.random_weights(12, 2.5, rng)
    ts = np.linspace(-1, 1, 21)
    line = fpnotes.loss_along_line(task.W_true, W1, ts, task.X, task.targets)
    assert isinstance(P.plot_loss_along_line(line), Figure)
    plane = fpnotes.loss_on_plane(task.W_true, W1, W2, ts[::4], ts[::4], task.X, task.targets)
    assert isinstance(P.plot_loss_on_plane(plane), Figure)
    A = np.linalg.inv(np.eye(12) - task.W_true)
    la = fpnotes.loss_along_line_in_A(A, W1, ts, task.X, task.targets)
    assert isinstance(P.plot_loss_in_A(la), Figure)
    with pytest.raises(ValueError):
        P.one_neuron_loss(0.0, 1.0, g=-1.0)


def test_learning_figures():
    task = fpnotes.linear_task(N=10, m=4)
    runs = {lr: fpnotes.train_task(task, "dW1", lr, 5, eig_every=2) for lr in (0.1, 0.3)}
    assert isinstance(P.plot_learning_curves(runs), Figure)
    assert isinstance(P.plot_learning_curves(list(runs.values()), rule="dW1"), Figure)
    assert isinstance(P.plot_eig_over_training(runs), Figure)
    assert isinstance(P.plot_training_summary(runs), Figure)
    with pytest.raises(TypeError):
        P.plot_learning_curves("runs")
