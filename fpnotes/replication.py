"""Chapter 6's MNIST replication: summaries of stored runs, and the paper's own numbers.

The runs are those of ``fpnotes.sweep.paper_configs("mnist")``, stored by
:func:`fpnotes.sweep.sweep` and read back with :func:`fpnotes.sweep.load_results`.
Everything here takes those records and returns numbers; the figures are drawn by
``fpnotes.plotting.replication``.

Conventions:

* A run's *accuracy* is its test accuracy at the end of training: after update 352,
  or, for a run that stopped because it lost its fixed point, at its last evaluation
  before it stopped. Its *best* accuracy is the largest over its evaluations.
* A run *loses its fixed point* at the first stability check (every 10 updates) that
  finds a pattern of the batch with Re lambda(G_i W) >= 1, or where a fixed-point
  solve fails (:func:`fpnotes.stability.stability_criterion`); the runs of the
  replication stop there.
"""

from __future__ import annotations

import numpy as np

from ._result import Result

__all__ = ["PAPER_MNIST", "run_summary", "rate_summary", "curves", "best_rates", "is_interior"]

#: The paper's MNIST runs (Zhu & Rosenbaum 2024, section 4, MNIST figure), read from the
#: training statistics published with the authors' code: mean test accuracy over the last
#: 10 updates, best test accuracy during training (each on one test batch of 512 images per
#: update), and max Re lambda of the final W, per (rule, learning rate).
PAPER_MNIST = {
    ("dW1", 0.001): (0.15, 0.18, 0.48), ("dW1", 0.0025): (0.35, 0.38, 0.49),
    ("dW1", 0.005): (0.59, 0.63, 0.67), ("dW1", 0.01): (0.64, 0.72, 1.24),
    ("dW1", 0.025): (0.25, 0.70, 2.23),
    ("dW3", 0.01): (0.68, 0.73, 0.47), ("dW3", 0.025): (0.78, 0.81, 0.48),
    ("dW3", 0.05): (0.82, 0.87, 0.50), ("dW3", 0.1): (0.85, 0.88, 0.52),
    ("dW3", 0.25): (0.87, 0.90, 0.77),
}


def _array(values):
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def run_summary(record):
    """The numbers of one stored run.

    Parameters
    ----------
    record : dict
        ``{"config", "result"}`` from :func:`fpnotes.sweep.load_results`.

    Returns
    -------
    Result with ``rule``, ``lr``, ``seed``, ``iterations`` (updates applied),
    ``lost_at`` (None or the update where it lost its fixed point), ``accuracy``,
    ``best_accuracy``, ``max_real_final`` (max Re lambda(W) at the last check),
    ``max_real_peak`` (largest over the checks), ``wall_time`` (seconds).
    """
    config, out = record["config"], record["result"]
    acc = _array(out.get("test_accuracies", []))
    acc = acc[np.isfinite(acc)]
    eig = _array(out.get("max_real_eigs", []))
    eig = eig[np.isfinite(eig)]
    return Result(rule=config["rule"], lr=config["lr"], seed=config.get("seed", 0),
                  iterations=out["iterations"], lost_at=out.get("lost_at"),
                  accuracy=float(acc[-1]) if acc.size else np.nan,
                  best_accuracy=float(acc.max()) if acc.size else np.nan,
                  max_real_final=float(eig[-1]) if eig.size else np.nan,
                  max_real_peak=float(eig.max()) if eig.size else np.nan,
                  wall_time=out.get("wall_time", np.nan))


def rate_summary(records):
    """Median and range over seeds of each (rule, rate).

    Returns
    -------
    dict
        ``{(rule, lr): Result}`` with ``seeds`` (how many runs), ``lost`` (how many lost
        their fixed point), ``iterations`` (fewest updates applied), and for each of
        ``accuracy``, ``best_accuracy``, ``max_real_final``, ``max_real_peak`` the
        median, minimum and maximum over seeds as ``<name>`` (median), ``<name>_min``
        and ``<name>_max``; keys sorted by rule, then rate.
    """
    runs = {}
    for record in records:
        if record is None:
            continue
        s = run_summary(record)
        runs.setdefault((s.rule, s.lr), []).append(s)
    out = {}
    for key in sorted(runs):
        group = runs[key]
        row = Result(seeds=len(group), lost=sum(s.lost_at is not None for s in group),
                     iterations=min(s.iterations for s in group))
        for name in ("accuracy", "best_accuracy", "max_real_final", "max_real_peak"):
            v = np.array([s[name] for s in group])
            row[name] = float(np.median(v))
            row[f"{name}_min"], row[f"{name}_max"] = float(v.min()), float(v.max())
        out[key] = row
    return out


def best_rates(summary, *, kept_only=False):
    """Each rule's rate with the highest median accuracy over seeds.

    Parameters
    ----------
    summary : dict from :func:`rate_summary`
    kept_only : bool
        Consider only the rates at which no seed lost its fixed point (a run that
        lost it stopped early, and its network no longer settles for every input).

    Returns
    -------
    dict ``{rule: lr}`` (a rule with no eligible rate is left out)
    """
    best = {}
    for (rule, lr), row in summary.items():
        if kept_only and row.lost:
            continue
        if rule not in best or row.accuracy > summary[(rule, best[rule])].accuracy:
            best[rule] = lr
    return best


def is_interior(summary, rule, lr):
    """True when ``lr`` is neither the smallest nor the largest stored rate of ``rule``:
    the grid brackets it, so a better rate is not simply off the grid's edge."""
    rates = sorted(r for (name, r) in summary if name == rule)
    return rates[0] < lr < rates[-1]


def curves(records, rule, lr, field="test_accuracies", iterations="test_iterations"):
    """A recorded trace of one (rule, rate) across seeds: median and range per iteration.

    Runs that stopped early contribute to the iterations they reached.

    Parameters
    ----------
    records : list of dict
    rule : str
    lr : float
    field, iterations : str
        The trace and its iteration numbers in the stored result (e.g.
        ``"max_real_eigs"`` and ``"eig_iterations"``, or ``"losses"`` and
        ``"loss_iterations"``).

    Returns
    -------
    Result with ``iteration``, ``median``, ``low``, ``high`` (1-D arrays; NaN-free) and
    ``count`` (runs that reached each iteration).
    """
    traces = {}
    for record in records:
        if record is None:
            continue
        c, out = record["config"], record["result"]
        if c["rule"] != rule or c["lr"] != lr or field not in out:
            continue
        for i, v in zip(out[iterations], out[field], strict=True):
            if v is not None:
                traces.setdefault(int(i), []).append(float(v))
    it = np.array(sorted(traces), dtype=int)
    vals = [np.array(traces[i]) for i in it]
    return Result(iteration=it,
                  median=np.array([np.median(v) for v in vals]),
                  low=np.array([v.min() for v in vals]),
                  high=np.array([v.max() for v in vals]),
                  count=np.array([v.size for v in vals]))
