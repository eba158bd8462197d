import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fpnotes  # noqa: E402
from fpnotes.bptt_training import train_task_bptt  # noqa: E402
from fpnotes.plotting.classification import (  # noqa: E402
    plot_best_runs,
    plot_classification_runs,
    plot_update_cost,
    smooth_curve,
)


@pytest.fixture(scope="module")
def runs():
    task = fpnotes.digits_task(N=20, seed=0)
    kw = dict(n_iter=6, batch_size=64, eig_every=2, eval_every=3)
    return [fpnotes.train_task(task, "dW3", lr, **kw) for lr in (0.05, 0.1)] + \
        [fpnotes.train_task(task, "dW1", 50.0, **kw), train_task_bptt(task, 0.1, steps=5, **kw)]


def test_smooth_curve():
    np.testing.assert_allclose(smooth_curve([1, 3, 5, 7], 2), [1, 2, 4, 6])
    assert smooth_curve([], 3).size == 0
    with pytest.raises(ValueError):
        smooth_curve([1, 2], 0)


def test_figures(runs):
    for fig in (plot_classification_runs(runs[:2]), plot_classification_runs(runs[2:3]),
                plot_best_runs(runs), plot_update_cost({"dW1": 1.0, "dW3": 0.5, "BPTT": 2.0})):
        assert isinstance(fig, plt.Figure)
        plt.close(fig)


def test_bad_input():
    with pytest.raises(ValueError):
        plot_classification_runs([])
    with pytest.raises(TypeError):
        plot_best_runs([{"a": 1}])
    with pytest.raises(ValueError):
        plot_update_cost({"dW3": 1.0}, reference="dW1")
