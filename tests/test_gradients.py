import numpy as np
import pytest
from conftest import central_difference, random_net, rotational_net
from hypothesis import example, given, settings
from hypothesis import strategies as st

import fpnotes as fp


def loss_at_fixed_point(X, Y, f, readout=None, loss="squared_error"):
    loss_fn = fp.LOSSES[loss]

    def L(W):
        r = fp.fixed_point(W, X, f, tol=1e-14, on_fail="raise").r
        return loss_fn(r, Y, readout).loss if readout is not None else loss_fn(r, Y).loss
    return L


@pytest.mark.parametrize("f", ["tanh", "linear", fp.Linear(0.8)])
@pytest.mark.parametrize("N,m,seed", [(5, 1, 0), (12, 4, 1), (30, 9, 2)])
def test_euclidean_gradient_matches_finite_differences(f, N, m, seed):
    W, X, rng = random_net(N, m, rho=0.6, seed=seed)
    Y = 0.5 * rng.standard_normal((N, m))
    r = fp.fixed_point(W, X, f, tol=1e-14).r
    grad = fp.euclidean_gradient(W, X, r, fp.squared_error(r, Y).delta, f)
    L = loss_at_fixed_point(X, Y, f)
    for _ in range(3):
        E = rng.standard_normal((N, N))
        fd = central_difference(L, W, E)
        assert np.sum(grad * E) == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_gradient_with_readout_cross_entropy():
    W, X, rng = random_net(15, 8, seed=3)
    C = rng.standard_normal((4, 15)) / np.sqrt(15)
    labels = rng.integers(0, 4, 8)
    r = fp.fixed_point(W, X, tol=1e-14).r
    out = fp.softmax_cross_entropy(r, labels, C)
    grad = fp.euclidean_gradient(W, X, r, out.delta)
    L = loss_at_fixed_point(X, labels, "tanh", C, "softmax_cross_entropy")
    E = rng.standard_normal((15, 15))
    assert np.sum(grad * E) == pytest.approx(central_difference(L, W, E), rel=1e-6)


def per_pattern_gradient(W, X, r, delta, f):
    """The unbatched gradient formula (book Chapter 2), one linear solve per pattern."""
    act = fp.as_activation(f)
    N, m = X.shape
    total = np.zeros((N, N))
    for i in range(m):
        g = act.df(W @ r[:, i] + X[:, i])
        u = np.linalg.solve(np.eye(N) - W.T @ np.diag(g), delta[:, i])
        total += np.outer(g * u, r[:, i])
    return total / m


@pytest.mark.parametrize("method", ["auto", "batched_lu", "krylov", "iterate"])
def test_batched_gradient_equals_per_pattern_loop(method):
    W, X, rng = random_net(25, 7, seed=4)
    r = fp.fixed_point(W, X, tol=1e-14).r
    delta = rng.standard_normal(X.shape)
    batched = fp.euclidean_gradient(W, X, r, delta, adjoint_method=method)
    np.testing.assert_allclose(batched, per_pattern_gradient(W, X, r, delta, "tanh"),
                               rtol=1e-8, atol=1e-12)


def test_adjoint_iteration_diverges_when_spectral_radius_exceeds_one():
    W, X = rotational_net(20, 3, rho=2.0)
    fpr = fp.fixed_point(W, X)
    delta = np.ones_like(X)
    with pytest.warns(fp.ConvergenceWarning, match="recurrent backpropagation"):
        bad = fp.adjoint(W, fpr.gains, delta, method="iterate", max_iter=200)
    assert not bad.converged
    good = fp.adjoint(W, fpr.gains, delta, method="krylov")
    assert good.converged and good.residual < 1e-9
    with pytest.raises(fp.FixedPointError):
        fp.adjoint(W, fpr.gains, delta, method="iterate", max_iter=50, on_fail="raise")


def test_adjoint_lu_needs_equal_gains():
    W, X, _ = random_net(6, 3)
    G = np.tile(np.linspace(0.2, 1, 3), (6, 1))
    with pytest.raises(ValueError, match="same gains"):
        fp.adjoint(W, G, np.ones((6, 3)), method="lu")


def test_bptt_converges_to_implicit_gradient():
    W, X, rng = random_net(10, 4, seed=5)
    Y = rng.standard_normal((10, 4))
    r = fp.fixed_point(W, X, tol=1e-14).r
    implicit = fp.euclidean_gradient(W, X, r, fp.squared_error(r, Y).delta)
    errors = []
    for T in (10, 40, 160, 640):
        g = fp.bptt_gradient(W, X, Y, steps=T, h=0.1).gradient
        errors.append(np.linalg.norm(g - implicit) / np.linalg.norm(implicit))
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 1e-10


def test_bptt_is_the_exact_gradient_of_the_simulated_loss():
    W, X, rng = random_net(6, 3, seed=6)
    Y = rng.standard_normal((6, 3))
    T, h = 7, 0.3

    def L(W):
        return fp.squared_error(fp.simulate(W, X, steps=T, h=h)[-1], Y).loss
    g = fp.bptt_gradient(W, X, Y, steps=T, h=h).gradient
    E = rng.standard_normal((6, 6))
    assert np.sum(g * E) == pytest.approx(central_difference(L, W, E), rel=1e-7)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(2, 8), m=st.integers(1, 4), seed=st.integers(0, 10_000),
       rho=st.floats(0.1, 0.8))
# a pattern whose residual sat at tol: auto called it converged, _finish did not
@example(N=4, m=4, seed=4574, rho=0.5754033881104498)
def test_property_gradient_is_directional_derivative(N, m, seed, rho):
    W, X, rng = random_net(N, m, rho=rho, seed=seed)
    Y = rng.standard_normal((N, m))
    r = fp.fixed_point(W, X, tol=1e-14).r
    grad = fp.euclidean_gradient(W, X, r, fp.squared_error(r, Y).delta)
    E = rng.standard_normal((N, N))
    fd = central_difference(loss_at_fixed_point(X, Y, "tanh"), W, E)
    assert np.sum(grad * E) == pytest.approx(fd, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("rotational", [False, True])
def test_auto_adjoint_for_large_problems_iterates_then_falls_back(monkeypatch, rotational):
    from fpnotes import gradients
    monkeypatch.setattr(gradients, "BATCHED_LU_MAX_FLOPS", 0)
    if rotational:  # spectral radius of G W > 1: recurrent backprop diverges, GMRES solves it
        W, X = rotational_net(30, 4, rho=2.0, seed=3)
    else:
        W, X, _ = random_net(30, 4, seed=3)
    G = fp.fixed_point(W, X).gains
    D = np.random.default_rng(0).standard_normal(X.shape)
    out = fp.adjoint(W, G, D)
    assert out.converged and out.method == ("krylov" if rotational else "iterate")
    np.testing.assert_allclose(out.u, fp.adjoint(W, G, D, method="batched_lu").u, atol=1e-9)
