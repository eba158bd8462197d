import numpy as np

import fpnotes
from fpnotes import checks
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


# ---------------------------------------------------------------- the function exercise


def cross_entropy_delta(R, labels, readout):
    z = readout @ R
    p = np.exp(z - z.max(axis=0))
    p /= p.sum(axis=0)
    p[labels, np.arange(R.shape[1])] -= 1.0
    return readout.T @ p


def _softmax(z, axis=0):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def last_line(capsys):
    return capsys.readouterr().out.splitlines()[-1]


def test_softmax_delta_problem():
    R, y, C = checks.ch6_softmax_delta_problem(0)
    task = fpnotes.digits_task(N=60, seed=0)      # seed 0: the chapter's digits, 5 images
    np.testing.assert_array_equal(y, task.targets[:5])
    np.testing.assert_array_equal(C, task.readout)
    np.testing.assert_allclose(R, fpnotes.fixed_point(task.W0, task.X[:, :5], "tanh").r,
                               atol=1e-9)
    assert checks.ch6_softmax_delta.hidden_seeds == (1, 2)
    shapes = {(R.shape, C.shape) for R, _, C in map(checks.ch6_softmax_delta_problem, (1, 2, 3))}
    assert len(shapes) == 3
    assert all(R_shape[0] != 60 and R_shape[1] != 5 and C_shape[0] != 10
               for R_shape, C_shape in shapes)
    for seed in (1, 2):
        R, y, C = checks.ch6_softmax_delta_problem(seed)
        assert np.issubdtype(y.dtype, np.integer) and 0 <= y.min() and y.max() < C.shape[0]
        # the large-logit call is large enough to overflow a naive softmax
        assert np.abs(checks.ch6.LARGE_LOGITS * C @ R).max() > 710


def test_softmax_delta_judges_the_function_on_every_seed(capsys):
    def with_fpnotes(R, labels, readout):
        return fpnotes.softmax_cross_entropy(R, labels, readout).delta

    def with_a_loop(R, labels, readout):        # one pattern at a time, log-sum-exp form
        cols = []
        for i in range(R.shape[1]):
            z = readout @ R[:, i]
            p = np.exp(z - z.max() - np.log(np.exp(z - z.max()).sum()))
            p[labels[i]] -= 1
            cols.append(readout.T @ p)
        return np.column_stack(cols)

    for seed in (0, 1, 2, 3):
        for func in (cross_entropy_delta, with_fpnotes, with_a_loop):
            assert checks.ch6_softmax_delta(func, seed=seed), func.__name__
            assert last_line(capsys) == "Correct!"


def test_softmax_delta_hard_coded_seed_0_fails_the_hidden_seeds(capsys):
    R, y, C = checks.ch6_softmax_delta_problem(0)
    small, large = cross_entropy_delta(R, y, C), cross_entropy_delta(R, y, 1000 * C)

    def hard_coded(R, labels, readout):
        return large if np.abs(readout).max() > 10 else small

    assert checks.ch6_softmax_delta(hard_coded)
    for seed in checks.ch6_softmax_delta.hidden_seeds:
        assert not checks.ch6_softmax_delta(hard_coded, seed=seed)
        assert f"seed {seed}" in last_line(capsys)

    def ten_classes(R, labels, readout):          # the digits' K = 10 written in
        p = _softmax(readout @ R)
        p -= np.eye(10)[:, labels]
        return readout.T @ p

    assert checks.ch6_softmax_delta(ten_classes)
    assert not checks.ch6_softmax_delta(ten_classes, seed=1)
    assert "seed 1" in last_line(capsys)


def test_softmax_delta_says_what_is_wrong(capsys):
    def naive(R, labels, readout):
        p = np.exp(readout @ R)
        p /= p.sum(axis=0)
        p[labels, np.arange(R.shape[1])] -= 1
        return readout.T @ p

    def global_max(R, labels, readout):
        z = readout @ R
        p = np.exp(z - z.max())
        p /= p.sum(axis=0)
        p[labels, np.arange(R.shape[1])] -= 1
        return readout.T @ p

    def every_column(R, labels, readout):
        p = _softmax(readout @ R)
        p[labels] -= 1
        return readout.T @ p

    def over_patterns(R, labels, readout):
        p = _softmax(readout @ R, axis=1)
        p[labels, np.arange(R.shape[1])] -= 1
        return readout.T @ p

    def wrt_logits(R, labels, readout):
        p = _softmax(readout @ R)
        p[labels, np.arange(R.shape[1])] -= 1
        return p

    cases = [
        (naive, "NaN or inf"),
        (global_max, "largest logit"),       # NaN here: whole columns underflow
        (lambda R, y, C: cross_entropy_delta(R, y, C) / R.shape[1], "divided by m"),
        (lambda R, y, C: -cross_entropy_delta(R, y, C), "wrong sign"),
        (lambda R, y, C: 2 * cross_entropy_delta(R, y, C), "scale"),
        (lambda R, y, C: cross_entropy_delta(R, y, C).T, "one column per pattern"),
        (wrt_logits, "derivative with respect to the logits"),
        (lambda R, y, C: C.T @ _softmax(C @ R), "the -1 of the correct class is missing"),
        (every_column, "once per column"),
        (over_patterns, "normalizes over the patterns"),
        (lambda R, y, C: None, "returns None"),
        (lambda R, y, C: cross_entropy_delta(R, y, C) + 0j, "complex"),
    ]
    for func, words in cases:
        assert not checks.ch6_softmax_delta(func, seed=2)
        out = last_line(capsys)
        assert out.startswith("Not yet: ") and words in out and "seed 2" in out, (words, out)
    assert not checks.ch6_softmax_delta(naive)
    assert "right at moderate logits, but with the readout times 1000" in last_line(capsys)

    def clipped(R, labels, readout):              # finite at large logits, but wrong
        p = _softmax(np.clip(readout @ R, -700, 700))
        p[labels, np.arange(R.shape[1])] -= 1
        return readout.T @ p

    assert not checks.ch6_softmax_delta(clipped)
    assert "each column's own largest logit" in last_line(capsys)


def test_softmax_delta_never_raises_on_a_broken_function(capsys):
    def stub(R, labels, readout):
        """d(loss)/dr."""
        raise NotImplementedError("Exercise ex-ch6-delta-function: write the body")

    assert not checks.ch6_softmax_delta(stub, seed=1)
    assert last_line(capsys).startswith("Not yet: cross_entropy_delta still raises "
                                        "NotImplementedError: write its body")
    assert not checks.ch6_softmax_delta(...)
    assert "placeholder" in last_line(capsys)
    assert not checks.ch6_softmax_delta(np.zeros((60, 5)))
    assert "should be a function, got ndarray" in last_line(capsys)
    assert not checks.ch6_softmax_delta(lambda R, labels: R)
    assert "raised TypeError" in last_line(capsys)
    assert not checks.ch6_softmax_delta(lambda R, y, C: C @ _softmax(C @ R))   # C, not C^T
    assert "raised ValueError" in last_line(capsys)


def test_softmax_delta_sees_arguments_changed_in_place(capsys):
    def in_place(R, labels, readout):
        readout *= 2
        return cross_entropy_delta(R, labels, readout / 2)

    assert not checks.ch6_softmax_delta(in_place, seed=1)
    assert "changed its argument readout in place" in last_line(capsys)
    assert checks.ch6_softmax_delta(cross_entropy_delta, seed=1)
