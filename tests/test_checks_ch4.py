import numpy as np

import fpnotes
from fpnotes.checks import ch4_dw3_step, ch4_gradient_from_A, ch4_one_neuron_dw2


def _data():
    t = fpnotes.linear_task(N=8, m=4, seed=3)
    return t.W0, t.X, t.targets


def test_one_neuron_dw2(capsys):
    w, x, y, lr = -0.5, 1.0, 2.0, 0.1
    a = 1 / (1 - w)
    a_plus = a - lr * 2 * (a * x - y) * x
    w_plus = 1 - 1 / a_plus
    assert ch4_one_neuron_dw2(w_plus, w, x, y, lr)
    assert "Correct!" in capsys.readouterr().out
    assert not ch4_one_neuron_dw2(a_plus, w, x, y, lr)
    assert "new value of a" in capsys.readouterr().out
    assert not ch4_one_neuron_dw2(w_plus - w, w, x, y, lr)
    assert "change of w" in capsys.readouterr().out
    assert not ch4_one_neuron_dw2(..., w, x, y, lr)
    assert "Not yet" in capsys.readouterr().out


def test_gradient_from_A(capsys):
    W, X, Y = _data()
    A = fpnotes.reparameterized_map(W, "linear")
    grad_A = 2 * (A @ X - Y) @ X.T / X.shape[1]
    right = A.T @ grad_A @ A.T
    assert ch4_gradient_from_A(right, W, X, Y)
    R = A @ X
    assert np.allclose(right, fpnotes.euclidean_gradient(W, X, R, 2 * (R - Y), "linear"))
    assert not ch4_gradient_from_A(A @ grad_A @ A, W, X, Y)
    assert "transposed" in capsys.readouterr().out
    assert not ch4_gradient_from_A(-right, W, X, Y)
    assert "sign" in capsys.readouterr().out
    assert not ch4_gradient_from_A(..., W, X, Y)
    assert not ch4_gradient_from_A(right[:3], W, X, Y)


def test_dw3_step(capsys):
    W, X, Y = _data()
    R = fpnotes.reparameterized_map(W, "linear") @ X
    right = fpnotes.step("dW3", W, X, R, 2 * (R - Y), "linear", 0.2)
    assert ch4_dw3_step(right, W, X, Y, 0.2)
    assert not ch4_dw3_step(W + right, W, X, Y, 0.2)
    assert "new W" in capsys.readouterr().out
    assert not ch4_dw3_step(right / 0.2, W, X, Y, 0.2)
    assert "scale" in capsys.readouterr().out
    assert not ch4_dw3_step(..., W, X, Y, 0.2)
    assert not ch4_dw3_step("abc", W, X, Y, 0.2)
