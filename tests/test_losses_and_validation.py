import numpy as np
import pytest
from conftest import central_difference

import fpnotes as fp


def test_squared_error_value_and_delta():
    rng = np.random.default_rng(0)
    R, Y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    out = fp.squared_error(R, Y)
    assert out.loss == pytest.approx(np.sum((R - Y) ** 2) / 3)
    np.testing.assert_allclose(out.delta, 2 * (R - Y))
    C = rng.standard_normal((2, 4))
    out = fp.squared_error(R, Y[:2], readout=C)
    assert out.loss == pytest.approx(np.sum((C @ R - Y[:2]) ** 2) / 3)
    E = rng.standard_normal(R.shape)
    fd = central_difference(lambda r: fp.squared_error(r, Y[:2], C).loss, R, E)
    assert np.sum(out.delta * E) / 3 == pytest.approx(fd, rel=1e-7)


def test_cross_entropy_value_delta_accuracy():
    rng = np.random.default_rng(1)
    R = rng.standard_normal((5, 6))
    C = rng.standard_normal((3, 5))
    labels = np.array([0, 1, 2, 0, 1, 2])
    out = fp.softmax_cross_entropy(R, labels, C)
    logits = C @ R
    p = np.exp(logits) / np.exp(logits).sum(0)
    assert out.loss == pytest.approx(-np.mean(np.log(p[labels, np.arange(6)])))
    assert out.accuracy == pytest.approx(np.mean(logits.argmax(0) == labels))
    E = rng.standard_normal(R.shape)
    fd = central_difference(lambda r: fp.softmax_cross_entropy(r, labels, C).loss, R, E)
    assert np.sum(out.delta * E) / 6 == pytest.approx(fd, rel=1e-7)
    # large logits stay finite (log-sum-exp)
    assert np.isfinite(fp.softmax_cross_entropy(1e4 * R, labels, C).loss)


@pytest.mark.parametrize("bad, exc, match", [
    (np.ones((3, 4)), ValueError, "square"),
    (np.ones(3), ValueError, "square"),
    ("W", TypeError, "array"),
    (None, TypeError, "array"),
    (np.array([[np.nan, 0], [0, 0]]), ValueError, "non-finite"),
    (np.array([[np.inf, 0], [0, 0]]), ValueError, "non-finite"),
])
def test_bad_weights(bad, exc, match):
    with pytest.raises(exc, match=match):
        fp.fixed_point(bad, np.ones((2, 1)))


@pytest.mark.parametrize("X, match", [
    (np.ones((3, 2)), r"shape \(N,\) or \(N, m\) with N = 2"),
    (np.ones((2, 0)), "at least one pattern"),
    (np.ones((2, 2, 2)), "shape"),
    (np.array([[1.0], [np.nan]]), "non-finite"),
])
def test_bad_inputs(X, match):
    with pytest.raises(ValueError, match=match):
        fp.fixed_point(np.zeros((2, 2)), X)


def test_bad_options():
    W, X = np.zeros((2, 2)), np.ones((2, 1))
    with pytest.raises(ValueError, match="method must be one of"):
        fp.fixed_point(W, X, method="bisection")
    with pytest.raises(ValueError, match="on_fail"):
        fp.fixed_point(W, X, on_fail="sometimes")
    with pytest.raises(ValueError, match="damping"):
        fp.fixed_point(W, X, damping=1.5)
    with pytest.raises(ValueError, match="unknown activation"):
        fp.fixed_point(W, X, "sigmoidish")
    with pytest.raises(TypeError, match="activation name or an object"):
        fp.fixed_point(W, X, 3)
    with pytest.raises(ValueError, match="linear networks only"):
        fp.fixed_point(W, X, "tanh", method="direct")
    with pytest.raises(ValueError, match="r0 must have shape"):
        fp.fixed_point(W, X, r0=np.ones((3, 1)))
    with pytest.raises(ValueError, match="gain"):
        fp.Linear(-1.0)
    with pytest.raises(ValueError, match="neurons"):
        fp.fixed_point(W, X, fp.Linear([1.0, 2.0, 3.0]))


def test_bad_rule_inputs():
    W, X = np.zeros((3, 3)), np.ones((3, 2))
    R, D = np.ones((3, 2)), np.ones((3, 2))
    with pytest.raises(ValueError, match="unknown rule"):
        fp.update("dW9", W, X, R, D, "tanh", lr=0.1)
    with pytest.raises(ValueError, match="lr must be a positive"):
        fp.update("dW1", W, X, R, D, "tanh", lr=-0.1)
    with pytest.raises(TypeError, match="lr must be a positive number"):
        fp.update("dW1", W, X, R, D, "tanh", lr="fast")
    with pytest.raises(ValueError, match=r"delta must have shape \(3, 2\)"):
        fp.update("dW3", W, X, R, np.ones((3, 3)), "tanh", lr=0.1)
    with pytest.raises(ValueError, match=r"r must have shape"):
        fp.euclidean_gradient(W, X, np.ones((2, 2)), D)


def test_bad_loss_inputs():
    with pytest.raises(ValueError, match="targets must have shape"):
        fp.squared_error(np.ones((3, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="labels must be integers"):
        fp.softmax_cross_entropy(np.ones((3, 2)), np.array([0.5, 1.0]), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"lie in \[0, 2\)"):
        fp.softmax_cross_entropy(np.ones((3, 2)), np.array([0, 2]), np.ones((2, 3)))
    with pytest.raises(ValueError, match="readout"):
        fp.softmax_cross_entropy(np.ones((3, 2)), np.array([0, 1]), None)


def test_result_object_has_named_fields():
    res = fp.fixed_point(np.zeros((2, 2)), np.ones((2, 3)), "tanh")
    assert res.r is res["r"] and "converged" in dir(res)
    assert "converged" in repr(res)
    with pytest.raises(AttributeError):
        _ = res.no_such_field
