"""Issue 15: no crash, no silent wrong result, nothing lost.

One test per finding: each reproduces the reported input and checks the contract --
a result with honest flags, or a documented exception whose message names the
argument (never a numpy-internal error, never an unflagged non-finite result).
"""

import warnings

import numpy as np
import pytest
from conftest import random_net, rotational_net

import fpnotes as fp
from fpnotes._result import Result
from fpnotes.rules import StepError

# ----------------------------------------------------------------------------- crashes


@pytest.mark.parametrize("method", ["auto", "euler", "iterate"])
def test_residual_schedule_does_not_overflow(method):
    """The contraction rate rounding to 1 made int(log(...) / log(q)) an int(inf)."""
    with pytest.warns(fp.ConvergenceWarning):
        res = fp.fixed_point([[69., 45.], [12., -296.]], [0.2, 1.9], method=method)
    assert not res.converged and res.r.shape == (2,)


def test_check_schedule_with_a_rate_that_rounds_to_one():
    from fpnotes.solvers import _CheckSchedule

    sched = _CheckSchedule(1e-10)
    sched.update(1, np.array([1.0]))
    sched.update(11, np.array([np.nextafter(1.0, 0.0)]))  # q = (1 - 1e-16)^(1/10) == 1.0
    assert 12 <= sched.next <= 22


def test_singular_direct_solve_follows_on_fail():
    W, x = np.eye(3), np.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fp.fixed_point(W, x, "linear", on_fail="ignore")
    assert not res.converged and res.failed.tolist() == [0] and "singular" in res.message
    with pytest.warns(fp.ConvergenceWarning, match="singular"):
        fp.fixed_point(W, x, "linear")
    with pytest.raises(fp.FixedPointError, match="singular") as err:
        fp.fixed_point(W, x, "linear", on_fail="raise")
    assert err.value.result is not None


def test_singular_newton_jacobian_fails_only_that_pattern():
    """r = tanh(W r + x) with I - G W singular at the start of one pattern only."""
    W = np.eye(2)
    X = np.array([[0.0, 0.3], [0.0, 0.2]])
    R0 = np.array([[0.0, 0.0], [0.0, 0.0]])
    from fpnotes import solvers
    from fpnotes.activations import Tanh

    # column 0 is a fixed point (finished at once), column 1 starts where J = 0
    res = solvers._newton(W, X, Tanh(), R0.copy(), tol=1e-10, max_iter=5)
    assert np.all(np.isfinite(res.r[:, 0]))
    J = np.stack([np.eye(2), np.zeros((2, 2))])
    step = solvers._solve_each(J, np.ones((2, 2)))
    assert np.all(np.isfinite(step[:, 0])) and np.all(np.isnan(step[:, 1]))


def test_singular_rule_steps_raise_step_error():
    N = 3
    X, R, D = np.ones((N, 2)), np.ones((N, 2)), np.ones((N, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.ConvergenceWarning)
        with pytest.raises(StepError, match="dW1"):
            fp.update("dW1", np.eye(N), X, R, D, "linear")
    assert issubclass(StepError, FloatingPointError)


def test_singular_adjoint_in_euclidean_gradient():
    """tanh network, I - G W singular: the adjoint reports it through on_fail."""
    W = np.diag([1.0, 0.5])
    X, R = np.zeros((2, 3)), np.zeros((2, 3))  # G = 1 at r = 0: I - W^T G singular
    D = np.ones((2, 3))
    with pytest.warns(fp.ConvergenceWarning, match="singular"):
        g = fp.euclidean_gradient(W, X, R, D, adjoint_method="batched_lu")
    assert np.isnan(g).all()
    with pytest.raises(fp.FixedPointError, match="singular") as err:
        fp.adjoint(W, np.ones((2, 3)), D, method="lu", on_fail="raise")
    assert not err.value.result.converged
    # one singular pattern among good ones: the others keep their adjoints
    G = np.array([[1.0, 0.5], [1.0, 0.5]])
    out = fp.adjoint(W, G, np.ones((2, 2)), method="batched_lu", on_fail="ignore")
    assert not out.converged and np.all(np.isfinite(out.u[:, 1])) and np.isnan(out.u[:, 0]).all()


def test_metric_at_a_pole_names_w():
    with pytest.raises(ValueError, match="W is on a pole"):
        fp.reparameterized_map(np.eye(3), "linear")
    with pytest.raises(ValueError, match="W is on a pole"):
        fp.metric(np.eye(3), np.ones((3, 3)), "linear")


def test_angle_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        fp.angle(np.eye(2), np.eye(3))
    with pytest.raises(TypeError, match="U"):
        fp.angle(1j * np.eye(2), np.eye(2))
    assert fp.angle(1e300 * np.eye(2), np.eye(2)) == pytest.approx(0.0, abs=1e-4)


def test_cross_entropy_with_no_patterns():
    with pytest.raises(ValueError, match="R must have shape"):
        fp.softmax_cross_entropy(np.zeros((3, 0)), np.zeros(0, int), np.eye(3))


def test_residual_refuses_mismatched_r_and_x():
    with pytest.raises(ValueError, match="X must have shape"):
        fp.residual(np.eye(3), np.ones((3, 2)), np.ones((3, 4)))


# ----------------------------------------------------------------------------- silent results


@pytest.mark.parametrize("which", ["W", "X", "r0"])
def test_complex_input_is_refused(which):
    W, X, _ = random_net(4, 2, seed=0)
    args = {"W": W, "X": X, "r0": np.zeros_like(X)}
    args[which] = args[which] + 1j
    with pytest.raises(TypeError, match=f"{which} must be an array of real numbers"):
        fp.fixed_point(args["W"], args["X"], r0=args["r0"])


def test_complex_everywhere_else_is_refused():
    W, X, _ = random_net(4, 2, seed=0)
    R = fp.fixed_point(W, X).r
    with pytest.raises(TypeError, match="delta"):
        fp.update("dW3", W, X, R, 1j * np.ones_like(R))
    with pytest.raises(TypeError, match="targets"):
        fp.squared_error(R, R + 0j)
    with pytest.raises(TypeError, match="lr"):
        fp.update("dW3", W, X, R, R, lr=1j)
    with pytest.raises(TypeError, match="gain"):
        fp.Linear(1 + 1j)
    with pytest.raises(TypeError, match="X"):
        fp.fixed_point(W, np.array(["1"] * 4))
    with pytest.raises(TypeError, match="W must be an array of real numbers"):
        fp.fixed_point([[1.0, 2.0], [3.0]], [1.0, 2.0])  # ragged


def test_wrong_target_shapes_are_refused_not_broadcast():
    W, X, _ = random_net(3, 4, rho=0.1, seed=1)
    Y = np.ones((3, 4))
    with pytest.raises(ValueError, match="Y must have shape"):
        fp.linear_loss(W, X, Y[:1])
    with pytest.raises(ValueError, match="Y must have shape"):
        fp.loss_along_line(W, W, [0.0, 1.0], X, Y[:, :1])
    with pytest.raises(ValueError, match="Y must have shape"):
        fp.loss_on_plane(W, W, W, [0.0], [0.0], X, Y[:1])
    with pytest.raises(ValueError, match="Y must have shape"):
        fp.loss_along_line_in_A(W, W, [0.0], X, Y.T)
    with pytest.raises(ValueError, match="targets must have shape"):
        fp.squared_error(X, Y[:1])


def test_simulate_refuses_bad_steps_and_flags_divergence():
    W, X, _ = random_net(3, 2, seed=2)
    for h in (np.nan, 0.0, 2.0, "0.1"):
        with pytest.raises((TypeError, ValueError), match="h must be"):
            fp.simulate(W, X, steps=3, h=h)
    with pytest.warns(fp.DivergenceWarning, match="diverge"):
        traj = fp.simulate(3.0 * np.eye(2), np.ones(2), "linear", steps=2000, h=1.0)
    assert not np.all(np.isfinite(traj))


def test_activation_whose_df_returns_none_is_refused():
    class Bad:
        name, linear = "bad", False

        def f(self, z):
            return np.tanh(z)

        def df(self, z):
            return None

    W, X, _ = random_net(3, 2, seed=3)
    for call in (lambda: fp.fixed_point(W, X, Bad()),
                 lambda: fp.residual(W, X, X, Bad()),
                 lambda: fp.update("dW3", W, X, X, X, Bad())):
        with pytest.raises(TypeError, match=r"df\(z\) must return a real array"):
            call()


def test_auto_respects_max_iter():
    W, X = rotational_net(20, 3, rho=2.0, seed=2)
    res = fp.fixed_point(W, X, max_iter=1, on_fail="ignore")
    assert res.iterations <= 1 and not res.converged
    res = fp.fixed_point(W, X, max_iter=40, on_fail="ignore")
    assert res.iterations <= 40


@pytest.mark.parametrize("kwargs, name", [
    ({"max_iter": -1}, "max_iter"), ({"max_iter": 0}, "max_iter"), ({"max_iter": 2.5}, "max_iter"),
    ({"memory": -1, "method": "anderson"}, "memory"), ({"memory": 0}, "memory"),
    ({"tol": "1e-8"}, "tol"), ({"tol": -1.0}, "tol"), ({"tol": np.nan}, "tol"),
    ({"damping": 0.0}, "damping"), ({"damping": "1"}, "damping"), ({"h": 3.0}, "h"),
    ({"return_trajectory": "yes"}, "return_trajectory"), ({"r0": np.ones(7)}, "r0"),
])
def test_fixed_point_options_are_checked(kwargs, name):
    W, X, _ = random_net(4, 2, seed=4)
    with pytest.raises((TypeError, ValueError), match=name):
        fp.fixed_point(W, X, **kwargs)


def test_numpy_scalars_are_numbers():
    W, X, _ = random_net(4, 2, seed=4)
    res = fp.fixed_point(W, X, tol=np.float32(1e-6), max_iter=np.int64(50),
                         damping=np.array(0.9))
    assert res.converged
    res = fp.fixed_point(W, X, method="euler", tol=np.float32(1e-6), max_iter=np.int64(500),
                         h=np.array(0.2), options={"return_trajectory": np.bool_(False)})
    assert res.converged


def test_adjoint_options_are_checked():
    W, X, _ = random_net(4, 2, seed=4)
    with pytest.raises(TypeError, match="tol"):
        fp.adjoint(W, X, X, tol="1e-8")
    with pytest.raises(ValueError, match="max_iter"):
        fp.adjoint(W, X, X, max_iter=-3)


def test_vector_results_round_trip():
    W, X, _ = random_net(10, 1, seed=5)
    x = X[:, 0]
    res = fp.fixed_point(W, x)
    se = fp.squared_error(res.r, np.zeros(10))
    assert se.delta.shape == (10,)
    full = fp.squared_error(res.r[:, None], np.zeros((10, 1)))
    assert se.loss == pytest.approx(full.loss)
    for rule in ("dW1", "dW3"):
        W1 = fp.update(rule, W, x, res.r, se.delta, lr=0.1)
        np.testing.assert_allclose(W1, fp.update(rule, W, X, res.r[:, None], full.delta, lr=0.1))
    C = np.ones((3, 10))
    ce = fp.softmax_cross_entropy(res.r, 1, C)
    assert ce.delta.shape == (10,)
    assert fp.euclidean_gradient(W, x, res.r, se.delta).shape == (10, 10)
    assert fp.residual(W, res.r, x).shape == (1,)
    fp.fixed_point(W, x, r0=res.r)  # a vector warm start


# ----------------------------------------------------------------------------- train


def _linear_task():
    return fp.linear_task(N=8, m=4, seed=0)


def test_train_checks_every_argument_up_front():
    task = _linear_task()
    base = dict(rule="dW3", lr=0.1, n_iter=5, f=task.f)
    bad = [
        ({"X_test": np.ones((3, 2)), "targets_test": np.ones((8, 2))}, "X_test"),
        ({"X_test": np.ones((8, 2)), "targets_test": np.ones((8, 3))}, "targets_test"),
        ({"X_test": np.ones((8, 2))}, "targets_test"),
        ({"eig_every": -1}, "eig_every"), ({"eval_every": -2}, "eval_every"),
        ({"eig_every": 1.5}, "eig_every"), ({"solver": {"tol": "x"}}, "tol"),
        ({"solver": {"bogus": 1}}, "solver"), ({"solver": {"method": "nope"}}, "method"),
        ({"solver": {"r0": 0}}, "solver"),
    ]
    for kwargs, name in bad:
        with pytest.raises((TypeError, ValueError), match=name):
            fp.train(task.W0, task.X, task.targets, **{**base, **kwargs})
    with pytest.raises(ValueError, match="targets"):
        fp.train(task.W0, task.X, task.targets[:1], **base)


def test_train_survives_overflow_and_keeps_history():
    """tanh, dW1, lr = 1e6: the weights explode; the run stops with diverged=True."""
    task = fp.linear_task(N=2, m=3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fp.train(task.W0, task.X, task.targets, rule="dW1", lr=1e6, n_iter=30,
                       f="tanh", eig_every=1)
    assert out.diverged and "diverged" in out.message
    assert np.all(np.isfinite(out.W)) and len(out.history.loss) >= 1


def test_train_converts_arithmetic_failures_into_divergence(monkeypatch):
    """A LinAlgError or OverflowError anywhere in an iteration (here: from the fixed-point
    solve, then from the step) ends the run as diverged, with its history."""
    from fpnotes import training

    task = _linear_task()
    for name, error in (("_solve", np.linalg.LinAlgError), ("_checked_step", OverflowError)):
        real = getattr(training, name)
        calls = {"n": 0}

        def flaky(*args, real=real, calls=calls, error=error, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise error("injected")
            return real(*args, **kwargs)

        monkeypatch.setattr(training, name, flaky)
        out = fp.train(task.W0, task.X, task.targets, rule="dW3", lr=0.1, n_iter=10, f=task.f)
        monkeypatch.undo()
        assert out.diverged and out.iterations == 2 and len(out.history.loss) == 2
        assert error.__name__ in out.message


def test_ctrl_c_during_train_keeps_the_partial_history(monkeypatch):
    from fpnotes import training

    task = _linear_task()
    real = training._fixed_point
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "_fixed_point", interrupted)
    with pytest.raises(KeyboardInterrupt) as err:
        fp.train(task.W0, task.X, task.targets, rule="dW3", lr=0.1, n_iter=10, f=task.f)
    partial = err.value.result
    assert partial.interrupted and partial.iterations == 3
    assert len(partial.history.loss) == 3 and "interrupted" in partial.message


def test_train_takes_an_update_or_the_rule_shorthand():
    task = fp.digits_task(N=20, seed=0)
    kw = dict(lr=0.1, n_iter=6, f=task.f, loss=task.loss, readout=task.readout,
              batch_size=50, eig_every=2, X_test=task.X_test, targets_test=task.targets_test,
              eval_every=3)
    a = fp.train(task.W0, task.X, task.targets, rule="dW3", compare="dW1", stability_sample=5,
                 **kw)
    b = fp.train(task.W0, task.X, task.targets, **kw,
                 update=fp.FixedPointUpdate("dW3", compare="dW1", stability_sample=5))
    np.testing.assert_array_equal(a.W, b.W)
    for group in ("history", "eig", "test"):
        for key in a[group]:
            np.testing.assert_array_equal(a[group][key], b[group][key])
    assert a.message == b.message and a.lost_at == b.lost_at
    with pytest.raises(TypeError, match="rule, compare"):
        fp.train(task.W0, task.X, task.targets, update=fp.FixedPointUpdate("dW1"), rule="dW1",
                 compare="dW3", lr=0.1, n_iter=1, loss=task.loss, readout=task.readout)
    with pytest.raises(TypeError, match="update= .* or rule="):
        fp.train(task.W0, task.X, task.targets, lr=0.1, n_iter=1)
    with pytest.raises(TypeError, match="update must be"):
        fp.train(task.W0, task.X, task.targets, update="dW1", lr=0.1, n_iter=1)
    with pytest.raises(ValueError, match="unknown rule"):
        fp.FixedPointUpdate("dW4")
    with pytest.raises(ValueError, match="linear networks only"):  # once, before iterating
        fp.train(task.W0, task.X, task.targets, update=fp.FixedPointUpdate("dW2"), lr=0.1,
                 n_iter=0, loss=task.loss, readout=task.readout)
    with pytest.raises(ValueError, match="direct"):
        fp.train(task.W0, task.X, task.targets, rule="dW1", solver={"method": "direct"},
                 lr=0.1, n_iter=0, loss=task.loss, readout=task.readout)


def test_an_update_that_overflows_W_ends_the_run_with_the_last_finite_W():
    class Doubling(fp.Update):
        name = "doubling"

        def step(self, W, Xb, Tb, *, batch, it, check):
            return Result(outputs=Result(loss=1.0), dW=W.copy(), extra={}, record=None,
                          lost=None)

    W0, X = 1e308 * np.eye(2), np.ones((2, 3))
    out = fp.train(W0, X, np.zeros((2, 3)), update=Doubling(), lr=1.0, n_iter=4)
    assert out.diverged and out.iterations == 0 and out.history.loss.size == 0
    assert out.message == "diverged at iteration 0: the update overflows W"
    np.testing.assert_array_equal(out.W, W0)


def _count_checks(monkeypatch):
    """Count the calls of every argument check, in every fpnotes module that imported one."""
    import importlib
    import pkgutil

    names = ("as_weights", "as_patterns", "as_like", "as_real_array", "as_activation",
             "_as_float_array", "_as_states", "_readout_matrix", "check_int", "check_number",
             "check_lr", "check_positive", "check_choice", "_check_options",
             "check_solver_options", "_check_targets", "_probe")
    calls = {"n": 0}
    modules = [importlib.import_module(f"fpnotes.{m.name}")
               for m in pkgutil.iter_modules(fp.__path__) if m.name not in ("plotting",)]
    for module in modules:
        for name in names:
            real = getattr(module, name, None)
            if callable(real):
                def counted(*args, real=real, **kwargs):
                    calls["n"] += 1
                    return real(*args, **kwargs)
                monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("kind", ["dW1", "dW2", "dW3", "BPTT"])
def test_train_checks_its_arguments_once_not_per_iteration(monkeypatch, kind):
    """The loop calls kernels: a longer run makes no more argument checks."""
    from fpnotes.bptt_training import BPTTUpdate

    task = fp.digits_task(N=12, seed=0) if kind != "dW2" else fp.linear_task(N=12, m=20)
    counts = []
    for n_iter in (1, 5):
        calls = _count_checks(monkeypatch)
        kw = dict(lr=0.01, n_iter=n_iter, batch_size=8, eig_every=1, eval_every=1,
                  f=task.f, loss=task.loss, readout=task.get("readout"))
        if kind == "dW2":  # the linear task has no test set
            kw.update(X_test=task.X[:, :5], targets_test=task.targets[:, :5])
        else:
            kw.update(X_test=task.X_test, targets_test=task.targets_test)
        if kind == "BPTT":
            kw["update"] = BPTTUpdate(5, 0.3)
        else:
            kw.update(rule=kind, compare="dW3" if kind == "dW1" else None,
                      stability_sample=3, require_stable=True)
        out = fp.train(task.W0, task.X, task.targets, **kw)
        monkeypatch.undo()
        assert out.iterations == n_iter, out.message
        counts.append(calls["n"])
    assert counts[0] == counts[1] > 0


def test_train_bptt_checks_up_front_and_keeps_history_on_ctrl_c(monkeypatch):
    from fpnotes import bptt_training
    from fpnotes.bptt_training import train_bptt

    task = _linear_task()
    base = dict(lr=0.1, n_iter=6, steps=5, f=task.f)
    for kwargs, name in [({"X_test": np.ones((3, 2)), "targets_test": np.ones((8, 2))}, "X_test"),
                         ({"X_test": np.ones((8, 2)), "targets_test": np.ones((2, 2))},
                          "targets_test"),
                         ({"eig_every": -1}, "eig_every"), ({"h": "0.1"}, "h")]:
        with pytest.raises((TypeError, ValueError), match=name):
            train_bptt(task.W0, task.X, task.targets, **{**base, **kwargs})
    real = bptt_training._bptt_gradient
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(bptt_training, "_bptt_gradient", interrupted)
    with pytest.raises(KeyboardInterrupt) as err:
        train_bptt(task.W0, task.X, task.targets, **base)
    assert err.value.result.interrupted and err.value.result.iterations == 2
    assert len(err.value.result.history.loss) == 2


def test_bptt_gradient_flags_an_overflowing_backward_pass():
    """Found by the fuzz suite: a huge linear W whose forward pass stays finite while the
    backward pass overflows gave a NaN gradient with diverged=False."""
    out = fp.bptt_gradient([[1.25730221e+149]], [[-1.32104863e-301]], [[0.1]], "linear",
                           steps=4, h=0.5)
    assert out.diverged and not np.all(np.isfinite(out.gradient))
    ok = fp.bptt_gradient([[0.5]], [[1.0]], [[0.1]], "linear", steps=4, h=0.5)
    assert not ok.diverged and np.all(np.isfinite(ok.gradient))
