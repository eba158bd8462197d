import numpy as np

import fpnotes
from fpnotes.checks import ch6_accuracy, ch6_bptt_memory, ch6_cross_entropy_delta


def _problem():
    rng = np.random.default_rng(0)
    N, m, K = 15, 8, 4
    W = fpnotes.random_weights(N, 0.5, rng)
    X = rng.standard_normal((N, m))
    C = rng.standard_normal((K, N)) / np.sqrt(N)
    y = rng.integers(0, K, m)
    R = fpnotes.fixed_point(W, X, "tanh").r
    return W, X, C, y, R


def test_accuracy(capsys):
    W, X, C, y, R = _problem()
    acc = np.mean(np.argmax(C @ R, axis=0) == y)
    assert ch6_accuracy(acc, W, X, C, y)
    assert "Correct!" in capsys.readouterr().out
    assert not ch6_accuracy(acc + 0.125, W, X, C, y)
    assert not ch6_accuracy(100 * acc if acc > 0.02 else 50.0, W, X, C, y)
    assert "percent" in capsys.readouterr().out.splitlines()[-1]
    assert not ch6_accuracy(..., W, X, C, y)
    assert "Not yet" in capsys.readouterr().out


def test_cross_entropy_delta(capsys):
    W, X, C, y, R = _problem()
    z = C @ R
    p = np.exp(z - z.max(axis=0))
    p /= p.sum(axis=0)
    p[y, np.arange(y.size)] -= 1
    delta = C.T @ p
    assert ch6_cross_entropy_delta(delta, W, X, C, y)
    assert not ch6_cross_entropy_delta(-delta, W, X, C, y)
    assert "sign" in capsys.readouterr().out.splitlines()[-1]
    assert not ch6_cross_entropy_delta(delta / y.size, W, X, C, y)
    assert "divided by m" in capsys.readouterr().out.splitlines()[-1]
    assert not ch6_cross_entropy_delta(delta[:, :3], W, X, C, y)
    assert not ch6_cross_entropy_delta(..., W, X, C, y)


def test_bptt_memory(capsys):
    assert ch6_bptt_memory(8 * 201 * 300 * 512, 200, 300, 512)
    assert not ch6_bptt_memory(201 * 300 * 512, 200, 300, 512)
    assert "8 bytes" in capsys.readouterr().out.splitlines()[-1]
    assert not ch6_bptt_memory(8 * 200 * 300 * 512, 200, 300, 512)
    assert not ch6_bptt_memory(..., 200, 300, 512)
    assert not ch6_bptt_memory("x", 200, 300, 512)
