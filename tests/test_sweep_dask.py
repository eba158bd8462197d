"""fpnotes.sweep on a real dask.distributed LocalCluster: lost workers and interrupts.

Needs the ``distributed`` extra (``pip install "fpnotes[distributed]"``); skipped without it.
"""

import os
import signal

import pytest

from fpnotes.sweep import config_key, grid, load_results, sweep

distributed = pytest.importorskip("distributed")

THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       env=THREAD_ENV)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def sleepy_configs(n=8, sleep=0.5):
    """n tiny linear runs that each take about `sleep` seconds."""
    return grid(task="linear", N=10, m=5, rule="dW3", lr=1.0, n_iter=20, sleep=sleep,
                seed=list(range(n)))


def assert_each_once(store, configs):
    names = sorted(os.listdir(store))
    assert names == sorted(f"{config_key(c)}.json" for c in configs)
    assert sorted(r["key"] for r in load_results(store)) == sorted(config_key(c) for c in configs)


def test_interrupted_dask_sweep_resumes(client, tmp_path):
    client.wait_for_workers(2, timeout=30)
    configs = sleepy_configs(6, sleep=0.3)
    seen = []

    def interrupt_after_two(record):
        seen.append(record["key"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(configs, store=tmp_path, executor=client, on_result=interrupt_after_two)
    kept = len(os.listdir(tmp_path))
    assert 2 <= kept < len(configs)
    out = sweep(configs, store=tmp_path, executor=client)
    assert (out.ran, out.skipped, out.failed) == (len(configs) - kept, kept, [])
    assert_each_once(tmp_path, configs)


def test_worker_killed_mid_sweep_loses_nothing(client, tmp_path):
    client.wait_for_workers(2, timeout=30)
    configs = sleepy_configs(8, sleep=0.5)
    pids = client.run(os.getpid)
    killed = {}

    def kill_a_busy_worker(record):
        if killed:
            return
        busy = [addr for addr, keys in client.processing().items() if keys and addr in pids]
        assert busy, "no worker is running a task"
        killed["addr"] = busy[0]
        killed["tasks"] = len(client.processing()[busy[0]])
        os.kill(pids[busy[0]], signal.SIGKILL)  # a crash, not a graceful shutdown

    out = sweep(configs, store=tmp_path, executor=client, on_result=kill_a_busy_worker)
    assert killed["tasks"] >= 1
    assert (out.ran, out.skipped, out.failed) == (8, 0, [])
    assert all(r is not None and r["result"]["diverged"] is False for r in out.results)
    assert [r["config"] for r in out.results] == configs
    assert_each_once(tmp_path, configs)
    client.wait_for_workers(2, timeout=30)  # the nanny restarted the dead worker
    assert killed["addr"] not in client.scheduler_info()["workers"]
