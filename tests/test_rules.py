import numpy as np
import pytest
from conftest import random_net
from hypothesis import given, settings
from hypothesis import strategies as st

import fpnotes as fp


def linear_setup(N=20, m=10, seed=0, gain=1.0):
    task = fp.linear_task(N=N, m=m, seed=seed)
    f = fp.Linear(gain)
    R = fp.fixed_point(task.W0, task.X, f).r
    delta = fp.squared_error(R, task.targets).delta
    return task, f, R, delta


def test_registry():
    assert list(fp.RULES) == ["dW1", "dW2", "dW3"]
    for key, rule in fp.RULES.items():
        assert rule.key == key and rule.name and rule.step.__doc__
    assert fp.RULES["dW2"].linear_only and not fp.RULES["dW3"].linear_only


def test_dW1_is_minus_lr_gradient():
    task, f, R, delta = linear_setup()
    g = fp.euclidean_gradient(task.W0, task.X, R, delta, f)
    np.testing.assert_allclose(fp.step("dW1", task.W0, task.X, R, delta, f, lr=0.3), -0.3 * g)
    np.testing.assert_allclose(fp.update("dW1", task.W0, task.X, R, delta, f, lr=0.3),
                               task.W0 - 0.3 * g)


def test_linear_gradient_identity():
    """grad_W L = A^T grad_A L A^T (book Chapter 4)."""
    task, f, R, delta = linear_setup()
    A = fp.reparameterized_map(task.W0)
    grad_A = delta @ task.X.T / task.X.shape[1]
    np.testing.assert_allclose(fp.euclidean_gradient(task.W0, task.X, R, delta, f),
                               A.T @ grad_A @ A.T, rtol=1e-9, atol=1e-14)


def test_dW2_is_an_exact_gradient_step_in_A():
    task, f, R, delta = linear_setup()
    lr = 0.7
    A = np.linalg.inv(np.eye(20) - task.W0)
    A_plus = A - lr * delta @ task.X.T / task.X.shape[1]
    W_plus = fp.update("dW2", task.W0, task.X, R, delta, f, lr=lr)
    np.testing.assert_allclose(np.linalg.inv(np.eye(20) - W_plus), A_plus, rtol=1e-9, atol=1e-12)


def test_dW2_with_gain():
    task, _, _, _ = linear_setup()
    g = np.linspace(0.5, 1.5, 20)
    f = fp.Linear(g)
    R = fp.fixed_point(task.W0, task.X, f).r
    delta = fp.squared_error(R, task.targets).delta
    A = np.linalg.inv(np.diag(1 / g) - task.W0)
    W_plus = fp.update("dW2", task.W0, task.X, R, delta, f, lr=0.5)
    np.testing.assert_allclose(np.linalg.inv(np.diag(1 / g) - W_plus),
                               A - 0.5 * delta @ task.X.T / 10, rtol=1e-9, atol=1e-12)


def test_dW2_rejects_nonlinear_networks():
    W, X, rng = random_net(5, 2)
    with pytest.raises(ValueError, match="linear networks only"):
        fp.update("dW2", W, X, np.zeros_like(X), np.zeros_like(X), "tanh", lr=0.1)


@pytest.mark.parametrize("gain", [1.0, 0.7])
def test_dW3_is_metric_gradient_for_linear_networks(gain):
    task, f, R, delta = linear_setup(gain=gain)
    grad = fp.euclidean_gradient(task.W0, task.X, R, delta, f)
    lr = 0.2
    dW3 = fp.step("dW3", task.W0, task.X, R, delta, f, lr=lr)
    expected = -lr * gain**4 * fp.metric_inverse(task.W0, grad, f)
    np.testing.assert_allclose(dW3, expected, rtol=1e-9, atol=1e-15)
    # and the section 3 form -lr P grad_A P
    P = np.eye(20) / gain - task.W0
    grad_A = delta @ task.X.T / 10
    np.testing.assert_allclose(dW3, -lr * gain**4 * P @ grad_A @ P, rtol=1e-9, atol=1e-15)


def test_metric_and_its_inverse():
    task, f, _, _ = linear_setup()
    rng = np.random.default_rng(1)
    U = rng.standard_normal((20, 20))
    A = np.linalg.inv(np.eye(20) - task.W0)
    np.testing.assert_allclose(fp.metric(task.W0, U), A.T @ A @ U @ A @ A.T, rtol=1e-9)
    np.testing.assert_allclose(fp.metric_inverse(task.W0, fp.metric(task.W0, U)), U, atol=1e-10)
    # <U, M(U)> = ||A U A||^2: the metric length of U is the length of the change in A
    assert np.sum(U * fp.metric(task.W0, U)) == pytest.approx(np.sum((A @ U @ A) ** 2))
    with pytest.raises(ValueError, match="linear networks only"):
        fp.metric(task.W0, U, "tanh")


def per_pattern_dW3(W, X, R, delta, f):
    act = fp.as_activation(f)
    N, m = X.shape
    eye = np.eye(N)
    total = np.zeros((N, N))
    for i in range(m):
        G = np.diag(act.df(W @ R[:, i] + X[:, i]))
        B = eye - G @ W
        total += (eye - W @ G) @ G @ np.outer(delta[:, i], R[:, i]) @ B.T @ B
    return total / m


def test_batched_dW3_equals_per_pattern_formula_for_tanh():
    W, X, rng = random_net(15, 6, seed=2)
    R = fp.fixed_point(W, X, tol=1e-13).r
    delta = rng.standard_normal(X.shape)
    np.testing.assert_allclose(fp.step("dW3", W, X, R, delta, "tanh", lr=1.0),
                               -per_pattern_dW3(W, X, R, delta, "tanh"), rtol=1e-10, atol=1e-14)


def test_dW3_is_a_descent_direction_for_tanh():
    W, X, rng = random_net(30, 20, seed=3)
    Y = rng.standard_normal((30, 20)) * 0.3
    R = fp.fixed_point(W, X).r
    delta = fp.squared_error(R, Y).delta
    grad = fp.euclidean_gradient(W, X, R, delta)
    assert np.sum(fp.step("dW3", W, X, R, delta, "tanh", lr=1.0) * grad) < 0


def test_angle_between_dW2_and_dW3_vanishes_with_lr():
    task, f, R, delta = linear_setup()
    angles = [fp.angle(fp.step("dW2", task.W0, task.X, R, delta, f, lr),
                       fp.step("dW3", task.W0, task.X, R, delta, f, lr))
              for lr in (1e-1, 1e-2, 1e-3, 1e-4)]
    assert all(a > b for a, b in zip(angles, angles[1:], strict=False))
    assert angles[-1] < 1e-2
    # first order: the angle shrinks in proportion to lr
    assert angles[1] / angles[2] == pytest.approx(10, rel=0.05)


def test_angle():
    U = np.array([[1.0, 0], [0, 0]])
    V = np.array([[0.0, 1], [0, 0]])
    assert fp.angle(U, V) == pytest.approx(90)
    assert fp.angle(U, U) == pytest.approx(0, abs=1e-6)
    assert fp.angle(U, -U) == pytest.approx(180)
    with pytest.raises(ValueError):
        fp.angle(U, 0 * U)


@settings(max_examples=20, deadline=None)
@given(N=st.integers(2, 7), m=st.integers(1, 5), seed=st.integers(0, 9999),
       lr=st.floats(1e-3, 1.0))
def test_property_dW3_equals_metric_inverse_gradient(N, m, seed, lr):
    rng = np.random.default_rng(seed)
    W = 0.5 * rng.standard_normal((N, N)) / np.sqrt(N)
    X = rng.standard_normal((N, m))
    R = fp.fixed_point(W, X, "linear").r
    delta = rng.standard_normal((N, m))
    grad = fp.euclidean_gradient(W, X, R, delta, "linear")
    np.testing.assert_allclose(fp.step("dW3", W, X, R, delta, "linear", lr),
                               -lr * fp.metric_inverse(W, grad), rtol=1e-7, atol=1e-12)
