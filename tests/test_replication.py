"""fpnotes.replication and its figures, on small stored runs of the digits task."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from fpnotes.plotting.replication import (  # noqa: E402
    plot_accuracy_vs_rate,
    plot_eigenvalue_clouds,
    plot_replication_curves,
)
from fpnotes.replication import (  # noqa: E402
    PAPER_MNIST,
    best_rates,
    curves,
    is_interior,
    rate_summary,
    run_summary,
)
from fpnotes.sweep import grid, sweep  # noqa: E402


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    configs = grid(task="digits", N=16, seed=[0, 1], rule=["dW1", "dW3"], lr=[0.05, 50.0],
                   batch_size=64, n_iter=12, record_every=1, eig_every=4, eval_every=4,
                   require_stable=True)
    out = sweep(configs, store=tmp_path_factory.mktemp("runs"), executor="inline")
    assert not out.failed
    return out.results


def test_run_and_rate_summaries(records):
    s = run_summary(records[0])
    assert s.rule == "dW1" and s.lr == 0.05 and s.seed == 0 and s.iterations == 12
    assert 0 <= s.accuracy <= s.best_accuracy <= 1
    table = rate_summary(records + [None])
    assert list(table) == sorted(table) and len(table) == 4
    row = table[("dW1", 0.05)]
    assert row.seeds == 2 and row.accuracy_min <= row.accuracy <= row.accuracy_max
    # dW1 at a huge rate leaves the stable region; a seed loses its fixed point and stops early
    big = table[("dW1", 50.0)]
    assert big.max_real_peak_min > 1 and big.lost >= 1 and big.iterations < 12
    assert set(best_rates(table)) == {"dW1", "dW3"}
    # a rate where some seed lost its fixed point is not eligible when kept_only
    kept = best_rates(table, kept_only=True)
    assert kept.get("dW1") != 50.0 and all(table[(r, lr)].lost == 0 for r, lr in kept.items())
    assert not is_interior(table, "dW1", 0.05) and not is_interior(table, "dW1", 50.0)
    table[("dW1", 1.0)] = table[("dW1", 0.05)]
    assert is_interior(table, "dW1", 1.0)


def test_curves_align_seeds(records):
    c = curves(records, "dW3", 0.05)
    assert np.array_equal(c.iteration, [0, 4, 8, 12])
    assert np.all(c.low <= c.median) and np.all(c.median <= c.high) and np.all(c.count == 2)
    e = curves(records, "dW1", 50.0, "max_real_eigs", "eig_iterations")
    assert e.count[0] == 2 and e.count[-1] == 1  # the run that stopped contributes less


def test_paper_numbers_cover_the_papers_grids():
    assert {lr for r, lr in PAPER_MNIST if r == "dW1"} == {0.001, 0.0025, 0.005, 0.01, 0.025}
    assert {lr for r, lr in PAPER_MNIST if r == "dW3"} == {0.01, 0.025, 0.05, 0.1, 0.25}
    assert all(0 < acc <= best <= 1 for acc, best, _ in PAPER_MNIST.values())


def test_figures(records):
    fig = plot_replication_curves(records)
    assert len(fig.axes) == 2 and fig.axes[0].get_legend() is not None
    fig = plot_replication_curves(records, field="max_real_eigs", iterations="eig_iterations",
                                  stability_line=True)
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in fig.axes[0].lines)
    fig = plot_accuracy_vs_rate(rate_summary(records))
    assert fig.axes[0].get_xscale() == "log"
    fig = plot_eigenvalue_clouds([records[0], records[-1]])
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close("all")
