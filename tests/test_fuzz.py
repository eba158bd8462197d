"""Property-based tests over the public API (issue 15).

The contract, for any input: either a result with honest flags (a converged fixed
point is finite and meets its tolerance; a non-finite r is never called
converged; an array result is finite unless a warning said otherwise), or one of
the package's documented exceptions -- TypeError/ValueError whose message names
the offending argument, FixedPointError, StepError. Never a numpy-internal error.

Inputs: a valid problem (N <= 4 neurons, m <= 3 patterns, weights scaled from
1e-300 to 1e150) of which one argument may be replaced by a bad variant: another
shape, empty, a scalar, a vector, NaN/inf entries, complex, float32/int/bool, a
nested list (ragged too), a string or None. Derandomized, so CI sees the same examples.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fpnotes as fp
from fpnotes.rules import StepError

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
DOCUMENTED = (fp.FixedPointError, StepError)
SCALES = [1e-300, 0.1, 0.5, 1.0, 3.0, 1e150]


def _bad_variants(a):
    """Ways a user gets an array argument wrong (each keeps the array recognisable)."""
    a = np.asarray(a, dtype=np.float64)
    flat = a.ravel()
    with np.errstate(over="ignore", invalid="ignore"):  # 1e150 as float32 is inf: intended
        casts = [a.astype(np.float32), np.clip(a, -1e9, 1e9).astype(np.int64)]
    out = [a[..., :0], a.T if a.ndim == 2 and a.shape[0] != a.shape[-1] else a[:1],
           np.ones(a.shape + (2,)), 0.5, flat[:1].copy(), a.astype(np.complex128) + 1j,
           *casts, a > 0, a.tolist(), [[1.0, 2.0], [3.0]], "1.0", None]
    with_nan = a.copy()
    if with_nan.size:
        with_nan.flat[0] = np.nan
        out.append(with_nan)
        with_inf = a.copy()
        with_inf.flat[-1] = -np.inf
        out.append(with_inf)
    return out


@st.composite
def problems(draw, names=("W", "X")):
    """A small problem (W, X, r, delta, targets) and the name of the corrupted argument."""
    N = draw(st.integers(1, 4))
    m = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    W = draw(st.sampled_from(SCALES)) * rng.standard_normal((N, N)) / np.sqrt(N)
    X = draw(st.sampled_from([1e-300, 1.0, 1e150])) * rng.standard_normal((N, m))
    if draw(st.booleans()) and m == 1:
        X = X[:, 0]  # a single pattern as a vector
    args = {"W": W, "X": X, "r": np.tanh(X), "delta": rng.standard_normal(X.shape),
            "targets": rng.standard_normal(X.shape)}
    bad = None
    if draw(st.integers(0, 9)) < 4:  # 40% of the examples carry one bad argument
        bad = draw(st.sampled_from(names))
        if bad in args:  # the other names are corrupted by the test that draws them
            args[bad] = draw(st.sampled_from(_bad_variants(args[bad])))
    return args, bad


def _names_argument(exc, names):
    text = str(exc)
    return any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z_])", text) for n in names)


def check_contract(call, names):
    """Run ``call``; return its value and the warnings, or None after a documented error."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = call()
    except DOCUMENTED:
        return None, []
    except (TypeError, ValueError) as exc:
        assert _names_argument(exc, names), f"{type(exc).__name__} names no argument: {exc}"
        return None, []
    return value, [w.category for w in caught]


def assert_honest(res, tol):
    r = np.asarray(res.r)
    if res.converged:
        assert np.all(np.isfinite(r)) and res.residual <= max(tol, 1e-10) * (1 + np.abs(r).max())
    if not np.all(np.isfinite(r)):
        assert not res.converged
    assert res.failed.size == (~res.converged_patterns).sum()


ACTIVATIONS = ["tanh", "relu", "linear", fp.Linear(0.5)]


@FUZZ
@given(problems(names=("W", "X", "r0", "tol", "max_iter", "damping", "h", "memory")),
       st.sampled_from(fp.METHODS), st.sampled_from(ACTIVATIONS), st.data())
def test_fixed_point(problem, method, f, data):
    args, bad = problem
    opts = {"tol": 1e-10, "max_iter": data.draw(st.sampled_from([1, 7, 60])), "r0": None}
    # the method's own options (another method's is refused with a TypeError naming it)
    own = {k: v for k, v in {"damping": 1.0, "h": 0.2, "memory": 3}.items()
           if k in fp.METHOD_OPTIONS[method]}
    if bad in ("damping", "h", "memory", *opts):
        value = data.draw(st.sampled_from([-1, 0, np.nan, "1", 1j, None, 2.5, True]))
        (opts if bad in opts else own)[bad] = value
        if bad == "r0":
            opts["r0"] = data.draw(st.sampled_from(_bad_variants(np.zeros(np.shape(args["X"])))))
    if data.draw(st.booleans()):
        opts.update(own)  # as keywords
    else:
        opts["options"] = own
    names = ["W", "X", "f", "method", "damping", "h", "memory", *opts]
    res, _ = check_contract(lambda: fp.fixed_point(args["W"], args["X"], f, method=method,
                                                    on_fail="ignore", **opts), names)
    if res is not None:
        assert_honest(res, opts["tol"])
        assert res.r.shape == np.shape(args["X"])


@FUZZ
@given(problems(names=("W", "X", "r", "delta", "lr")), st.sampled_from(sorted(fp.RULES)),
       st.sampled_from(ACTIVATIONS), st.sampled_from([1e-3, 1.0, 1e6]))
def test_rules(problem, rule, f, lr):
    args, bad = problem
    if bad == "lr":
        lr = np.nan
    dW, caught = check_contract(lambda: fp.update(rule, args["W"], args["X"], args["r"],
                                                  args["delta"], f, lr),
                                ["rule", "W", "X", "r", "delta", "f", "lr", "gain"])
    if dW is not None:
        assert dW.shape == np.shape(args["W"]) and np.all(np.isfinite(dW))


@FUZZ
@given(problems(names=("W", "X", "r", "delta")), st.sampled_from(ACTIVATIONS),
       st.sampled_from(fp.gradients.ADJOINT_METHODS))
def test_gradients(problem, f, adjoint_method):
    args, bad = problem
    names = ["W", "X", "r", "delta", "f", "G", "adjoint method"]
    grad, caught = check_contract(
        lambda: fp.euclidean_gradient(args["W"], args["X"], args["r"], args["delta"], f,
                                      adjoint_method=adjoint_method), names)
    if grad is not None and not np.all(np.isfinite(grad)):
        assert fp.ConvergenceWarning in caught  # flagged: the adjoint solve failed


@FUZZ
@given(problems(names=("r", "targets", "readout", "labels")))
def test_losses(problem):
    args, bad = problem
    R = args["r"]
    N = np.shape(args["W"])[0]
    m = 1 if np.ndim(args["X"]) == 1 else np.shape(args["X"])[1]
    readout = np.ones((3, N)) if bad != "readout" else np.full((3, N), np.nan)
    labels = np.arange(m) % 3 if bad != "labels" else np.full(m, 7)
    if np.ndim(args["X"]) == 1:
        labels = labels[0]
    se, _ = check_contract(lambda: fp.squared_error(R, args["targets"]), ["R", "targets"])
    if se is not None:
        assert not np.isnan(se.loss) and se.delta.shape == np.shape(R)
    ce, _ = check_contract(lambda: fp.softmax_cross_entropy(R, labels, readout),
                           ["R", "labels", "readout"])
    if ce is not None:
        assert np.isfinite(ce.loss) and ce.delta.shape == np.shape(R)


@FUZZ
@given(problems(names=("W", "X", "r", "steps", "h")), st.sampled_from(ACTIVATIONS),
       st.data())
def test_simulate_residual_angle_landscape(problem, f, data):
    args, bad = problem
    steps = -1 if bad == "steps" else 5
    h = data.draw(st.sampled_from([np.nan, 0.0, 1.5, "0.1"])) if bad == "h" else 0.3
    traj, caught = check_contract(lambda: fp.simulate(args["W"], args["X"], f, steps=steps, h=h),
                                  ["W", "X", "f", "steps", "h", "r0"])
    if traj is not None and not np.all(np.isfinite(traj)):
        assert fp.DivergenceWarning in caught
    res, _ = check_contract(lambda: fp.residual(args["W"], args["r"], args["X"], f),
                            ["W", "R", "X", "f"])
    if res is not None:
        assert res.ndim == 1
    ang, _ = check_contract(lambda: fp.angle(args["W"], args["r"]), ["U", "V"])
    if ang is not None:
        assert 0 <= ang <= 180
    loss, _ = check_contract(lambda: fp.linear_loss(args["W"], args["X"], args["targets"]),
                             ["W", "X", "Y"])
    if loss is not None:
        assert not np.isnan(loss)


@FUZZ
@given(problems(names=("W", "X", "targets", "ts")), st.sampled_from(["tanh", "linear"]))
def test_bptt_gradient_and_loss_along_line(problem, f):
    args, bad = problem
    out, _ = check_contract(lambda: fp.bptt_gradient(args["W"], args["X"], args["targets"], f,
                                                     steps=4, h=0.5),
                            ["W", "X", "targets", "f", "steps", "h"])
    if out is not None:
        assert out.diverged or (np.isfinite(out.loss) and np.all(np.isfinite(out.gradient)))
    ts = [0.0, np.nan] if bad == "ts" else [-1.0, 0.0, 0.5]
    line, _ = check_contract(lambda: fp.loss_along_line(args["W"], args["W"], ts, args["X"],
                                                        args["targets"]),
                             ["W_star", "W1", "ts", "X", "Y"])
    if line is not None:
        assert not np.any(np.isnan(line.loss)) and line.loss.shape == (3,)


@settings(FUZZ, max_examples=25)
@given(problems(names=("W0", "X", "targets", "X_test", "eig_every")),
       st.sampled_from(sorted(fp.RULES)), st.sampled_from(["tanh", "linear"]),
       st.sampled_from([1e-2, 1.0, 1e6]))
def test_train(problem, rule, f, lr):
    args, bad = problem
    W0 = args["W"] if bad != "W0" else args["r"]
    X_test = args["X"] if bad != "X_test" else np.ones((7, 2))
    eig_every = 1 if bad != "eig_every" else -1
    out, _ = check_contract(
        lambda: fp.train(W0, args["X"], args["targets"], rule=rule, lr=lr, n_iter=3, f=f,
                         X_test=X_test, targets_test=args["targets"], eig_every=eig_every),
        ["W0", "X", "targets", "X_test", "targets_test", "eig_every", "rule"])
    if out is not None:
        assert np.all(np.isfinite(out.W))
        assert out.diverged or np.all(np.isfinite(out.history.loss))
        assert len(out.history.loss) == out.iterations or out.diverged


def test_the_fuzz_examples_include_bad_and_good_inputs():
    """A guard on the strategy itself: both kinds of example occur."""
    seen = set()

    @settings(FUZZ, max_examples=40)
    @given(problems())
    def collect(problem):
        seen.add(problem[1] is None)

    collect()
    assert seen == {True, False}


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
