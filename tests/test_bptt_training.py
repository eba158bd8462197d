import numpy as np
import pytest

import fpnotes
from fpnotes.bptt_training import simulate_euler, train_bptt, train_task_bptt


def _task():
    rng = np.random.default_rng(0)
    N, n = 10, 12
    W0 = fpnotes.random_weights(N, 0.5, rng)
    X = rng.standard_normal((N, n))
    Y = 0.5 * rng.standard_normal((N, n))
    return W0, X, Y


def test_first_step_is_minus_lr_times_bptt_gradient():
    W0, X, Y = _task()
    run = train_bptt(W0, X, Y, lr=0.1, n_iter=1, steps=20, h=0.2)
    g = fpnotes.bptt_gradient(W0, X, Y, "tanh", steps=20, h=0.2).gradient
    np.testing.assert_allclose(run.W, W0 - 0.1 * g)
    assert run.rule == "BPTT" and run.iterations == 1 and not run.diverged


def test_loss_decreases_and_records():
    W0, X, Y = _task()
    run = train_bptt(W0, X, Y, lr=0.5, n_iter=30, steps=30, h=0.2, eig_every=10,
                     X_test=X, targets_test=Y, eval_every=10)
    assert run.history.loss[-1] < run.history.loss[0]
    assert run.history.loss.shape == (30,)
    np.testing.assert_array_equal(run.eig.iteration, [0, 10, 20, 30])
    np.testing.assert_array_equal(run.test.iteration, [0, 10, 20, 30])
    assert np.all(np.isfinite(run.test.loss))


def test_simulate_euler_approaches_fixed_point():
    W0, X, _ = _task()
    r = simulate_euler(W0, X, steps=400, h=0.2)
    np.testing.assert_allclose(r, fpnotes.fixed_point(W0, X, "tanh").r, atol=1e-8)


def test_minibatches_and_classification_task():
    task = fpnotes.digits_task(N=20, seed=0)
    run = train_task_bptt(task, 0.05, 5, steps=10, h=0.3, batch_size=50, eval_every=5)
    assert run.history.accuracy.shape == (5,)
    assert 0 <= run.test.accuracy[-1] <= 1


def test_divergence_is_reported():
    _, X, Y = _task()
    W0 = 5.0 * np.eye(10)  # linear dynamics that blow up: r_T overflows
    run = train_bptt(W0, X, Y, lr=0.1, n_iter=3, steps=1000, h=0.5, f="linear")
    assert run.diverged and run.iterations == 0 and "diverged" in run.message


@pytest.mark.parametrize("kwargs, exc", [(dict(steps=0), ValueError), (dict(h=0.0), ValueError),
                                         (dict(h="a"), TypeError), (dict(n_iter=-1), ValueError),
                                         (dict(batch_size=0), ValueError)])
def test_bad_input(kwargs, exc):
    W0, X, Y = _task()
    args = dict(lr=0.1, n_iter=2, steps=5, h=0.2)
    args.update(kwargs)
    with pytest.raises(exc):
        train_bptt(W0, X, Y, **args)
