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


def test_pole_times():
    rng = np.random.default_rng(0)
    N = 30
    Ws, W1 = fpnotes.random_weights(N, 0.5, rng), fpnotes.random_weights(N, 2.5, rng)
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(N) - Ws))
    t = np.sort(mu.real[np.abs(mu.imag) < 1e-9])
    t = t[np.abs(t) <= 2]
    assert t.size >= 1
    assert checks.ch3_pole_times(t[::-1], Ws, W1, (-2, 2))
    assert not checks.ch3_pole_times(t[1:], Ws, W1, (-2, 2))
    assert not checks.ch3_pole_times(t + 0.01, Ws, W1, (-2, 2))
    assert not checks.ch3_pole_times(..., Ws, W1, (-2, 2))
