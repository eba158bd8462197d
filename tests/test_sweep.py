"""fpnotes.sweep without dask: grids, the on-disk store, failures and resuming."""

import concurrent.futures as cf
import hashlib
import json
import os

import numpy as np
import pytest

import fpnotes
import fpnotes.sweep as sw
import fpnotes.sweep.store
from fpnotes.sweep import (
    InlineExecutor,
    as_train_result,
    config_key,
    grid,
    load_results,
    paper_configs,
    run_config,
    sweep,
)

TINY = dict(task="linear", N=8, m=4, n_iter=10)


def tiny_configs(n=6):
    return grid(**TINY, rule=["dW1", "dW3"], lr=[0.3, 1.0, 3.0][: max(1, n // 2)], seed=0)


def fake_run(config):
    """A cheap stand-in for run_config that records nothing but its input."""
    if config.get("fail"):
        raise RuntimeError("this run fails on purpose")
    return {"value": config["i"] ** 2}


def store_files(path):
    return sorted(os.listdir(path))


# --------------------------------------------------------------------------- grid and keys

def test_grid_expands_axes_last_fastest():
    configs = grid(task="linear", rule=["dW1", "dW3"], lr=(0.1, 1.0, 3.0), seed=range(2), n_iter=5)
    assert len(configs) == 2 * 3 * 2
    assert configs[0] == {"task": "linear", "rule": "dW1", "lr": 0.1, "seed": 0, "n_iter": 5}
    assert configs[1]["seed"] == 1 and configs[2]["lr"] == 1.0
    assert configs[-1] == {"task": "linear", "rule": "dW3", "lr": 3.0, "seed": 1, "n_iter": 5}
    assert len({config_key(c) for c in configs}) == len(configs)
    assert grid(lr=np.array([0.5, 1.0])) == [{"lr": 0.5}, {"lr": 1.0}]


def test_grid_rejects_empty():
    with pytest.raises(ValueError, match="at least one axis"):
        grid()
    with pytest.raises(ValueError, match="'lr' is empty"):
        grid(rule="dW1", lr=[])


def test_config_key_is_canonical():
    a = {"rule": "dW1", "lr": 1.0, "seed": 0}
    b = {"seed": np.int64(0), "lr": np.float64(1.0), "rule": "dW1"}
    assert config_key(a) == config_key(b)
    assert config_key(a) != config_key({**a, "seed": 1})
    assert len(config_key(a)) == 32 and config_key(a) == config_key(dict(a))
    with pytest.raises(TypeError, match="JSON value"):
        config_key({"lr": object()})
    with pytest.raises(ValueError, match="finite"):
        config_key({"lr": float("nan")})
    with pytest.raises(TypeError, match="dict"):
        config_key([("lr", 1.0)])



# The stored runs in book/results/ are named by these keys: they must never change.
PINNED_KEYS = [
    ("mnist", 0, "7473520449aeb92f3594299d3f50a57c"),
    ("mnist", -1, "71cf219651ae1e5432525221e489222a"),
    ("linear", 0, "750b209df63b25feb32c6bf158c1ed22"),
    ("linear", -1, "9c9d3abfe49da1cb42ada4bcdda39cbc"),
    ("digits", 0, "2859444e45bf65e478e8b89586ae8268"),
    ("digits", -1, "4ca89acca5bb2de7e42a7572070b13e4"),
]


@pytest.mark.parametrize("task, index, key", PINNED_KEYS)
def test_config_keys_of_the_paper_configs_are_pinned(task, index, key):
    assert config_key(paper_configs(task)[index]) == key


def test_config_keys_are_pinned():
    tiny = {"task": "linear", "N": 8, "m": 4, "n_iter": 10, "rule": "dW3", "lr": 1.0, "seed": 0}
    assert config_key(tiny) == "e875cf833eda48b1695a9c55f30145d1"
    assert config_key({**tiny, "seed": np.int64(0), "lr": np.float64(1.0)}) == config_key(tiny)
    every = "".join(config_key(c) for task in ("linear", "digits", "mnist")
                    for c in paper_configs(task))
    assert hashlib.sha256(every.encode()).hexdigest() == (
        "70353a00f3e2c170de023ab2b98024c14a53a6c1b628baddbfdabe3716405ce7")


# --------------------------------------------------------------------------- run_config

def test_run_config_linear_summary_is_json():
    out = run_config({**TINY, "rule": "dW3", "lr": 1.0, "seed": 3, "record_every": 5})
    json.dumps(out, allow_nan=False)
    assert out["loss_iterations"] == [0, 5] and len(out["losses"]) == 2
    assert out["final_loss"] < out["losses"][0]
    assert out["diverged"] is False and out["iterations"] == 10
    assert out["test_accuracy"] is None and out["max_real_eig"] < 1


def test_run_config_digits_has_accuracy():
    out = run_config({"task": "digits", "N": 20, "rule": "dW3", "lr": 0.05, "n_iter": 3,
                      "batch_size": 64})
    assert 0.0 <= out["test_accuracy"] <= 1.0 and out["final_loss"] > 0


def test_run_config_records_optional_traces():
    out = run_config({**TINY, "rule": "dW3", "lr": 1.0, "record_every": 5, "eig_every": 5,
                      "compare": "dW2"})
    json.dumps(out, allow_nan=False)
    assert out["eig_iterations"] == [0, 5, 10] and len(out["max_real_eigs"]) == 3
    assert out["max_real_eigs"][-1] == pytest.approx(out["max_real_eig"])
    assert len(out["angles"]) == len(out["losses"]) == 2
    assert all(0 <= a < 10 for a in out["angles"])  # dW3 is close to dW2 (Chapter 4)
    assert "test_accuracies" not in out
    digits = run_config({"task": "digits", "N": 20, "rule": "dW3", "lr": 0.05, "n_iter": 3,
                         "batch_size": 64, "eval_every": 2})
    assert digits["test_iterations"] == [0, 2, 3]
    assert digits["test_accuracies"][-1] == digits["test_accuracy"]
    assert "angles" not in digits and "max_real_eigs" not in digits


def test_run_config_checks_stability_of_the_final_fixed_points():
    stable = run_config({**TINY, "rule": "dW3", "lr": 0.5, "check_stability": True})
    assert stable["unstable_fraction"] == 0.0
    # a linear network with gain 1 is unstable for every pattern once max Re lambda(W) > 1
    unstable = run_config({**TINY, "rule": "dW1", "lr": 1.0, "n_iter": 0, "init_rho": 3.0,
                           "seed": 1, "check_stability": True})
    assert unstable["max_real_eig"] > 1 and unstable["unstable_fraction"] == 1.0
    digits = run_config({"task": "digits", "N": 20, "rule": "dW3", "lr": 0.05, "n_iter": 2,
                         "batch_size": 64, "check_stability": True})
    assert digits["unstable_fraction"] == 0.0


def test_paper_configs_are_valid_and_distinct():
    sizes = {"linear": 15, "digits": 10, "mnist": 45}
    for task, size in sizes.items():
        configs = paper_configs(task)
        assert len(configs) == size == len({config_key(c) for c in configs})
    linear = paper_configs("linear")
    assert {(c["N"], c["m"], c["n_iter"]) for c in linear} == {(200, 100, 3500)}
    assert {c.get("compare") for c in linear if c["rule"] == "dW3"} == {"dW2"}
    # every key is one run_config accepts: run each task's first config, shrunk
    for task in ("linear", "digits"):
        out = run_config({**paper_configs(task)[0], "N": 12, "n_iter": 2})
        assert out["iterations"] == 2
    with pytest.raises(ValueError, match="task"):
        paper_configs("cifar")


def test_as_train_result_feeds_the_plotting_functions(tmp_path):
    from fpnotes.plotting.classification import plot_classification_runs
    from fpnotes.plotting.reparam import plot_rule_comparison_curves

    config = {"task": "digits", "N": 15, "rule": "dW3", "lr": 0.05, "n_iter": 4,
              "batch_size": 32, "record_every": 2, "eig_every": 2, "eval_every": 2}
    (record,) = sweep([config], store=tmp_path, executor="inline").results
    run = as_train_result(record)
    assert (run.rule, run.lr, run.iterations, run.diverged) == ("dW3", 0.05, 4, False)
    assert run.history.iteration.tolist() == [0, 2] and run.history.loss.shape == (2,)
    assert "angle" not in run.history
    assert run.eig.iteration.tolist() == [0, 2, 4] and run.test.iteration.tolist() == [0, 2, 4]
    assert run.test.accuracy[-1] == run.test_accuracy
    plot_classification_runs([run])
    fig = plot_rule_comparison_curves({("dW3", 0.05): run})
    assert fig.axes[0].lines[0].get_xdata().tolist() == [0, 2]
    with pytest.raises(TypeError, match="stored run"):
        as_train_result({"result": {}})


@pytest.mark.parametrize("config, match", [
    ({"task": "cifar", "rule": "dW1", "lr": 1.0, "n_iter": 1}, "task"),
    ({"task": "linear", "rule": "dW1", "n_iter": 1}, "lacks lr"),
    ({"task": "linear", "rule": "dW1", "lr": 1.0, "n_iter": 1, "lr_decay": 0.5}, "lr_decay"),
    ({"task": "linear", "rule": "dW1", "lr": 1.0, "n_iter": -1}, "n_iter"),
    ({"task": "linear", "rule": "dW1", "lr": 1.0, "n_iter": 2, "record_every": 0}, "record"),
    ({"task": "linear", "rule": "dW1", "lr": 1.0, "n_iter": 2, "sleep": -1}, "sleep"),
])
def test_run_config_rejects_bad_configs(config, match):
    with pytest.raises(ValueError, match=match):
        run_config(config)


# --------------------------------------------------------------------------- the store

def test_sweep_stores_one_file_per_run_and_resumes(tmp_path):
    configs = tiny_configs()
    out = sweep(configs, store=tmp_path, executor="inline")
    assert (out.ran, out.skipped, out.failed) == (6, 0, [])
    assert store_files(tmp_path) == sorted(f"{config_key(c)}.json" for c in configs)
    assert [r["config"] for r in out.results] == configs
    again = sweep(configs, store=tmp_path, executor="inline")
    assert (again.ran, again.skipped) == (0, 6)
    assert again.results == out.results
    loaded = load_results(tmp_path)
    assert sorted(r["key"] for r in loaded) == sorted(r["key"] for r in out.results)


def test_duplicates_run_once(tmp_path):
    configs = [{"i": 2}, {"i": 3}, {"i": 2}]
    out = sweep(configs, store=tmp_path, executor="inline", run=fake_run)
    assert out.ran == 2 and len(store_files(tmp_path)) == 2
    assert out.results[0] == out.results[2] and out.results[1]["result"] == {"value": 9}


def test_failed_run_is_reported_not_stored_and_retried(tmp_path):
    configs = [{"i": 1}, {"i": 2, "fail": True}, {"i": 3}]
    out = sweep(configs, store=tmp_path, executor="inline", run=fake_run)
    assert out.ran == 2 and out.results[1] is None
    assert out.failed == [({"fail": True, "i": 2}, "RuntimeError: this run fails on purpose")]
    assert store_files(tmp_path) == sorted(f"{config_key(c)}.json" for c in (configs[0],
                                                                           configs[2]))
    again = sweep(configs, store=tmp_path, executor="inline", run=fake_run)
    assert (again.ran, again.skipped, len(again.failed)) == (0, 2, 1)


def test_bad_rule_through_run_config_fails_cleanly(tmp_path):
    configs = [{**TINY, "rule": "dW3", "lr": 1.0}, {**TINY, "rule": "dW9", "lr": 1.0}]
    out = sweep(configs, store=tmp_path, executor="inline")
    assert out.ran == 1 and len(out.failed) == 1 and "unknown rule" in out.failed[0][1]


def test_non_json_result_is_a_failure(tmp_path):
    out = sweep([{"i": 1}], store=tmp_path, executor="inline", run=lambda c: {"x": object()})
    assert out.ran == 0 and "JSON" in out.failed[0][1] and store_files(tmp_path) == []


def test_writes_are_atomic(tmp_path, monkeypatch):
    """At the moment of the rename the final name is absent and the temp file complete."""
    seen = []
    real_replace = os.replace

    def checking_replace(src, dst):
        assert os.path.basename(src).startswith(".") and not os.path.exists(dst)
        with open(src) as fh:
            seen.append(json.load(fh)["result"])  # complete JSON already
        assert load_results(tmp_path) == [] or len(load_results(tmp_path)) == len(seen) - 1
        real_replace(src, dst)

    monkeypatch.setattr(fpnotes.sweep.store.os, "replace", checking_replace)
    sweep([{"i": 1}, {"i": 2}], store=tmp_path, executor="inline", run=fake_run)
    assert seen == [{"value": 1}, {"value": 4}] and len(store_files(tmp_path)) == 2


def test_crash_during_write_leaves_no_file(tmp_path, monkeypatch):
    def crash(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(fpnotes.sweep.store.os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        sweep([{"i": 1}], store=tmp_path, executor="inline", run=fake_run)
    assert store_files(tmp_path) == []  # neither the result nor a leftover temp file


def test_load_results_ignores_temp_and_broken_files(tmp_path):
    sweep([{"i": 1}], store=tmp_path, executor="inline", run=fake_run)
    (tmp_path / ".tmp-abc.part").write_text('{"key": "x", "con')
    (tmp_path / "broken.json").write_text('{"key": ')
    assert [r["result"] for r in load_results(tmp_path)] == [{"value": 1}]
    with pytest.raises(ValueError, match="not a directory"):
        load_results(tmp_path / "missing")


# --------------------------------------------------------------------------- interrupts

class Interrupting:
    """A run function that raises KeyboardInterrupt at its k-th call (a Ctrl-C mid-sweep)."""

    def __init__(self, k):
        self.k, self.calls = k, 0

    def __call__(self, config):
        self.calls += 1
        if self.calls == self.k:
            raise KeyboardInterrupt
        return fake_run(config)


def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path):
    configs = [{"i": i} for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        sweep(configs, store=tmp_path, executor="inline", run=Interrupting(5))
    assert len(store_files(tmp_path)) == 4  # the four runs before the interrupt
    out = sweep(configs, store=tmp_path, executor="inline", run=fake_run)
    assert (out.ran, out.skipped, out.failed) == (6, 4, [])
    assert store_files(tmp_path) == sorted(f"{config_key(c)}.json" for c in configs)
    assert [r["result"]["value"] for r in out.results] == [i * i for i in range(10)]


def test_interrupt_raised_inside_a_worker_future(tmp_path):
    """A future whose exception is KeyboardInterrupt stops the sweep; finished runs are kept."""
    configs = [{"i": i} for i in range(6)]
    with cf.ThreadPoolExecutor(max_workers=1) as pool:
        with pytest.raises(KeyboardInterrupt):
            sweep(configs, store=tmp_path, executor=pool, run=Interrupting(3))
    kept = len(store_files(tmp_path))
    assert kept >= 2
    out = sweep(configs, store=tmp_path, executor="inline", run=fake_run)
    assert out.ran == 6 - kept and out.skipped == kept and len(store_files(tmp_path)) == 6


def test_first_half_then_whole(tmp_path):
    configs = tiny_configs()
    first = sweep(configs[:3], store=tmp_path, executor=InlineExecutor())
    whole = sweep(configs, store=tmp_path, executor="inline")
    assert (first.ran, whole.ran, whole.skipped) == (3, 3, 3)
    assert whole.results[:3] == first.results and len(store_files(tmp_path)) == 6


def test_on_result_sees_each_stored_record(tmp_path):
    seen = []
    sweep([{"i": 1}, {"i": 2}], store=tmp_path, executor="inline", run=fake_run,
          on_result=lambda rec: seen.append(os.path.exists(tmp_path / f"{rec['key']}.json")))
    assert seen == [True, True]


# --------------------------------------------------------------------------- executors

def test_default_process_pool_and_progress(tmp_path, capsys):
    configs = tiny_configs(4)
    out = sweep(configs, store=tmp_path, progress=True)
    inline = sweep(configs, store=tmp_path / "inline", executor="inline")
    assert out.ran == 4 and not out.failed
    for a, b in zip(out.results, inline.results, strict=True):
        assert a["key"] == b["key"]
        assert np.isclose(a["result"]["final_loss"], b["result"]["final_loss"], rtol=1e-8)
    assert "4/4" in capsys.readouterr().err


def test_thread_pool_executor_and_grid_dict(tmp_path):
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        out = sweep({"i": [1, 2, 3]}, store=tmp_path, executor=pool, run=fake_run)
    assert [r["result"]["value"] for r in out.results] == [1, 4, 9]


def test_fpnotes_sweep_is_the_package_and_sweep_its_function(tmp_path):
    assert fpnotes.sweep is sw and not callable(sw)
    out = fpnotes.sweep.sweep([{"i": 4}], store=tmp_path, executor="inline", run=fake_run)
    assert out.results[0]["result"] == {"value": 16}


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="list of dicts"):
        sweep("configs", store=tmp_path)
    with pytest.raises(TypeError, match="must be a dict"):
        sweep([1, 2], store=tmp_path)
    with pytest.raises(TypeError, match="submit"):
        sweep([{"i": 1}], store=tmp_path, executor=object(), run=fake_run)
    with pytest.raises(ValueError, match="inline"):
        sweep([{"i": 1}], store=tmp_path, executor="threads", run=fake_run)
    with pytest.raises(ValueError, match="workers"):
        sweep([{"i": 1}], store=tmp_path, workers=0, run=fake_run)
    with pytest.raises(TypeError, match="run must be callable"):
        sweep([{"i": 1}], store=tmp_path, run=3)


# --------------------------------------------------------------------------- mnist and plotting

def test_mnist_task_config_with_stand_in_data(monkeypatch):
    import fpnotes.datasets

    rng = np.random.default_rng(0)

    def fake_mnist():
        return ((rng.random((784, 40)), rng.integers(0, 10, 40)),
                (rng.random((784, 20)), rng.integers(0, 10, 20)))

    monkeypatch.setattr(fpnotes.datasets, "load_mnist", fake_mnist)
    task = sw.mnist_task(N=12, seed=1, source="full")
    assert task.X.shape == (12, 40) and task.readout.shape == (10, 12)
    out = run_config({"task": "mnist", "source": "full", "N": 12, "rule": "dW3", "lr": 0.05,
                      "n_iter": 2, "batch_size": 16})
    assert 0.0 <= out["test_accuracy"] <= 1.0


def test_plot_sweep(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from fpnotes.plotting import plot_sweep

    out = sweep(tiny_configs(), store=tmp_path, executor="inline")
    fig = plot_sweep(out.results + [None])
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="no field"):
        plot_sweep(out.results, y="accuracy")
    with pytest.raises(ValueError, match="at least one"):
        plot_sweep([None])


# --------------------------------------------------------------------------- the book's stored runs

FULL_SIZE = os.path.join(os.path.dirname(__file__), os.pardir, "book", "results", "full_size")


def test_the_book_stores_every_full_size_run():
    stored = {r["key"]: r for r in load_results(FULL_SIZE)}
    configs = paper_configs("linear") + paper_configs("digits")
    assert sorted(stored) == sorted(config_key(c) for c in configs)
    for c in configs:
        assert stored[config_key(c)]["config"] == sw.config._canonical(c)


@pytest.mark.parametrize("task, rule, lr, n_iter", [("linear", "dW1", 1.0, 200),
                                                    ("digits", "dW3", 0.25, 15)])
def test_stored_full_size_runs_start_as_the_code_runs_now(task, rule, lr, n_iter):
    """The first iterations of a stored run, recomputed: the store is not stale."""
    (config,) = [c for c in paper_configs(task) if (c["rule"], c["lr"]) == (rule, lr)]
    (record,) = [r for r in load_results(FULL_SIZE) if r["key"] == config_key(config)]
    fresh = run_config({**config, "n_iter": n_iter})
    k = len(fresh["losses"])
    assert k == n_iter // config["record_every"]
    np.testing.assert_allclose(fresh["losses"][:k], record["result"]["losses"][:k], rtol=1e-6)
