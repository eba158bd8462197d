"""The solvers' numbers, frozen: r, iterations, work and the method string of representative
solves, recorded before the per-method options refactor (issue 16) and checked after it.

The fixture ``fixtures/solver_regression.npz`` was written by running this file as a
script (``python tests/test_solver_regression.py``) on commit 01a13b1, before the
refactor. Regenerate it only for a deliberate change of the numbers, and say so in
the commit. The comparison allows round-off in r (rtol 1e-12) and nothing else: the
iteration counts, the method strings and the verdicts must be identical.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import random_net, rotational_net  # noqa: E402

import fpnotes as fp  # noqa: E402
from fpnotes import solvers  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "solver_regression.npz"
FIELDS = ("r", "iterations", "work", "method", "residuals", "converged_patterns", "unstable",
          "gains", "message")


def _bistable():
    W = np.array([[2.0, 0, 0], [0, 0, -3.0], [0, 3.0, 0]])
    return W, np.array([[0.05], [0.1], [0.1]])


def _saddle_kept():
    W = np.array([[2.0, 0, 0], [0, 1.5, -3.0], [0, 3.0, 1.5]])
    return W, np.array([[0.05], [1e-3], [1e-3]])


def _outside_disc():
    rng = np.random.default_rng(0)
    W = -1.5 * np.eye(60) + 0.3 * rng.standard_normal((60, 60)) / np.sqrt(60)
    return W, 0.5 * rng.standard_normal((60, 8))


def _net(N, m, rho, seed):
    return lambda: random_net(N, m, rho=rho, seed=seed)[:2]


def _warm():
    W, X, _ = random_net(30, 10, seed=9)
    r0 = fp.fixed_point(W, X, method="iterate").r
    return W + 1e-6, X, r0


# name -> (problem, activation, keyword arguments, Newton-Krylov forced)
CASES = {
    "tanh_rho0.5_auto": (_net(30, 7, 0.5, 3), "tanh", {}, False),
    "tanh_rho0.9_auto": (_net(40, 6, 0.9, 1), "tanh", {}, False),
    "tanh_rho1.5_auto": (_net(40, 6, 1.5, 2), "tanh", {}, False),
    "tanh_rho0.9_auto_damping": (_net(40, 6, 0.9, 1), "tanh", {"damping": 0.8}, False),
    "tanh_rho0.9_auto_tol": (_net(40, 6, 0.9, 1), "tanh", {"tol": 1e-13}, False),
    "rotational_auto": (lambda: rotational_net(40, 6, rho=2.0, seed=0), "tanh", {}, False),
    "rotational_auto_capped": (lambda: rotational_net(20, 3, rho=2.0, seed=2), "tanh",
                               {"max_iter": 40}, False),
    "outside_disc_auto": (_outside_disc, "tanh", {}, False),
    "bistable_auto": (_bistable, "tanh", {}, False),
    "saddle_kept_auto": (_saddle_kept, "tanh", {}, False),
    "relu_auto": (_net(30, 7, 0.5, 3), "relu", {}, False),
    "relu_no_fixed_point_auto": (lambda: (np.array([[2.0]]), np.array([[1.0]])), "relu",
                                 {"max_iter": 500}, False),
    "linear_direct": (_net(25, 5, 0.5, 4), "linear", {}, False),
    "linear_direct_singular": (lambda: (np.eye(3), np.ones((3, 1))), "linear", {}, False),
    "iterate": (_net(40, 6, 0.9, 1), "tanh", {"method": "iterate"}, False),
    "iterate_damped": (_net(40, 6, 0.9, 1), "tanh", {"method": "iterate", "damping": 0.7},
                       False),
    "iterate_capped": (_net(15, 4, 0.5, 2), "tanh", {"method": "iterate", "max_iter": 3}, False),
    "iterate_warm": (_warm, "tanh", {"method": "iterate"}, False),
    "anderson": (_net(40, 6, 0.9, 1), "tanh", {"method": "anderson"}, False),
    "anderson_damped": (_net(30, 5, 0.9, 10), "tanh",
                        {"method": "anderson", "damping": 0.7, "memory": 3}, False),
    "anderson_rotational": (lambda: rotational_net(60, 8, rho=2.0, seed=4), "tanh",
                            {"method": "anderson", "damping": 0.5, "memory": 10}, False),
    "newton": (_net(40, 6, 0.9, 1), "tanh", {"method": "newton"}, False),
    "newton_rho1.5": (_net(40, 6, 1.5, 2), "tanh", {"method": "newton"}, False),
    "newton_krylov": (lambda: rotational_net(40, 5, rho=2.0, seed=1), "tanh",
                      {"method": "newton"}, True),
    "euler": (_net(40, 6, 0.9, 1), "tanh", {"method": "euler", "h": 0.5}, False),
    "euler_relu": (_net(30, 7, 0.5, 3), "relu", {"method": "euler", "h": 0.2,
                                                 "max_iter": 20000}, False),
    "euler_trajectory": (_net(8, 3, 0.5, 7), "tanh",
                         {"method": "euler", "h": 0.1, "max_iter": 40,
                          "return_trajectory": True}, False),
}


def solve(name):
    problem, f, kwargs, krylov = CASES[name]
    args = problem()
    W, X = args[:2]
    kwargs = dict(kwargs, on_fail="ignore")
    if len(args) == 3:
        kwargs["r0"] = args[2]
    saved = solvers.EXACT_NEWTON_MAX_FLOPS
    try:
        if krylov:
            solvers.EXACT_NEWTON_MAX_FLOPS = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fp.fixed_point(W, X, f, **kwargs)
    finally:
        solvers.EXACT_NEWTON_MAX_FLOPS = saved


def record():
    out = {}
    for name in CASES:
        res = solve(name)
        for field in FIELDS + ("trajectory",):
            if field in res:
                out[f"{name}/{field}"] = np.asarray(res[field])
    FIXTURE.parent.mkdir(exist_ok=True)
    np.savez_compressed(FIXTURE, **out)
    return out


@pytest.fixture(scope="module")
def expected():
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_unchanged(name, expected):
    res = solve(name)
    for field in FIELDS + ("trajectory",):
        key = f"{name}/{field}"
        assert (field in res) == (key in expected), field
        if key not in expected:
            continue
        want, got = expected[key], np.asarray(res[field])
        if field in ("r", "gains", "trajectory", "residuals"):
            # residuals near tol carry the round-off of r relative to its size
            scale = 1 + np.nanmax(np.abs(expected[f"{name}/r"]), initial=0.0)
            atol = 1e-15 * scale if field == "residuals" else 1e-15
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol, err_msg=field)
        else:
            np.testing.assert_array_equal(got, want, err_msg=field)


if __name__ == "__main__":
    for key, value in record().items():
        if key.endswith(("/method", "/iterations", "/work")):
            print(f"{key:40s} {value}")
