import numpy as np

import fpnotes
from fpnotes import checks


def test_one_neuron_minimum():
    assert checks.ch3_one_neuron_minimum(1 / 2 - 1.5 / 3, target=3, g=2, x=1.5)
    assert not checks.ch3_one_neuron_minimum(1 / 2, target=3, g=2, x=1.5)
    assert not checks.ch3_one_neuron_minimum(..., target=3)


def test_one_neuron_gradient():
    w, t, g, x = 0.3, 2.0, 1.5, 0.7
    L = lambda w: (g * x / (1 - g * w) - t) ** 2  # noqa: E731
    d = (L(w + 1e-7) - L(w - 1e-7)) / 2e-7
    assert checks.ch3_one_neuron_gradient(d, w, t, g, x)
    assert not checks.ch3_one_neuron_gradient(-d, w, t, g, x)
    assert not checks.ch3_one_neuron_gradient(..., w, t, g, x)


def test_pole_times(capsys):
    d = checks.ch3_line_data()
    Ws, W1 = d["W_star"], d["W1"]
    np.testing.assert_array_equal(Ws, fpnotes.linear_task().W_true)
    N = Ws.shape[0]
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(N) - Ws))
    t = np.sort(mu.real[np.abs(mu.imag) < 1e-9])
    t = t[np.abs(t) <= 0.8]
    assert t.size >= 1
    assert checks.ch3_pole_times(t[::-1], Ws, W1, (-0.8, 0.8))
    assert checks.ch3_pole_times(t)
    assert not checks.ch3_pole_times(t[1:], Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(t + 0.01, Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(..., Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(t + 0j, Ws, W1, (-0.8, 0.8))
    assert not checks.ch3_pole_times(t, Ws, 2 * W1, (-0.8, 0.8))
    assert "W1 is not the one the chapter built" in capsys.readouterr().out


def test_max_learning_rate(capsys):
    """Issue 12: L''(w*) = 2 r^4 / x^2, so eta < x^2 / r^4; the gain cancels."""
    g, x, target = 2.0, 1.5, 3.0
    w_star = 1 / g - x / target
    L = lambda w: (g * x / (1 - g * w) - target) ** 2  # noqa: E731
    h = 1e-4
    curvature = (L(w_star + h) - 2 * L(w_star) + L(w_star - h)) / h**2
    assert np.isclose(curvature, 2 * target**4 / x**2, rtol=1e-5)
    curvature = 2 * target**4 / x**2
    assert checks.ch3_max_learning_rate(2 / curvature, target=3, g=2, x=1.5)
    assert not checks.ch3_max_learning_rate(x**2 / (g**2 * target**4), target=3, g=2, x=1.5)
    assert "gain" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch3_max_learning_rate(curvature, target=3, g=2, x=1.5)
    assert "curvature" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch3_max_learning_rate(1 / curvature, target=3, g=2, x=1.5)
    assert "factor of 2" in capsys.readouterr().out.splitlines()[-1]
    assert not checks.ch3_max_learning_rate(..., target=3, g=2, x=1.5)
    assert not checks.ch3_max_learning_rate(2 / curvature + 0j, target=3, g=2, x=1.5)
    assert "complex" in capsys.readouterr().out.splitlines()[-1]
    # gradient descent at just below / above the bound
    for lr, converges in ((0.9 * 2 / curvature, True), (1.1 * 2 / curvature, False)):
        w = w_star + 1e-3
        for _ in range(200):
            r = g * x / (1 - g * w)
            w -= lr * 2 * (r - target) * r * g / (1 - g * w)
        assert (abs(w - w_star) < 1e-6) == converges
