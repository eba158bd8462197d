"""Browser test of the live interactive figures: ipywidgets sliders with a running kernel.

Usage (from the repository root)::

    .venv/bin/python tests/browser/live_widgets.py [book/01_fixed_points.ipynb ...]
        [--chromium /usr/bin/chromium] [--screenshots _build/screenshots]

For each chapter with an interactive figure (by default every ``book/*.ipynb`` whose stored
outputs hold an ipywidgets view) it writes a trimmed copy, the import cell (the first code
cell) and the widget cells only, serves the copies with Voila on 127.0.0.1 (one kernel per
page, as in Binder or a live class), opens each page in headless Chromium through the
DevTools protocol and

* waits for the slider (ipywidgets 8: a noUiSlider handle) and the figure (an ``img`` in the
  widget's output);
* drags the first slider's handle with real mouse events;
* requires the figure's image data to change, and no uncaught JavaScript exception, no
  error output from the kernel and no Voila error page.

A screenshot of each page after the move goes to ``<screenshots>/live-<chapter>.png``.
Exits 1 if a check fails, 2 if the test cannot run (no Chromium, no Voila).

Trimming keeps the test fast (the chapters' training cells would take minutes) while running
the chapters' own import and widget code.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import CDP, start_chromium  # noqa: E402  (the static browser test's helpers)

ROOT = Path(__file__).resolve().parents[2]
WIDGET = "application/vnd.jupyter.widget-view+json"
# Only loopback is reachable: CDN look-ups (a Font Awesome stylesheet) fail at once
# instead of waiting for a network that is not there.
EXTRA_FLAGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

# Returns the state of the page's first interactive figure.
STATE_JS = r"""
(() => {
  const box = document.querySelector(".widget-interact");
  const handle = box && box.querySelector(".noUi-handle");
  const img = box && box.querySelector(".widget-output img, .jp-OutputArea-output img");
  const errors = [...document.querySelectorAll(
      "[data-mime-type='application/vnd.jupyter.stderr'], " +
      ".jp-RenderedText[data-mime-type*='error']")]
    .map((e) => e.textContent.trim()).filter((t) => /Error|Traceback/.test(t));
  const r = handle && handle.getBoundingClientRect();
  return {
    ready: !!(handle && img && img.complete && img.naturalWidth > 0),
    src: img ? img.src : null,
    handle: r ? {x: r.x + r.width / 2, y: r.y + r.height / 2} : null,
    value: handle ? handle.getAttribute("aria-valuenow") : null,
    kernel_errors: errors.map((t) => t.slice(0, 300)),
    voila_error: /There was an error when executing cell|Voila Error|500 : Internal Server Error/
      .test(document.body ? document.body.innerText : ""),
  };
})()
"""


def widget_notebooks():
    found = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        if any(WIDGET in out.get("data", {}) for c in nb["cells"] if c["cell_type"] == "code"
               for out in c.get("outputs", [])):
            found.append(path)
    return found


def trim(path, out_dir):
    """A copy of the notebook with its first code cell and its widget cells, no outputs."""
    nb = json.loads(Path(path).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    keep = [code[0]] + [c for c in code[1:] if any(WIDGET in o.get("data", {})
                                                   for o in c.get("outputs", []))]
    if len(keep) < 2:
        raise ValueError(f"{path}: no widget cell")
    for c in keep:
        c["outputs"], c["execution_count"] = [], None
    nb["cells"] = keep
    nb["metadata"].pop("widgets", None)
    out = Path(out_dir) / Path(path).name
    out.write_text(json.dumps(nb))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_voila(folder, port, log):
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel must draw inline, as in Jupyter
    # two cores shared by several processes: one BLAS thread per kernel avoids the
    # oversubscription that made a 200 x 200 eigvals take 1 s instead of 10 ms
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    cmd = [sys.executable, "-m", "voila", str(folder), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", "--show_tracebacks=True",
           "--Voila.tornado_settings={'allow_origin': '*'}"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Voila exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("Voila did not answer within 90 s")


async def check_page(cdp, session, state, url, shot, timeout):
    """Problems found on one Voila page (empty when it passes) and a summary."""
    state.update(js_errors=[])
    t0 = time.monotonic()
    await cdp.send("Page.navigate", session=session, url=url, timeout=timeout)

    async def page_state():
        res = await cdp.send("Runtime.evaluate", session=session, expression=STATE_JS,
                             returnByValue=True)
        return res.get("result", {}).get("value") or {}

    info = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await page_state()
        if info.get("ready") or info.get("voila_error") or info.get("kernel_errors"):
            break
        await asyncio.sleep(0.3)
    if not info.get("ready"):
        return [f"no slider and figure within {timeout:.0f} s ({info})"], {}
    ready_s = time.monotonic() - t0
    before, value_before = info["src"], info["value"]
    await cdp.send("Runtime.evaluate", session=session, expression=(
        "document.querySelector('.widget-interact').scrollIntoView({block: 'center'})"))
    await asyncio.sleep(0.3)
    info = await page_state()
    x, y = info["handle"]["x"], info["handle"]["y"]

    async def mouse(kind, x, **extra):
        await cdp.send("Input.dispatchMouseEvent", session=session, type=kind, x=x, y=y,
                       button="left", **extra)

    await mouse("mouseMoved", x)
    await mouse("mousePressed", x, clickCount=1)
    # drag 40 px to the right in a few steps: every step the slider takes is a redraw in
    # the kernel (continuous update), so few steps keep the test short
    t_move = time.monotonic()
    for k in range(1, 5):
        await mouse("mouseMoved", x + 10 * k, buttons=1)
        await asyncio.sleep(0.05)
    await mouse("mouseReleased", x + 40, clickCount=1)
    # the kernel redraws: wait until the image differs and has stayed the same for 1.5 s
    last, since = before, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await page_state()
        if info.get("src") != last:
            last, since = info.get("src"), time.monotonic()
        elif last != before and time.monotonic() - since > 1.5:
            break
        await asyncio.sleep(0.2)
    shot_data = await cdp.send("Page.captureScreenshot", session=session, format="png")
    Path(shot).write_bytes(base64.b64decode(shot_data["data"]))
    problems = []
    if info.get("value") == value_before:
        problems.append(f"the slider did not move (value {value_before})")
    if last == before or not last:
        problems.append("the figure did not change after the slider moved")
    problems += [f"JavaScript error: {e}" for e in state["js_errors"]]
    problems += [f"kernel error: {e}" for e in info.get("kernel_errors", [])]
    if info.get("voila_error"):
        problems.append("Voila shows an error page")
    summary = (f"widgets live after {ready_s:.1f} s, slider {value_before} -> "
               f"{info.get('value')}, figure changed: {last != before} "
               f"(settled {since - t_move:.1f} s after the drag)")
    return problems, summary


async def check_in_new_tab(cdp, name, url, screenshots, timeout):
    target = await cdp.send("Target.createTarget", url="about:blank")
    attached = await cdp.send("Target.attachToTarget", targetId=target["targetId"],
                              flatten=True)
    session = attached["sessionId"]
    state = {"js_errors": []}

    def on_event(msg):
        if msg.get("sessionId") == session and msg.get("method") == "Runtime.exceptionThrown":
            details = msg["params"].get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            state["js_errors"].append(str(text).splitlines()[0][:200])

    cdp.listeners.append(on_event)
    for domain in ("Page", "Runtime"):
        await cdp.send(f"{domain}.enable", session=session)
    await cdp.send("Emulation.setDeviceMetricsOverride", session=session, width=1280,
                   height=1000, deviceScaleFactor=1, mobile=False)
    shot = Path(screenshots) / f"live-{Path(name).stem}.png"
    try:
        return await check_page(cdp, session, state, url, shot, timeout)
    except (asyncio.TimeoutError, RuntimeError, ConnectionError) as exc:
        return [f"page failed: {exc!r}"], ""
    finally:
        await cdp.send("Target.closeTarget", targetId=target["targetId"])


async def check_all(browser_ws, urls, screenshots, timeout):
    """One page after the other, each in a new tab (side by side, background tabs are
    throttled and their DevTools calls time out)."""
    cdp = await CDP.connect(browser_ws)
    results = {}
    for name, url in urls.items():
        results[name] = await check_in_new_tab(cdp, name, url, screenshots, timeout)
    cdp.close()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: the chapters with widgets")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--screenshots", default="_build/screenshots")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per step")
    args = parser.parse_args(argv)

    chromium = shutil.which(args.chromium) or args.chromium
    if not Path(chromium).exists():
        print(f"live widget test: Chromium not found at {args.chromium}", file=sys.stderr)
        return 2
    try:
        import voila  # noqa: F401
    except ImportError:
        print("live widget test: Voila is not installed (pip install -e '.[test]')",
              file=sys.stderr)
        return 2
    notebooks = [Path(p) for p in args.notebooks] or widget_notebooks()
    Path(args.screenshots).mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="fpnotes-voila-"))
    timings = {}
    profile = tempfile.mkdtemp(prefix="fpnotes-chromium-")
    voila = chrome = None
    log = open(work / "voila.log", "w+")  # noqa: SIM115 (closed in finally)
    try:
        pages = [trim(p, work) for p in notebooks]
        port = free_port()
        voila = start_voila(work, port, log)
        timings["Voila up"] = time.monotonic() - t0
        urls = {p.name: f"http://127.0.0.1:{port}/voila/render/{p.name}" for p in pages}
        chrome, browser_ws = start_chromium(chromium, profile, extra_flags=EXTRA_FLAGS)
        results = asyncio.run(check_all(browser_ws, urls, args.screenshots, args.timeout))
    finally:
        for proc in (chrome, voila):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        log.seek(0)
        voila_log = log.read()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    print(f"Live widget test (Voila + headless Chromium), {time.monotonic() - t0:.0f} s "
          f"(Voila answered after {timings.get('Voila up', float('nan')):.0f} s)")
    failed = 0
    for name, (problems, summary) in results.items():
        print(f"  {'FAIL' if problems else 'ok  '}  {name:28s} {summary}")
        for problem in problems:
            print(f"          - {problem}")
        failed += bool(problems)
    if failed:
        print("Voila log (last lines):\n" + "\n".join(voila_log.splitlines()[-30:]))
        print(f"live widget test FAILED: {failed} of {len(results)} page(s)")
        return 1
    print("live widget test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
