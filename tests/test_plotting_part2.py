"""Smoke tests of the figures of chapters 4 and 5 (fpnotes.plotting.reparam / .metrics)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fpnotes  # noqa: E402
from fpnotes.plotting import (  # noqa: E402
    interactive_metric_slice,
    metric_slice_task,
    plot_final_eigenvalues,
    plot_metric_slice,
    plot_reparam_one_neuron,
    plot_rule_comparison_curves,
    plot_update_angles,
    slice_gradients,
    slice_metric,
    slice_rule_path,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_one_neuron_figure():
    fig = plot_reparam_one_neuron(x=1.0, y=2.0)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError):
        plot_reparam_one_neuron(x=-1.0)
    with pytest.raises(TypeError):
        plot_reparam_one_neuron(y="a")


def test_rule_curves_angles_eigenvalues():
    task = fpnotes.linear_task(N=10, m=5, seed=0)
    results = {(r, lr): fpnotes.train_task(task, r, lr, 20, compare="dW1" if r == "dW2" else None)
               for r in ("dW1", "dW2") for lr in (0.1, 1.0)}
    fig = plot_rule_comparison_curves(results)
    assert len(fig.axes) == 2
    fig = plot_update_angles({"dW2 vs dW1": results[("dW2", 1.0)].history.angle})
    assert len(fig.axes) == 2
    run = results[("dW2", 1.0)]
    fig = plot_update_angles({"run": run}, log=False)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), run.history.angle)
    with pytest.raises(ValueError, match="compare"):
        plot_update_angles({"no angles": results[("dW1", 1.0)]})
    fig = plot_final_eigenvalues({r: results[(r, 1.0)].W for r in ("dW1", "dW2")}, W0=task.W0)
    assert len(fig.axes) == 2
    with pytest.raises(TypeError):
        plot_rule_comparison_curves({})
    with pytest.raises(ValueError):
        plot_update_angles({"x": np.ones((2, 2))})
    with pytest.raises(ValueError):
        plot_final_eigenvalues({"dW1": np.ones((2, 3))})


def test_slice_helpers_match_the_package():
    sl = metric_slice_task(coupling=0.5, target=(0.5, 0.3))
    W = sl.W_base + 0.1 * sl.E1 - 0.2 * sl.E2
    g = slice_metric(W, sl.E1, sl.E2)
    A = fpnotes.reparameterized_map(W)
    u = np.array([0.3, -0.7])
    U = u[0] * sl.E1 + u[1] * sl.E2
    assert np.isclose(u @ g @ u, np.linalg.norm(A @ U @ A) ** 2)
    gr = slice_gradients(W, sl.E1, sl.E2, sl.X, sl.Y)
    assert np.allclose(g @ gr.metric, gr.euclidean)
    assert gr.loss > 0
    with pytest.raises(ValueError):
        metric_slice_task(coupling=0.0, target=(1.0, 0.0))  # on a pole
    with pytest.raises(ValueError):
        slice_metric(W, np.eye(3), sl.E2)


def test_slice_paths_stay_in_the_uncoupled_slice():
    sl = metric_slice_task(coupling=0.0, target=(0.7, 0.5))
    for rule in ("dW1", "dW2", "dW3"):
        p = slice_rule_path(sl, rule, (-0.5, -0.8), 0.02, 10)
        assert p.coords.shape == (11, 2) and p.off_slice.max() < 1e-12
        assert p.loss[-1] < p.loss[0]
    with pytest.raises(ValueError):
        slice_rule_path(sl, "dW1", (0.0,), 0.1, 3)


def test_metric_slice_figure_and_widget():
    sl = metric_slice_task(coupling=0.0)
    paths = {"dW3": slice_rule_path(sl, "dW3", (-0.5, -0.5), 0.05, 5).coords}
    fig = plot_metric_slice(coupling=0.0, points=[(0.0, 0.0), (1.0, 0.0)], paths=paths,
                            n_grid=41)
    assert fig.axes
    fig = plot_metric_slice(a=0.2, b=-0.1, n_grid=41)  # default coupled slice
    assert fig.axes
    with pytest.raises(TypeError):
        plot_metric_slice(radius="big")
    pytest.importorskip("ipywidgets")
    w = interactive_metric_slice()
    assert {"a", "b", "radius"} <= {c.description for c in w.children if hasattr(c, "value")}


def test_plot_conditioning():
    from matplotlib.figure import Figure

    import fpnotes
    from fpnotes.conditioning import curvature_along_rule
    from fpnotes.plotting import plot_conditioning

    task = fpnotes.linear_task(N=10, m=5, seed=0)
    paths = {r: curvature_along_rule(task, r, 0.5, 20, every=5) for r in ("dW1", "dW2")}
    fig = plot_conditioning(paths, 0.5)
    assert isinstance(fig, Figure) and len(fig.axes) == 2


def test_plot_rule_comparison_curves_own_axes():
    import numpy as np

    from fpnotes.plotting import plot_rule_comparison_curves

    curves = {("dW1", 1.0): np.geomspace(1, 1e-2, 50), ("dW2", 1.0): np.geomspace(1, 1e-30, 50)}
    shared = plot_rule_comparison_curves(curves)
    own = plot_rule_comparison_curves(curves, sharey=False)
    assert shared.axes[0].get_ylim() == shared.axes[1].get_ylim()
    assert own.axes[0].get_ylim()[0] > 1e-5 > own.axes[1].get_ylim()[0]
