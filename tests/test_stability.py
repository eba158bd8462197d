"""fpnotes.stability: the book's stability criterion against brute-force eigenvalues."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpnotes.stability import (
    certified_stable,
    jacobian_eigenvalues,
    stability_criterion,
    unstable_patterns,
)


def _net(seed, N, m, rho, rank_one, input_scale):
    rng = np.random.default_rng(seed)
    W = rho * rng.standard_normal((N, N)) / np.sqrt(N)
    W += rank_one * np.outer(rng.standard_normal(N), rng.standard_normal(N)) / N
    G = 1.0 - np.tanh(input_scale * rng.standard_normal((N, m))) ** 2
    return W, G


nets = st.tuples(st.integers(0, 2**31), st.integers(2, 24), st.integers(1, 12),
                 st.floats(0.1, 2.5), st.floats(-3.0, 3.0), st.floats(0.0, 3.0))


@settings(max_examples=150, deadline=None)
@given(nets)
def test_certified_patterns_are_stable(params):
    W, G = _net(*params)
    exact = np.linalg.eigvals(G.T[:, :, None] * W).real.max(axis=1)
    assert np.all(exact[certified_stable(W, G)] < 1)


@settings(max_examples=150, deadline=None)
@given(nets)
def test_criterion_matches_brute_force(params):
    W, G = _net(*params)
    exact = np.linalg.eigvals(G.T[:, :, None] * W).real.max(axis=1)
    out = stability_criterion(W, G, chunk=5)
    np.testing.assert_array_equal(out.unstable, np.flatnonzero(exact >= 1))
    assert out.unstable_fraction == pytest.approx(np.mean(exact >= 1))
    assert out.max_real_W == pytest.approx(np.linalg.eigvals(W).real.max())
    if exact.max() >= 1:  # exact once some pattern is unstable
        assert out.max_real_GW == pytest.approx(exact.max())
    else:
        assert np.isnan(out.max_real_GW)
    np.testing.assert_array_equal(unstable_patterns(W, G), out.unstable)


def test_certificate_avoids_dense_eigensolves_for_a_stable_random_network():
    W, G = _net(0, 300, 64, 0.5, 0.0, 1.5)
    out = stability_criterion(W, G)
    assert out.n_dense == 0 and out.unstable_fraction == 0 and np.isnan(out.max_real_GW)


def test_lyapunov_certificate_handles_a_non_normal_network():
    """Feedforward between two stable blocks: G W is block triangular, so every
    eigenvalue comes from a diagonal block (real parts well below 1), while the
    symmetric part of W has eigenvalues far above 1."""
    N, h = 120, 60
    rng = np.random.default_rng(3)
    W = 0.4 * rng.standard_normal((N, N)) / np.sqrt(h)
    W[:h, h:] = 0.0
    W[h:, :h] *= 4.0
    G = 1.0 - np.tanh(0.5 * rng.standard_normal((N, 16))) ** 2
    assert np.linalg.eigvalsh(0.5 * (W + W.T))[-1] > 1.5
    exact = np.linalg.eigvals(G.T[:, :, None] * W).real.max(axis=1)
    assert exact.max() < 0.8
    out = stability_criterion(W, G)
    assert out.unstable.size == 0 and out.n_dense < G.shape[1] // 2


def test_negative_gains_fall_back_to_dense():
    W, G = _net(1, 6, 3, 1.0, 0.0, 1.0)
    G[0, 1] = -0.5
    assert not certified_stable(W, G)[1] or np.linalg.eigvals(G[:, 1] * W.T).real.max() < 1
    exact = np.linalg.eigvals(G.T[:, :, None] * W).real.max(axis=1)
    np.testing.assert_array_equal(stability_criterion(W, G).unstable, np.flatnonzero(exact >= 1))


def test_agrees_with_jacobian_eigenvalues():
    W, G = _net(2, 30, 10, 1.6, 1.0, 0.5)
    lam = jacobian_eigenvalues(W, G)
    np.testing.assert_array_equal(unstable_patterns(W, G), np.flatnonzero(lam.real.max(1) >= 0))


def test_cayley_certificate_proves_non_normal_stable_patterns():
    # A strongly non-normal W (symmetric part far above 1, eigenvalues left of 1):
    # the symmetric-part bound fails, the Cayley power test must still certify.
    rng = np.random.default_rng(3)
    N, m = 40, 6
    U = np.triu(rng.standard_normal((N, N)), 1) * 0.8
    W = U - 0.3 * np.eye(N)
    G = rng.uniform(0.2, 1.0, (N, m))
    assert np.linalg.eigvalsh(0.5 * (W + W.T))[-1] > 1
    exact = np.linalg.eigvals(G.T[:, :, None] * W).real.max(axis=1)
    assert np.all(exact < 1)
    assert certified_stable(W, G).all()


def test_sampled_criterion_is_exact_on_its_sample():
    W, G = _net(5, 20, 30, 1.5, 2.5, 1.0)
    exact = np.linalg.eigvals(G.T[:, :, None] * W).real.max(axis=1)
    out = stability_criterion(W, G, sample=10, seed=[4, 2])
    assert out.patterns.size == 10 and np.all(np.diff(out.patterns) > 0)
    np.testing.assert_array_equal(out.unstable, out.patterns[exact[out.patterns] >= 1])
    assert out.unstable_fraction == np.mean(exact[out.patterns] >= 1)
    again = stability_criterion(W, G, sample=10, seed=[4, 2])
    np.testing.assert_array_equal(again.patterns, out.patterns)
    full = stability_criterion(W, G, sample=30)
    np.testing.assert_array_equal(full.patterns, np.arange(30))
    with pytest.raises(ValueError, match="sample"):
        stability_criterion(W, G, sample=0)
