"""Core benchmark: fixed-point solvers and learning rules, as ratios measured in one run.

Setup (issue 2): N = 300 tanh units, m = 512 patterns, W = 0.5 N(0,1)/sqrt(N),
X = N(0,1). The unit of cost is one (N, N) @ (N, m) product ("GEMM").
Run: `make bench` or `.venv/bin/python benchmarks/bench_core.py [--quick]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fpnotes as fp


def best_time(fn, repeat=5, number=1):
    """Best wall time of ``number`` calls, over ``repeat`` trials (seconds per call)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            out = fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best, out


def euler_500(W, X, h=0.01, steps=500):
    """The paper's simulation: 500 forward-Euler steps from r = 0, written plainly."""
    R = np.zeros_like(X)
    for _ in range(steps):
        R = R + h * (np.tanh(W @ R + X) - R)
    return R


def dW1_per_pattern(W, X, R, delta):
    N, m = X.shape
    total = np.zeros((N, N))
    for i in range(m):
        g = 1 - np.tanh(W @ R[:, i] + X[:, i]) ** 2
        u = np.linalg.solve(np.eye(N) - W.T * g, delta[:, i])
        total += np.outer(g * u, R[:, i])
    return -total / m


def dW3_per_pattern_formula(W, X, R, delta):
    """The nonlinear dW3 formula (book Chapter 6) read literally: N x N matrices per pattern."""
    N, m = X.shape
    eye = np.eye(N)
    total = np.zeros((N, N))
    for i in range(m):
        G = np.diag(1 - np.tanh(W @ R[:, i] + X[:, i]) ** 2)
        B = eye - G @ W
        total += (eye - W @ G) @ G @ np.outer(delta[:, i], R[:, i]) @ B.T @ B
    return -total / m


def dW3_per_pattern_vectors(W, X, R, delta):
    """The same sum with matrix-vector products per pattern (a careful loop)."""
    N, m = X.shape
    total = np.zeros((N, N))
    for i in range(m):
        g = 1 - np.tanh(W @ R[:, i] + X[:, i]) ** 2
        gd = g * delta[:, i]
        left = gd - W @ (g * gd)
        a = R[:, i] - g * (W @ R[:, i])
        right = a - W.T @ (g * a)
        total += np.outer(left, right)
    return -total / m


def main(quick=False):
    N, m = 300, 512
    rng = np.random.default_rng(0)
    W = 0.5 * rng.standard_normal((N, N)) / np.sqrt(N)
    X = rng.standard_normal((N, m))
    Y = 0.5 * rng.standard_normal((N, m))
    rep = 3 if quick else 5

    gemm, _ = best_time(lambda: W @ X, repeat=rep, number=20)
    print(f"N = {N}, m = {m}, tanh, W = 0.5 N(0,1)/sqrt(N)")
    print(f"unit: one W @ R = {gemm * 1e3:.3f} ms\n")

    t_euler, R_euler = best_time(lambda: euler_500(W, X), repeat=1 if quick else 2)
    res_euler = fp.residual(W, R_euler, X).max()
    print(f"{'forward solve':<28}{'time/GEMM':>10}{'residual':>11}{'iters':>7}"
          f"{'vs 500 Euler':>14}")
    print(f"{'500 Euler steps, h = 0.01':<28}{t_euler / gemm:>10.0f}{res_euler:>11.1e}{500:>7}"
          f"{1.0:>13.1f}x")
    for method in ("auto", "iterate", "anderson", "newton"):
        t, res = best_time(lambda method=method: fp.fixed_point(W, X, method=method),
                           repeat=rep if method in ("auto", "iterate") else 1)
        print(f"{method:<28}{t / gemm:>10.0f}{res.residual:>11.1e}{res.iterations:>7}"
              f"{t_euler / t:>13.1f}x")
    fpr = fp.fixed_point(W, X)
    R, delta = fpr.r, fp.squared_error(fpr.r, Y).delta

    print(f"\n{'learning rule':<34}{'batched/GEMM':>13}{'loop/GEMM':>11}{'speed-up':>10}")
    m_loop = 64 if quick else m  # the loops are linear in m: time a slice, scale up
    scale = m / m_loop
    sl = slice(0, m_loop)
    rows = [
        ("dW1 (implicit gradient)", lambda: fp.step("dW1", W, X, R, delta, "tanh", 1.0),
         lambda: dW1_per_pattern(W, X[:, sl], R[:, sl], delta[:, sl])),
        ("dW3 vs literal per-pattern formula", lambda: fp.step("dW3", W, X, R, delta, "tanh", 1.0),
         lambda: dW3_per_pattern_formula(W, X[:, sl], R[:, sl], delta[:, sl])),
        ("dW3 vs matrix-vector loop", lambda: fp.step("dW3", W, X, R, delta, "tanh", 1.0),
         lambda: dW3_per_pattern_vectors(W, X[:, sl], R[:, sl], delta[:, sl])),
    ]
    for name, batched, loop in rows:
        tb, _ = best_time(batched, repeat=rep)
        tl, _ = best_time(loop, repeat=1 if "literal" in name or "dW1" in name else rep)
        tl *= scale
        print(f"{name:<34}{tb / gemm:>13.1f}{tl / gemm:>11.0f}{tl / tb:>9.0f}x")
    if quick:
        print(f"(loops timed on {m_loop} patterns and scaled to m = {m})")
    np.testing.assert_allclose(fp.step("dW3", W, X[:, sl], R[:, sl], delta[:, sl], "tanh", 1.0),
                               dW3_per_pattern_vectors(W, X[:, sl], R[:, sl], delta[:, sl]),
                               rtol=1e-8, atol=1e-14)

    def training_step(r0=None):
        res = fp.fixed_point(W, X, r0=r0)
        d = fp.squared_error(res.r, Y).delta
        return fp.update("dW3", W, X, res.r, d, "tanh", lr=0.01)

    t_cold, _ = best_time(training_step, repeat=rep)
    W_next = training_step()
    t_warm, _ = best_time(lambda: (fp.fixed_point(W_next, X, r0=R),), repeat=rep)
    t_rule, _ = best_time(lambda: fp.update("dW3", W, X, R, delta, "tanh", lr=0.01), repeat=rep)
    print(f"\nwhole training step, solve from r = 0 + dW3: {t_cold / gemm:.0f} GEMM")
    print(f"whole training step, warm-started solve + dW3: {(t_warm + t_rule) / gemm:.0f} GEMM")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter loops")
    main(parser.parse_args().quick)
