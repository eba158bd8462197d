"""Regression fixture for the training loops: a few representative runs, recorded once.

``tests/fixtures/training_regression.npz`` holds every field of the TrainResult of each
run below, computed with the training code as it was before issue 16 (one training
loop). The test re-runs them and asserts the same results: every history, eig and
test array equal (NaN where NaN), W equal to rtol 1e-13, the same message, iterations,
lost_at, diverged flag and the same set of fields.

Regenerate (only when a change of the numbers is intended, and say so in the commit):
``PYTHONPATH=. python tests/test_training_regression.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import fpnotes as fp
from fpnotes._result import Result
from fpnotes.bptt_training import train_bptt, train_task_bptt

FIXTURE = Path(__file__).parent / "fixtures" / "training_regression.npz"


def _linear():
    return fp.linear_task(N=20, m=10, seed=0)


def _linear_test_set():
    rng = np.random.default_rng(5)
    t = _linear()
    X_test = 0.1 * rng.standard_normal((20, 6))
    return t, X_test, 0.1 * rng.standard_normal((20, 6))


def _digits():
    return fp.digits_task(N=30, seed=0)


def _lin_dW1():
    t, Xt, Tt = _linear_test_set()
    return fp.train(t.W0, t.X, t.targets, rule="dW1", lr=0.5, n_iter=25, f=t.f,
                    eig_every=5, X_test=Xt, targets_test=Tt, eval_every=10)


def _lin_dW2():
    t = _linear()
    return fp.train_task(t, "dW2", 1.0, 25, compare="dW3", eig_every=7)


def _lin_dW3():
    t = _linear()
    return fp.train_task(t, "dW3", 1.0, 25, compare="dW1", eig_every=1, require_stable=True)


def _lin_dW1_minibatch_require_stable():
    # eig_every = 0 with require_stable: the criterion is judged every update, not recorded
    t = _linear()
    return fp.train_task(t, "dW1", 0.3, 12, batch_size=4, seed=3, require_stable=True)


def _digits_dW1():
    t = _digits()
    return fp.train_task(t, "dW1", 0.1, 30, batch_size=64, seed=0, eig_every=10,
                         eval_every=10, require_stable=True, compare="dW3")


def _digits_dW3():
    t = _digits()
    return fp.train_task(t, "dW3", 0.1, 30, batch_size=64, seed=1, eig_every=10,
                         eval_every=10, require_stable=True, compare="dW1")


def _digits_sample():
    t = _digits()
    return fp.train_task(t, "dW3", 0.25, 25, batch_size=100, seed=2, eig_every=3,
                         eval_every=12, stability_sample=8)


def _digits_bptt():
    t = _digits()
    return train_task_bptt(t, 0.1, 30, steps=30, h=0.2, batch_size=64, eig_every=10,
                           eval_every=25, seed=0)


def _bptt_full_batch():
    t = _linear()
    return train_bptt(t.W0, t.X, t.targets, lr=0.5, n_iter=12, steps=20, h=0.25, f="linear",
                      eig_every=5)


def _diverge_no_fixed_point():
    t = fp.digits_task(N=40, seed=0)
    return fp.train(t.W0 * 6, t.X[:, :64], t.targets[:64], rule="dW1", lr=5.0, n_iter=200,
                    f="tanh", loss="softmax_cross_entropy", readout=t.readout, eig_every=3,
                    solver={"method": "iterate", "max_iter": 50})


def _diverge_step_overflow():
    t = fp.linear_task(N=2, m=3, seed=0)
    return fp.train(t.W0, t.X, t.targets, rule="dW1", lr=1e6, n_iter=30, f="tanh", eig_every=1)


def _diverge_unstable():
    W0, X, Y = 3.0 * np.eye(4), np.zeros((4, 2)), np.zeros((4, 2))
    return fp.train(W0, X, Y, rule="dW1", lr=0.1, n_iter=3, require_stable=True, eig_every=2)


def _lost_not_required():
    # the same unstable fixed point, not required stable: the run goes on, lost_at = 0
    W0, X, Y = 3.0 * np.eye(4), np.zeros((4, 2)), np.zeros((4, 2))
    return fp.train(W0, X, Y, rule="dW3", lr=0.1, n_iter=3, eig_every=2)


def _diverge_bptt():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((10, 12)), 0.5 * rng.standard_normal((10, 12))
    return train_bptt(5.0 * np.eye(10), X, Y, lr=0.1, n_iter=3, steps=1000, h=0.5, f="linear")


def _digits_lost():
    # dW1 at a large rate loses its fixed point (an unstable pattern) and goes on
    t = _digits()
    return fp.train_task(t, "dW1", 1.0, 40, batch_size=64, eig_every=4, eval_every=20)


def _step_error_dW2():
    t = fp.linear_task(N=6, m=3, seed=0)
    return fp.train(t.W0, t.X, t.targets, rule="dW2", lr=1e300, n_iter=5, f="linear")


def _step_overflow_dW2():
    t = fp.linear_task(N=6, m=3, seed=0)
    return fp.train(t.W0, t.X, t.targets, rule="dW2", lr=1.7e308, n_iter=5, f="linear")


def _zero_step_compare():
    # zero inputs and targets: the step is zero and its angle with dW3's undefined
    return fp.train(0.5 * np.eye(4), np.zeros((4, 2)), np.zeros((4, 2)), rule="dW1", lr=0.1,
                    n_iter=3, compare="dW3")


def _capped_loss(R, Y):
    out = fp.squared_error(R, Y)
    return Result(loss=np.inf if out.loss < 0.04 else out.loss, delta=out.delta)


def _loss_not_finite():
    t = _linear()
    return fp.train(t.W0, t.X, t.targets, rule="dW3", lr=1.0, n_iter=25, f=t.f,
                    loss=_capped_loss, eig_every=4)


def _no_iterations():
    t = _digits()
    return fp.train_task(t, "dW3", 0.1, 0, eig_every=5)


RUNS = {
    "lin_dW1": _lin_dW1,
    "lin_dW2": _lin_dW2,
    "lin_dW3": _lin_dW3,
    "lin_dW1_minibatch_require_stable": _lin_dW1_minibatch_require_stable,
    "digits_dW1": _digits_dW1,
    "digits_dW3": _digits_dW3,
    "digits_sample": _digits_sample,
    "digits_bptt": _digits_bptt,
    "bptt_full_batch": _bptt_full_batch,
    "diverge_no_fixed_point": _diverge_no_fixed_point,
    "diverge_step_overflow": _diverge_step_overflow,
    "diverge_unstable": _diverge_unstable,
    "lost_not_required": _lost_not_required,
    "diverge_bptt": _diverge_bptt,
    "digits_lost": _digits_lost,
    "step_error_dW2": _step_error_dW2,
    "step_overflow_dW2": _step_overflow_dW2,
    "zero_step_compare": _zero_step_compare,
    "loss_not_finite": _loss_not_finite,
    "no_iterations": _no_iterations,
}

_GROUPS = ("history", "eig", "test")
_SCALARS = ("diverged", "message", "iterations", "rule", "lr", "interrupted", "lost_at",
            "steps", "h")


def _flatten(name, res):
    """A TrainResult as flat npz entries ``name/field`` (``name/group/field`` for arrays)."""
    out = {f"{name}/W": res.W, f"{name}/_fields": np.array(sorted(res.keys()))}
    for group in _GROUPS:
        out[f"{name}/{group}/_fields"] = np.array(list(res[group].keys()))
        for key, value in res[group].items():
            out[f"{name}/{group}/{key}"] = np.asarray(value)
    for key in _SCALARS:
        if key in res:
            value = res[key]
            out[f"{name}/{key}"] = np.array("None" if value is None else value)
    return out


def _regenerate():
    entries = {}
    for name, run in RUNS.items():
        entries.update(_flatten(name, run()))
    FIXTURE.parent.mkdir(exist_ok=True)
    np.savez_compressed(FIXTURE, **entries)
    print(f"wrote {len(RUNS)} runs ({len(entries)} arrays) to {FIXTURE}")


@pytest.fixture(scope="module")
def stored():
    with np.load(FIXTURE) as data:
        return dict(data)


@pytest.mark.parametrize("name", list(RUNS))
def test_training_results_are_unchanged(name, stored):
    expected = {k[len(name) + 1:]: v for k, v in stored.items() if k.startswith(name + "/")}
    got = _flatten(name, RUNS[name]())
    got = {k[len(name) + 1:]: v for k, v in got.items()}
    assert sorted(got) == sorted(expected)
    for key, want in expected.items():
        have = got[key]
        if key == "W":
            np.testing.assert_allclose(have, want, rtol=1e-13, atol=0, err_msg=key)
        elif want.dtype.kind in "fc":
            np.testing.assert_array_equal(have, want, err_msg=f"{name}: {key}")
        else:
            assert have.tolist() == want.tolist(), f"{name}: {key}"


if __name__ == "__main__":
    sys.exit(_regenerate())
