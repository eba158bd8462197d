import warnings

import numpy as np
import pytest
from conftest import random_net, rotational_net

import fpnotes as fp

METHODS = ["iterate", "anderson", "newton", "euler", "auto"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("f", ["tanh", "relu"])
def test_methods_agree_on_well_posed_problem(method, f):
    W, X, _ = random_net(30, 7, rho=0.5, seed=3)
    ref = fp.fixed_point(W, X, f, method="newton", tol=1e-13)
    kw = {"max_iter": 20000, "h": 0.2} if method == "euler" else {}
    res = fp.fixed_point(W, X, f, method=method, tol=1e-11, **kw)
    assert res.converged and res.residual <= 1e-11
    assert res.r.shape == X.shape
    np.testing.assert_allclose(res.r, ref.r, atol=1e-9)
    np.testing.assert_allclose(res.r, fp.Tanh().f(W @ res.r + X) if f == "tanh"
                               else np.maximum(W @ res.r + X, 0), atol=1e-10)


def test_residual_field_is_max_residual():
    W, X, _ = random_net(15, 4, seed=2)
    res = fp.fixed_point(W, X, method="iterate", max_iter=3, on_fail="ignore")
    direct = np.max(np.abs(res.r - np.tanh(W @ res.r + X)), axis=0)
    np.testing.assert_allclose(res.residuals, direct)
    assert res.residual == pytest.approx(direct.max())
    assert not res.converged and set(res.failed) == set(np.flatnonzero(direct > 1e-10))


def test_linear_network_solved_directly_with_per_neuron_gain():
    W, X, rng = random_net(25, 5, seed=4)
    g = rng.uniform(0.5, 1.5, 25)
    res = fp.fixed_point(W, X, fp.Linear(g))
    assert res.method == "direct" and res.converged
    expected = np.linalg.solve(np.diag(1 / g) - W, X)
    np.testing.assert_allclose(res.r, expected, rtol=1e-10, atol=1e-12)
    # the same fixed point by iteration (the spectral radius of G W is below 1 here)
    it = fp.fixed_point(W, X, fp.Linear(g), method="iterate", tol=1e-12)
    np.testing.assert_allclose(it.r, expected, atol=1e-10)


def test_vector_input_returns_vector():
    W, X, _ = random_net(10, 1, seed=5)
    res = fp.fixed_point(W, X[:, 0])
    assert res.r.shape == (10,) and res.gains.shape == (10,)
    np.testing.assert_allclose(res.r, fp.fixed_point(W, X).r[:, 0])


def test_iteration_fails_but_newton_converges_where_dynamics_are_stable():
    W, X = rotational_net(40, 6, rho=2.0, seed=0)
    with pytest.warns(fp.ConvergenceWarning, match="did not converge"):
        it = fp.fixed_point(W, X, method="iterate", max_iter=300)
    assert not it.converged and it.failed.size > 0
    nt = fp.fixed_point(W, X, method="newton")
    assert nt.converged and nt.iterations <= 20
    st = fp.stability(W, nt.r, X)
    assert np.all(st.continuous_stable) and not np.any(st.discrete_stable)
    auto = fp.fixed_point(W, X)
    assert auto.converged and "newton" in auto.method
    np.testing.assert_allclose(auto.r, nt.r, atol=1e-8)
    damped = fp.fixed_point(W, X, method="iterate", damping=0.1, max_iter=5000)
    assert damped.converged


def test_newton_krylov_used_for_large_problems(monkeypatch):
    from fpnotes import solvers
    monkeypatch.setattr(solvers, "EXACT_NEWTON_MAX_FLOPS", 0)
    W, X = rotational_net(40, 5, rho=2.0, seed=1)
    res = fp.fixed_point(W, X, method="newton")
    assert res.method == "newton-krylov" and res.converged


def test_no_method_can_converge_without_a_fixed_point():
    # w > 1 for a linear unit with gain 1: r = w r + x has r = x / (1 - w) ... but with
    # tanh and a strongly self-exciting unit there are several fixed points and iteration
    # from the unstable middle one can't settle; a NaN input trajectory can't either.
    W = np.array([[3.0]])
    X = np.array([[0.0]])
    res = fp.fixed_point(W, X, method="iterate", r0=np.array([[1e-3]]), max_iter=5,
                         on_fail="ignore")
    assert not res.converged
    # an unbounded linear unit: iteration diverges, result says so
    with pytest.warns(fp.ConvergenceWarning):
        lin = fp.fixed_point(np.array([[2.0]]), np.array([[1.0]]), "relu", max_iter=50)
    assert not lin.converged and lin.failed.tolist() == [0]


def test_on_fail_modes():
    W, X = rotational_net(20, 3, rho=2.0, seed=2)
    with pytest.raises(fp.FixedPointError) as err:
        fp.fixed_point(W, X, method="iterate", max_iter=20, on_fail="raise")
    assert err.value.result is not None and not err.value.result.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fp.fixed_point(W, X, method="iterate", max_iter=20, on_fail="ignore")
    assert not res.converged and "did not converge" in res.message


def test_converged_patterns_stop_costing_work():
    W, X, _ = random_net(30, 40, seed=6)
    X[:, :20] = 0.0  # r = 0 is their fixed point: finished at the first step
    res = fp.fixed_point(W, X, method="iterate", tol=1e-12)
    assert res.converged and res.iterations > 20
    assert res.work < 0.55 * res.iterations  # half the columns stopped costing work


def test_euler_trajectory_matches_simulate():
    W, X, _ = random_net(8, 3, seed=7)
    res = fp.fixed_point(W, X, method="euler", h=0.1, max_iter=40, return_trajectory=True,
                         on_fail="ignore")
    traj = fp.simulate(W, X, steps=40, h=0.1)
    assert res.trajectory.shape == (41, 8, 3)
    np.testing.assert_allclose(res.trajectory, traj)
    np.testing.assert_allclose(res.r, traj[-1])
    # one step by hand
    np.testing.assert_allclose(traj[1], 0.1 * np.tanh(X))


def test_simulation_approaches_fixed_point():
    W, X, _ = random_net(10, 2, seed=8)
    fixed = fp.fixed_point(W, X).r
    errs = [np.abs(fp.simulate(W, X, steps=T, h=0.05)[-1] - fixed).max() for T in (50, 200, 800)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-10


def test_warm_start_reduces_iterations():
    W, X, _ = random_net(30, 10, seed=9)
    cold = fp.fixed_point(W, X, method="iterate")
    warm = fp.fixed_point(W + 1e-6, X, method="iterate", r0=cold.r)
    assert warm.converged and warm.iterations < cold.iterations / 2


def test_anderson_handles_damping_and_memory():
    W, X, _ = random_net(30, 5, rho=0.9, seed=10)
    for memory in (1, 3, 8):
        res = fp.fixed_point(W, X, method="anderson", memory=memory, damping=0.7)
        assert res.converged


def test_custom_activation_protocol():
    class Softplus:
        name, linear = "softplus", False

        def f(self, z):
            return np.log1p(np.exp(z)) - np.log(2)

        def df(self, z):
            return 1 / (1 + np.exp(-z))

    W, X, _ = random_net(12, 3, seed=11)
    res = fp.fixed_point(W, X, Softplus())
    assert res.converged
    np.testing.assert_allclose(res.gains, Softplus().df(W @ res.r + X))


def test_damped_anderson_converges_where_plain_iteration_diverges():
    W, X = rotational_net(60, 8, rho=2.0, seed=4)
    plain = fp.fixed_point(W, X, method="iterate", max_iter=500, on_fail="ignore")
    assert not plain.converged
    res = fp.fixed_point(W, X, method="anderson", damping=0.5, memory=10)
    assert res.converged and res.iterations < 300
    np.testing.assert_allclose(res.r, fp.fixed_point(W, X, method="newton").r, atol=1e-8)


@pytest.mark.parametrize("method", ["auto", "iterate", "anderson", "newton", "euler"])
def test_every_method_reports_failure_when_no_fixed_point_exists(method):
    # r = relu(2 r + 1) has no solution: r >= 0 would need r = 2 r + 1 < 0.
    W, X = np.array([[2.0]]), np.array([[1.0]])
    with pytest.warns(fp.ConvergenceWarning, match="did not converge"):
        res = fp.fixed_point(W, X, "relu", method=method, max_iter=500)
    assert not res.converged and res.failed.tolist() == [0]
    assert not (res.residual <= 1e-10)  # inf/NaN or large, never a silent "solution"


def test_auto_last_fallback_polishes_slowly_settling_dynamics():
    """A mode decaying at rate 0.023 per time constant: 5000 Euler steps of h = 0.1 bring
    the residual only to ~1e-5; Newton, started there, finishes the job."""
    from fpnotes import solvers
    from fpnotes.activations import as_activation

    act = as_activation("linear")
    W, X = 0.977 * np.eye(3), np.ones((3, 2))
    R0 = np.zeros((3, 2))
    plain = solvers._iterate(W, X, act, R0.copy(), tol=1e-10, max_iter=5000, damping=0.1)
    assert 1e-7 < fp.residual(W, plain.r, X, "linear").max() < solvers.SETTLE_POLISH_BELOW
    settled = solvers._settle(W, X, act, R0.copy(), tol=1e-10)
    np.testing.assert_allclose(settled.r, X / 0.023, rtol=1e-9)
    assert settled.work > plain.work
    # dynamics that run away are not polished: Newton would find the unstable fixed point
    away = solvers._settle(1.5 * np.eye(3), X, act, R0.copy(), tol=1e-10, max_iter=50)
    assert fp.residual(1.5 * np.eye(3), away.r, X, "linear").min() > 1


def test_auto_prefers_the_fixed_point_the_dynamics_settle_at():
    """Neuron 1 is bistable (w = 2) with an unstable fixed point near r = 0, which is where
    Newton from r0 = 0 lands; the rotating pair (eigenvalues +-3i) makes plain iteration
    fail, so auto needs its fallbacks. The dynamics from r0 settle at r1 = 0.96: auto sees
    det(I - G W) < 0 at Newton's point (one LU, no eigenvalues) and runs them."""
    W = np.array([[2.0, 0, 0], [0, 0, -3.0], [0, 3.0, 0]])
    x = np.array([[0.05], [0.1], [0.1]])
    newton = fp.fixed_point(W, x, method="newton")
    assert newton.r[0, 0] == pytest.approx(-0.0503, abs=1e-3)
    assert not fp.stability(W, newton.r, x).continuous_stable[0]
    auto = fp.fixed_point(W, x)
    assert auto.converged
    assert fp.stability(W, auto.r, x).continuous_stable[0]
    np.testing.assert_allclose(auto.r, fp.fixed_point(W, x, method="euler").r, atol=1e-8)
    assert auto.unstable.size == 0 and "euler" in auto.method


def test_auto_flags_a_saddle_it_must_keep():
    """The bistable neuron beside a pair whose dynamics circle on a limit cycle: the
    dynamics never settle, so auto keeps Newton's fixed point, a saddle, and says so."""
    W = np.array([[2.0, 0, 0], [0, 1.5, -3.0], [0, 3.0, 1.5]])
    x = np.array([[0.05], [1e-3], [1e-3]])
    auto = fp.fixed_point(W, x)
    assert auto.converged and auto.unstable.tolist() == [0]
    assert "unstable" in auto.message
    assert not fp.stability(W, auto.r, x).continuous_stable[0]


def test_auto_keeps_an_unstable_fixed_point_when_the_dynamics_never_settle():
    """Purely rotating dynamics (eigenvalues 1.5 +- 3i near the origin, tiny input):
    the fixed point near 0 is unstable and the dynamics circle on a limit cycle; auto
    still returns the fixed point, and stability() says it is unstable."""
    W = np.array([[1.5, -3.0], [3.0, 1.5]])
    x = np.full((2, 1), 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = fp.fixed_point(W, x)
    assert auto.converged and fp.residual(W, auto.r, x).max() <= 1e-10
    assert not fp.stability(W, auto.r, x).continuous_stable[0]


def test_auto_hands_a_diverging_iteration_to_anderson_at_once():
    # Stable fixed points (Re lambda(G W) < 1) that plain iteration cannot reach
    # (|lambda| > 1): auto must notice within a few steps and finish with Anderson.
    rng = np.random.default_rng(0)
    N, m = 60, 8
    # spectrum in a disc of radius 0.3 around -1.5: |lambda(G W)| > 1 for gains near 1
    W = -1.5 * np.eye(N) + 0.3 * rng.standard_normal((N, N)) / np.sqrt(N)
    X = 0.5 * rng.standard_normal((N, m))
    res = fp.fixed_point(W, X, tol=1e-10)
    assert res.converged
    assert res.method.startswith("iterate+anderson")
    assert res.iterations <= 80
    G = res.gains
    assert np.linalg.eigvals(G.T[:, :, None] * W).real.max() < 1


# ------------------------------------------------------------- per-method options (issue 16)


def test_an_unknown_option_names_itself_the_method_and_its_options():
    W, X, _ = random_net(10, 2, seed=1)
    with pytest.raises(TypeError, match=r"unknown option 'memory' for method 'newton'.*exact"):
        fp.fixed_point(W, X, method="newton", options={"memory": 3})
    with pytest.raises(TypeError, match=r"'damping' for method 'direct'.*options are: none"):
        fp.fixed_point(W, X, "linear", method="direct", options={"damping": 0.5})
    with pytest.raises(TypeError, match=r"'tol' for method 'iterate' \(tol is an argument of "
                                        r"fixed_point itself\)"):
        fp.fixed_point(W, X, method="iterate", options={"tol": 1e-8})
    with pytest.raises(TypeError, match="options must be a dict"):
        fp.fixed_point(W, X, method="iterate", options=[("damping", 0.5)])
    with pytest.raises(ValueError, match="memory"):
        fp.fixed_point(W, X, method="anderson", options={"memory": 0})
    with pytest.raises(TypeError, match="exact"):
        fp.fixed_point(W, X, method="newton", options={"exact": "yes"})


@pytest.mark.parametrize("method, keyword", [
    ("newton", {"memory": 3}), ("newton", {"damping": 0.5}), ("iterate", {"h": 0.2}),
    ("iterate", {"memory": 3}), ("anderson", {"h": 0.2}), ("euler", {"damping": 0.5}),
    ("auto", {"memory": 5}), ("auto", {"h": 0.2}), ("auto", {"return_trajectory": False}),
    ("anderson", {"return_trajectory": True}),
])
def test_a_shorthand_the_method_does_not_use_is_refused(method, keyword):
    W, X, _ = random_net(10, 2, seed=1)
    (name,) = keyword
    with pytest.raises(TypeError, match=rf"{name}= is not an option of method '{method}'"):
        fp.fixed_point(W, X, method=method, **keyword)


def test_shorthands_are_the_options_they_stand_for():
    W, X, _ = random_net(30, 5, rho=0.9, seed=10)
    short = fp.fixed_point(W, X, method="anderson", memory=3, damping=0.7)
    long = fp.fixed_point(W, X, method="anderson", options={"memory": 3, "damping": 0.7})
    mixed = fp.fixed_point(W, X, method="anderson", memory=3, options={"damping": 0.7})
    for res in (long, mixed):
        np.testing.assert_array_equal(res.r, short.r)
        assert (res.iterations, res.work) == (short.iterations, short.work)
    with pytest.raises(TypeError, match="'memory' given twice"):
        fp.fixed_point(W, X, method="anderson", memory=3, options={"memory": 4})
    default = fp.fixed_point(W, X, method="anderson", options={})
    np.testing.assert_array_equal(default.r, fp.fixed_point(W, X, method="anderson").r)
    assert fp.METHOD_OPTIONS["anderson"] == {"damping": 1.0, "memory": 5}


def test_newton_exact_option():
    W, X = rotational_net(40, 5, rho=2.0, seed=1)
    assert fp.fixed_point(W, X, method="newton").method == "newton"
    krylov = fp.fixed_point(W, X, method="newton", options={"exact": False})
    assert krylov.method == "newton-krylov" and krylov.converged
    assert fp.fixed_point(W, X, method="newton", options={"exact": True}).method == "newton"


def test_solver_dicts_for_train_follow_the_same_rules():
    from fpnotes.solvers import check_solver_options

    ok = {"method": "anderson", "options": {"memory": 10}, "damping": 0.5}
    assert check_solver_options(ok) == ok
    with pytest.raises(TypeError, match=r"memory= is not an option of method 'newton'"):
        check_solver_options({"method": "newton", "memory": 3})
    with pytest.raises(TypeError, match=r"unknown option 'h' for method 'auto'"):
        check_solver_options({"options": {"h": 0.1}})
    with pytest.raises(TypeError, match=r"solver has unknown option\(s\) \['return_trajectory'\]"):
        check_solver_options({"method": "euler", "return_trajectory": True})
    W, X, _ = random_net(10, 4, seed=2)
    with pytest.raises(TypeError, match="memory"):
        fp.train(W, X, X, rule="dW1", lr=0.01, n_iter=1, solver={"method": "iterate",
                                                                 "memory": 3})


# ------------------------------------------------------------------- callback and history


def _watched(W, X, f="tanh", **kwargs):
    calls = []
    res = fp.fixed_point(W, X, f, callback=lambda it, r: calls.append((it, r)), history=True,
                         **kwargs)
    return res, calls


@pytest.mark.parametrize("kwargs", [{"method": "iterate"}, {"method": "iterate", "damping": 0.7},
                                    {"method": "anderson"}, {"method": "newton"},
                                    {"method": "euler", "h": 0.5}, {}])
def test_history_is_what_the_solver_measured_and_changes_nothing(kwargs):
    W, X, _ = random_net(40, 6, rho=0.9, seed=1)
    plain = fp.fixed_point(W, X, **kwargs)
    res, calls = _watched(W, X, **kwargs)
    # watching changes nothing
    np.testing.assert_array_equal(res.r, plain.r)
    assert (res.iterations, res.work, res.method) == (plain.iterations, plain.work, plain.method)
    # the callback saw exactly the history's rows
    hist = res.residual_history
    assert hist.residuals.shape == (len(calls), 6)
    assert hist.iterations.tolist() == [it for it, _ in calls]
    np.testing.assert_array_equal(hist.residuals, np.array([r for _, r in calls]))
    # one row per iteration, from the first to the last: every step is measured
    assert hist.iterations.tolist() == list(range(1, res.iterations + 1))
    # each pattern's last measurement is the residual of the point it returns
    last = [col[~np.isnan(col)][-1] for col in hist.residuals.T]
    np.testing.assert_allclose(last, res.residuals, rtol=0, atol=1e-14)
    assert np.all(np.nanmax(hist.residuals[:-1], axis=1) > 1e-10)  # none converged before


@pytest.mark.parametrize("method", ["iterate", "euler"])
def test_without_history_the_callback_sees_the_scheduled_checks(method):
    W, X, _ = random_net(40, 6, rho=0.9, seed=1)
    kw = {"h": 0.5} if method == "euler" else {}
    calls = []
    res = fp.fixed_point(W, X, method=method, callback=lambda it, r: calls.append((it, r)), **kw)
    every = fp.fixed_point(W, X, method=method, history=True, **kw).residual_history
    its = [it for it, _ in calls]
    assert its[:2] == [1, 2] and its[-1] == res.iterations
    assert len(its) < res.iterations / 2  # a schedule, not every step
    assert "residual_history" not in res
    # the scheduled measurements are among history's, with the same values
    np.testing.assert_array_equal(np.array([r for _, r in calls]),
                                  every.residuals[np.array(its) - 1])


def test_history_matches_plain_iteration_recorded_by_hand():
    """history=True on plain iteration gives what a hand-written loop records, to round-off:
    the residual of each iterate r_0, r_1, ... while any pattern is above tol."""
    W, X, _ = random_net(50, 8, rho=0.8, seed=12)
    hist = fp.fixed_point(W, X, method="iterate", history=True).residual_history
    R, by_hand = np.zeros_like(X), []
    for _ in range(hist.iterations.size):
        F = np.tanh(W @ R + X)
        by_hand.append(np.max(np.abs(F - R), axis=0))
        R = F
    by_hand = np.array(by_hand)
    measured = ~np.isnan(hist.residuals)
    np.testing.assert_allclose(hist.residuals[measured], by_hand[measured], rtol=1e-9,
                               atol=1e-15)
    # a pattern stops being measured once it met the tolerance (and nothing else is NaN)
    assert np.all(by_hand[~measured] <= 1e-10)


def test_auto_history_numbers_its_stages_consecutively():
    W, X = rotational_net(40, 6, rho=2.0, seed=0)
    plain = fp.fixed_point(W, X)
    res, calls = _watched(W, X)
    np.testing.assert_array_equal(res.r, plain.r)
    assert (res.iterations, res.work, res.method) == (plain.iterations, plain.work, plain.method)
    assert res.method == "iterate+anderson+newton"
    its = res.residual_history.iterations
    assert np.all(np.diff(its) >= 1) and its[0] == 1 and its[-1] == res.iterations
    last = [col[~np.isnan(col)][-1] for col in res.residual_history.residuals.T]
    np.testing.assert_allclose(last, res.residuals, rtol=0, atol=1e-14)


def test_history_of_a_settling_auto_solve():
    """The bistable unit: auto's Euler stage runs on one pattern of one; the history
    covers every stage and its iterations never go back."""
    W = np.array([[2.0, 0, 0], [0, 0, -3.0], [0, 3.0, 0]])
    x = np.array([[0.05], [0.1], [0.1]])
    plain = fp.fixed_point(W, x)
    res, _ = _watched(W, x)
    np.testing.assert_array_equal(res.r, plain.r)
    assert (res.iterations, res.method) == (plain.iterations, plain.method)
    its = res.residual_history.iterations
    assert np.all(np.diff(its) >= 0) and its[-1] <= res.iterations
    assert res.residual_history.residuals[-1, 0] <= 1e-10


def test_history_where_nothing_is_measured_or_asked_wrongly():
    W, X, _ = random_net(10, 3, seed=1)
    direct = fp.fixed_point(W, X, "linear", history=True)
    assert direct.residual_history.residuals.shape == (0, 3)
    with pytest.raises(ValueError, match="return_trajectory"):
        fp.fixed_point(W, X, method="euler", max_iter=5, return_trajectory=True, history=True)
    with pytest.raises(TypeError, match="callback must be callable"):
        fp.fixed_point(W, X, callback="print")
    with pytest.raises(TypeError, match="history"):
        fp.fixed_point(W, X, history="yes")


def test_auto_reports_the_verdict_it_acted_on():
    """Commit d4f2c70: auto decides on its fallbacks and _finish reports from one
    measurement of the final r (here handed over with the run)."""
    from fpnotes import solvers
    from fpnotes.activations import Tanh

    for W, X in (random_net(30, 7, rho=0.5, seed=3)[:2], rotational_net(40, 6, seed=0)):
        run = solvers._auto(W, X, Tanh(), np.zeros_like(X), tol=1e-10, max_iter=None)
        np.testing.assert_array_equal(run.verdict.Z, W @ run.r + X)
        res = fp.fixed_point(W, X)
        np.testing.assert_array_equal(res.converged_patterns, run.verdict.ok)
        np.testing.assert_array_equal(res.residuals, run.verdict.residuals)
