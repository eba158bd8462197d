import numpy as np
import pytest

import fpnotes
from fpnotes.bptt_training import BPTTUpdate, simulate_euler, train_bptt, train_task_bptt


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


def test_train_bptt_is_train_with_a_bptt_update():
    """One loop: train_bptt is fpnotes.train(update=BPTTUpdate(steps, h)), field for field."""
    W0, X, Y = _task()
    kw = dict(lr=0.3, n_iter=7, eig_every=3, X_test=X[:, :4], targets_test=Y[:, :4],
              eval_every=2, batch_size=5, seed=1)
    a = train_bptt(W0, X, Y, steps=15, h=0.2, **kw)
    b = fpnotes.train(W0, X, Y, update=BPTTUpdate(15, 0.2), **kw)
    assert sorted(a) == sorted(b) and "lost_at" not in a
    np.testing.assert_array_equal(a.W, b.W)
    for group in ("history", "eig", "test"):
        assert list(a[group]) == list(b[group])
        for key in a[group]:
            np.testing.assert_array_equal(a[group][key], b[group][key])
    assert (a.rule, a.steps, a.h, a.message) == ("BPTT", 15, 0.2, b.message)
    assert list(a.eig) == ["iteration", "max_real"]  # no fixed point to judge


def test_a_diverging_run_records_its_last_check_once():
    """Before the one loop, BPTT appended the final max Re lambda(W) even when the
    iteration that diverged had just recorded it: eig.iteration was [0, 0] here."""
    _, X, Y = _task()
    run = train_bptt(5.0 * np.eye(10), X, Y, lr=0.1, n_iter=3, steps=1000, h=0.5, f="linear",
                     eig_every=1)
    assert run.diverged and run.eig.iteration.tolist() == [0]
    assert run.eig.max_real.tolist() == [5.0]


def test_one_euler_loop_for_simulate_euler_and_the_bptt_forward_pass():
    W0, X, Y = _task()
    r = simulate_euler(W0, X, steps=25, h=0.3)
    np.testing.assert_array_equal(r, fpnotes.bptt_gradient(W0, X, Y, steps=25, h=0.3).r)


def test_bptt_update_checks_its_arguments_when_made():
    with pytest.raises(ValueError, match="steps"):
        BPTTUpdate(0)
    with pytest.raises(TypeError, match="h"):
        BPTTUpdate(5, h="0.1")
    assert repr(BPTTUpdate(5, 0.25)) == "BPTTUpdate(steps=5, h=0.25)"
