"""Issue 15, sweeps: a store that is not trusted blindly, runs that kill their worker,
workers that outlive their driver, and scripts without the ``__main__`` guard."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from fpnotes.sweep import StoreWarning, config_key, load_results, sweep


def square(config):
    """Module level, so that the workers of a process pool can import it."""
    if config.get("kill"):
        os._exit(3)  # what a segfault or the out-of-memory killer does to a worker
    return {"value": config["i"] ** 2}


# --------------------------------------------------------------------------- the store


def test_a_record_copied_under_another_key_is_not_trusted(tmp_path):
    a, b = {"i": 1}, {"i": 2}
    sweep([a, b], store=tmp_path, executor="inline", run=square)
    file_a, file_b = (tmp_path / f"{config_key(c)}.json" for c in (a, b))
    shutil.copy(file_a, file_b)  # b's file now holds a's run
    with pytest.warns(StoreWarning, match="not its file name"):
        assert len(load_results(tmp_path)) == 1
    with pytest.warns(StoreWarning, match=file_b.name):
        out = sweep([a, b], store=tmp_path, executor="inline", run=square)
    assert (out.ran, out.skipped) == (1, 1)
    assert [r["result"]["value"] for r in out.results] == [1, 4]
    assert json.loads(file_b.read_text())["config"] == b  # the rerun replaced the copy


def test_a_record_whose_config_was_edited_is_not_trusted(tmp_path):
    a = {"i": 3}
    sweep([a], store=tmp_path, executor="inline", run=square)
    path = tmp_path / f"{config_key(a)}.json"
    record = json.loads(path.read_text())
    record["config"] = {"i": 4}  # key and file name unchanged
    path.write_text(json.dumps(record))
    with pytest.warns(StoreWarning, match="does not hash to its key"):
        out = sweep([a], store=tmp_path, executor="inline", run=square)
    assert out.ran == 1 and out.results[0]["result"]["value"] == 9


# --------------------------------------------------------------------------- dying workers


def test_a_run_that_kills_its_worker_fails_alone(tmp_path):
    configs = [{"i": i} for i in range(6)]
    configs[2]["kill"] = True
    out = sweep(configs, store=tmp_path, run=square, workers=2)
    assert len(out.failed) == 1
    culprit, message = out.failed[0]
    assert culprit == configs[2] and "killed its worker" in message
    assert out.ran == 5 and out.results[2] is None
    assert [r["result"]["value"] for r in out.results if r] == [0, 1, 9, 16, 25]
    again = sweep(configs, store=tmp_path, run=square, workers=2)
    assert (again.ran, again.skipped, len(again.failed)) == (0, 5, 1)


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"  # a zombie is no worker
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_soon_after_the_driver_is_killed(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent("""
        import os, sys, time
        from fpnotes.sweep import sweep

        def slow(config):
            open(os.path.join(sys.argv[1], f"pid-{os.getpid()}"), "w").close()
            time.sleep(120)
            return {}

        if __name__ == "__main__":
            sweep([{"i": i} for i in range(4)], store=sys.argv[2], run=slow, workers=2)
    """))
    pids = tmp_path / "pids"
    pids.mkdir()
    driver = subprocess.Popen([sys.executable, str(script), str(pids), str(tmp_path / "store")])
    try:
        deadline = time.monotonic() + 60
        while len(os.listdir(pids)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = [int(name.split("-")[1]) for name in os.listdir(pids)]
        assert len(workers) == 2, "the workers never started"
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if not _gone(pid)]
    for pid in alive:  # do not leave them behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, "worker processes outlived their driver"


def test_a_script_without_the_main_guard_is_told_so(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from fpnotes.sweep import sweep

        def run(config):
            return {{"value": 1}}

        sweep([{{"i": 1}}], store={str(tmp_path / "store")!r}, run=run)
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0
    assert 'if __name__ == "__main__":' in out.stderr and "line 7" in out.stderr
    guarded = tmp_path / "guarded.py"
    guarded.write_text(script.read_text().replace("\nsweep(", '\nif __name__ == "__main__":\n'
                                                   "    sweep("))
    ok = subprocess.run([sys.executable, str(guarded)], capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
