"""Browser test of the built book: every chapter page in headless Chromium.

Usage (from the repository root, after building the book into _build/html)::

    .venv/bin/python tests/browser/run.py [_build/html] [--toc _toc.yml]
        [--screenshots _build/screenshots] [--chromium /usr/bin/chromium]
        [--mathjax-dir DIR]

It serves the HTML folder on 127.0.0.1 (ephemeral port), drives Chromium through the
DevTools protocol (the websocket client is tornado's, already installed with Jupyter) and
checks for each page ``book/*.html``:

* the page loads (HTTP 200, a title, an article, no uncaught JavaScript error, no failed
  request for a file of the book itself);
* every ``<img>`` has ``naturalWidth > 0`` (lazy images are forced to load), and every
  notebook figure (outside widgets) has alt text;
* chapter pages (``NN_*.html`` with NN > 00) show exercise admonitions; every solution is a
  dropdown with its toggle button and starts hidden;
* MathJax has rendered every math element and no raw ``$$`` is left in the text;

and saves a screenshot per page to ``_build/screenshots/<page>.png`` (plus
``<page>-exercises.png`` scrolled to the first exercise). With ``--toc``, every
file the table of contents lists must have been built. Exits 1 with a summary if any check
fails, 2 if the test cannot run (no Chromium, no HTML).

MathJax comes from a CDN; without network, pass ``--mathjax-dir`` (a folder holding
``es5/tex-mml-chtml.js``, e.g. ``node_modules/mathjax`` after ``npm install mathjax@3``) and
requests for ``cdn.jsdelivr.net/npm/mathjax@3/...`` are answered from that folder.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import http.server
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,1000",
    "--remote-allow-origins=*", "--remote-debugging-port=0",
]
MATHJAX_CDN = re.compile(r"^https://cdn\.jsdelivr\.net/npm/mathjax@3[^/]*/(?P<path>[^?#]*)")
CHAPTER = re.compile(r"^(\d+)_.*\.html$")
# Tolerated, reported as notes: jupyter-book 1 with thebe enabled writes the sphinx-thebe
# configuration <script> (const THEBE_JS_URL = ...) twice into every page; the second copy
# throws, the first has already set everything up, so launching Thebe still works.
KNOWN_JS_ERRORS = [re.compile(r"Identifier 'THEBE_JS_URL' has already been declared")]
IGNORED_URLS = re.compile(r"/favicon\.ico$")

# Runs in the page once it has loaded; returns everything the checks need.
INSPECT_JS = r"""
(async (timeoutMs) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const deadline = Date.now() + timeoutMs;
  const out = {title: document.title, mathjax: "none"};
  // force lazy images to load, then wait for all of them
  for (const img of document.images) { img.loading = "eager"; }
  while (Date.now() < deadline && [...document.images].some((i) => !i.complete)) {
    await sleep(100);
  }
  out.images = [...document.images].map((i) => ({
    src: i.currentSrc || i.src,
    width: i.naturalWidth,
    alt: (i.getAttribute("alt") || "").trim(),
    // notebook figures; a widget's images come from its saved state and have no alt
    figure: !!i.closest(".cell_output") && !i.closest(".jupyter-widgets, .widget-output"),
  }));
  // MathJax: wait for its startup promise, then for typesetting to finish
  const maths = document.querySelectorAll(".math, .MathJax_Preview, script[type^='math/tex']");
  out.math_elements = maths.length;
  if (maths.length) {
    // the MathJax script is deferred: after the load event it has run or it has failed
    // (offline), so a short grace period is enough
    const grace = Math.min(deadline, Date.now() + 3000);
    while (Date.now() < grace &&
           !(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
      await sleep(100);
    }
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await Promise.race([MathJax.startup.promise, sleep(Math.max(0, deadline - Date.now()))]);
      if (MathJax.typesetPromise) {
        await Promise.race([MathJax.typesetPromise(), sleep(Math.max(0, deadline - Date.now()))]);
      }
      out.mathjax = "loaded";
    } else {
      out.mathjax = "not loaded";
    }
  }
  out.unrendered_math = [...document.querySelectorAll(".math")]
    .filter((m) => !m.querySelector("mjx-container") && !m.closest("mjx-container"))
    .map((m) => m.textContent.trim().slice(0, 60));
  out.mjx = document.querySelectorAll("mjx-container").length;
  const article = document.querySelector("article.bd-article, main, [role=main]");
  out.has_article = !!article;
  let text = "";
  if (article) {
    const copy = article.cloneNode(true);
    copy.querySelectorAll("pre, code, .highlight, mjx-assistive-mml").forEach((e) => e.remove());
    text = copy.innerText || copy.textContent;
  }
  out.raw_dollars = (text.match(/\$\$/g) || []).length;
  out.exercises = document.querySelectorAll("div.exercise.admonition").length;
  // interactive figures as sliders over precomputed frames (fpnotes.plotting.slider)
  out.sliders = document.querySelectorAll(".fpnotes-slider").length;
  out.solutions = [...document.querySelectorAll("div.solution.admonition")].map((s) => ({
    id: s.id,
    dropdown: s.classList.contains("dropdown"),
    toggle: !!s.querySelector(".toggle-button"),
    hidden: s.classList.contains("toggle-hidden"),
  }));
  // outputs with nothing to show must take no space, in the dark theme too (it pads them)
  const theme = document.documentElement.dataset.theme;
  document.documentElement.dataset.theme = "dark";
  out.empty_outputs_shown = [...document.querySelectorAll(".cell_output .output")].filter((e) =>
    !e.textContent.trim() && !e.querySelector("img, svg, canvas, iframe, script") &&
    e.getBoundingClientRect().height > 0).length;
  document.documentElement.dataset.theme = theme;
  out.height = document.documentElement.scrollHeight;
  return out;
})
"""


class CDP:
    """A minimal Chrome DevTools Protocol client over one websocket."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.pending = {}
        self.listeners = []
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url):
        from tornado.websocket import websocket_connect

        ws = await websocket_connect(url, max_message_size=512 * 1024 * 1024)
        return cls(ws)

    async def _read(self):
        while True:
            raw = await self.ws.read_message()
            if raw is None:
                for fut in self.pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("DevTools connection closed"))
                return
            msg = json.loads(raw)
            if "id" in msg:
                fut = self.pending.pop(msg["id"], None)
                if fut is not None and not fut.done():
                    if "error" in msg:
                        fut.set_exception(RuntimeError(f"CDP error: {msg['error']}"))
                    else:
                        fut.set_result(msg.get("result", {}))
            else:
                for listener in list(self.listeners):
                    listener(msg)

    async def send(self, method, timeout=60, session=None, **params):
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        await self.ws.write_message(json.dumps(msg))
        return await asyncio.wait_for(fut, timeout)

    def close(self):
        self.reader.cancel()
        self.ws.close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


def serve(directory):
    """Serve ``directory`` on 127.0.0.1 at an ephemeral port in a daemon thread."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_chromium(executable, profile, extra_flags=()):
    proc = subprocess.Popen([executable, *CHROMIUM_FLAGS, *extra_flags,
                             f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"Chromium exited with code {proc.returncode}:\n{err}")
        if port_file.exists():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return proc, f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("Chromium did not open its DevTools port within 60 s")


def toc_files(toc_path):
    """The files (without suffix) a jb-book _toc.yml lists: root, chapters, sections."""
    files = []
    for line in Path(toc_path).read_text().splitlines():
        m = re.match(r"^\s*(?:-\s*)?(?:root|file):\s*['\"]?([^'\"#\s]+)", line)
        if m:
            files.append(re.sub(r"\.(ipynb|md)$", "", m.group(1)))
    return files


def page_checks(name, info, status, js_errors, failed_requests, is_chapter):
    """The list of problems found on one page (empty when it passes)."""
    problems = []
    if status != 200:
        problems.append(f"HTTP status {status}")
    if not info.get("title"):
        problems.append("no <title>")
    if not info.get("has_article"):
        problems.append("no article/main element")
    for err in js_errors:
        if not any(known.search(err) for known in KNOWN_JS_ERRORS):
            problems.append(f"JavaScript error: {err}")
    for url in dict.fromkeys(failed_requests):
        if not IGNORED_URLS.search(url.split(" ")[0]):
            problems.append(f"failed to load {url}")
    broken = [img["src"] for img in info.get("images", []) if img["width"] <= 0]
    for src in dict.fromkeys(broken):
        problems.append(f"image not rendered (naturalWidth 0): {src}")
    no_alt = [img["src"] for img in info.get("images", []) if img.get("figure") and not img["alt"]]
    if no_alt:
        problems.append(f"{len(no_alt)} notebook figure(s) without alt text, "
                        f"e.g. {no_alt[0][:80]}")
    if info.get("empty_outputs_shown"):
        problems.append(f"{info['empty_outputs_shown']} empty cell output(s) take up space")
    if info.get("math_elements"):
        if info.get("mathjax") != "loaded":
            problems.append("MathJax did not load (offline? pass --mathjax-dir)")
        if info.get("unrendered_math"):
            shown = "; ".join(info["unrendered_math"][:3])
            problems.append(f"{len(info['unrendered_math'])} math elements not rendered "
                            f"by MathJax, e.g. {shown!r}")
    for k, move in enumerate(info.get("slider_moves", [])):
        if not move.get("changed"):
            problems.append(f"precomputed slider {k + 1}: the frame did not change when "
                            f"the slider moved ({move})")
    if info.get("raw_dollars"):
        problems.append(f"raw $$ left in the page text ({info['raw_dollars']}x)")
    if is_chapter and info.get("exercises", 0) == 0:
        problems.append("chapter page shows no exercise admonition")
    for sol in info.get("solutions", []):
        if not (sol["dropdown"] and sol["toggle"] and sol["hidden"]):
            problems.append(f"solution {sol['id']} is not a hidden dropdown with a toggle "
                            f"(dropdown={sol['dropdown']}, toggle={sol['toggle']}, "
                            f"hidden={sol['hidden']})")
    return problems


# Where the k-th precomputed slider is and what it shows.
SLIDER_JS = r"""
((k) => {
  const root = document.querySelectorAll(".fpnotes-slider")[k];
  const input = root.querySelector("input[type=range]");
  const img = root.querySelector("img");
  root.scrollIntoView({block: "center"});
  const r = input.getBoundingClientRect();
  return {x: r.x + r.width / 2, y: r.y + r.height / 2, value: input.value,
          max: input.max, src: img.src, alt: img.alt,
          label: root.querySelector("output").textContent,
          shown: img.complete && img.naturalWidth > 0};
})
"""


async def _screenshot_at(cdp, session, selector, block, path):
    """Scroll the first element matching ``selector`` into view and save a screenshot."""
    await cdp.send("Runtime.evaluate", session=session, expression=(
        f"document.querySelector({selector!r}).scrollIntoView({{block: {block!r}}})"))
    await asyncio.sleep(0.3)
    shot = await cdp.send("Page.captureScreenshot", session=session, format="png")
    path.write_bytes(base64.b64decode(shot["data"]))


async def move_sliders(cdp, session, count):
    """Move each precomputed slider by the keyboard, as a reader would: click its range
    input, press the right (or, at the end, left) arrow; report whether the frame changed."""
    moves = []
    for k in range(count):
        async def state(k=k):
            res = await cdp.send("Runtime.evaluate", session=session, returnByValue=True,
                                 expression=f"({SLIDER_JS})({k})")
            return res["result"]["value"]

        before = await state()
        await asyncio.sleep(0.2)  # scrolled into view
        before = await state()
        for kind in ("mousePressed", "mouseReleased"):  # focus it (a click on the thumb's row)
            await cdp.send("Input.dispatchMouseEvent", session=session, type=kind,
                           x=before["x"], y=before["y"], button="left", clickCount=1)
        clicked = await state()
        key = "ArrowLeft" if clicked["value"] == clicked["max"] else "ArrowRight"
        code = 37 if key == "ArrowLeft" else 39
        for kind in ("rawKeyDown", "keyUp"):
            await cdp.send("Input.dispatchKeyEvent", session=session, type=kind, key=key,
                           code=key, windowsVirtualKeyCode=code)
        await asyncio.sleep(0.2)
        after = await state()
        moves.append({"value": f"{before['value']} -> {after['value']}",
                      "label": f"{before['label']} -> {after['label']}",
                      "changed": after["src"] != clicked["src"] and after["shown"]
                      and after["alt"] != clicked["alt"] and after["value"] != clicked["value"]})
    return moves


async def check_pages(browser_ws, base_url, pages, screenshots, mathjax_dir, timeout):
    cdp = await CDP.connect(browser_ws)
    target = await cdp.send("Target.createTarget", url="about:blank")
    attached = await cdp.send("Target.attachToTarget", targetId=target["targetId"],
                              flatten=True)
    session = attached["sessionId"]
    state = {}

    def on_event(msg):
        if msg.get("sessionId") != session:
            return
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Page.loadEventFired":
            state["loaded"].set()
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            state["js_errors"].append(str(text).splitlines()[0][:200])
        elif method == "Network.responseReceived":
            resp = params["response"]
            if params.get("type") == "Document" and resp["url"].startswith(state["url"]):
                state["status"] = resp["status"]
            if resp["url"].startswith(base_url) and resp["status"] >= 400:
                state["failed"].append(f"{resp['url']} (HTTP {resp['status']})")
        elif method == "Network.loadingFailed":
            if params.get("requestId") in state["local_requests"] and not params.get("canceled"):
                state["failed"].append(state["local_requests"][params["requestId"]])
        elif method == "Network.requestWillBeSent":
            if params["request"]["url"].startswith(base_url):
                state["local_requests"][params["requestId"]] = params["request"]["url"]
        elif method == "Fetch.requestPaused":
            asyncio.ensure_future(fulfil_mathjax(params))

    async def fulfil_mathjax(params):
        url = params["request"]["url"]
        m = MATHJAX_CDN.match(url)
        path = (Path(mathjax_dir) / m.group("path")) if m else None
        if path is not None and path.is_file():
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            await cdp.send("Fetch.fulfillRequest", session=session,
                           requestId=params["requestId"], responseCode=200,
                           responseHeaders=[{"name": "Content-Type", "value": ctype},
                                            {"name": "Access-Control-Allow-Origin",
                                             "value": "*"}],
                           body=base64.b64encode(path.read_bytes()).decode())
        else:
            await cdp.send("Fetch.continueRequest", session=session,
                           requestId=params["requestId"])

    cdp.listeners.append(on_event)
    for domain in ("Page", "Runtime", "Network"):
        await cdp.send(f"{domain}.enable", session=session)
    await cdp.send("Emulation.setDeviceMetricsOverride", session=session, width=1280,
                   height=1000, deviceScaleFactor=1, mobile=False)
    if mathjax_dir:
        await cdp.send("Fetch.enable", session=session, patterns=[
            {"urlPattern": "https://cdn.jsdelivr.net/npm/mathjax@3*", "requestStage": "Request"}])

    results = {}
    for page in pages:
        url = f"{base_url}/{page}"
        state.update(loaded=asyncio.Event(), js_errors=[], failed=[], status=None, url=url,
                     local_requests={})
        problems = []
        info = {}
        try:
            await cdp.send("Page.navigate", session=session, url=url)
            await asyncio.wait_for(state["loaded"].wait(), timeout)
            res = await cdp.send("Runtime.evaluate", session=session, timeout=timeout + 30,
                                 expression=f"({INSPECT_JS})({int(timeout * 1000)})",
                                 awaitPromise=True, returnByValue=True)
            if "exceptionDetails" in res:
                problems.append(f"inspection script failed: {res['exceptionDetails']}")
            else:
                info = res["result"]["value"]
            if info.get("sliders"):
                info["slider_moves"] = await move_sliders(cdp, session, info["sliders"])
            await asyncio.sleep(0.3)  # let the last failed requests arrive
            shot = await cdp.send("Page.captureScreenshot", session=session, format="png")
            out = Path(screenshots) / (Path(page).with_suffix(".png").name)
            out.write_bytes(base64.b64decode(shot["data"]))
            if info.get("sliders"):  # the first precomputed slider, after its move
                await _screenshot_at(cdp, session, ".fpnotes-slider", "center",
                                     out.with_name(f"{out.stem}-slider.png"))
            if info.get("exercises"):  # a second view: the first exercise and its solution
                await _screenshot_at(cdp, session, "div.exercise.admonition", "start",
                                     out.with_name(f"{out.stem}-exercises.png"))
        except (asyncio.TimeoutError, RuntimeError, ConnectionError) as exc:
            problems.append(f"page did not load/inspect within {timeout:.0f} s: {exc!r}")
        is_chapter = bool((m := CHAPTER.match(Path(page).name)) and int(m.group(1)) > 0)
        if info:
            problems += page_checks(page, info, state["status"], state["js_errors"],
                                    state["failed"], is_chapter)
        notes = [e for e in state["js_errors"] if any(k.search(e) for k in KNOWN_JS_ERRORS)]
        results[page] = (problems, info, notes)
    cdp.close()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default="_build/html", help="built HTML folder")
    parser.add_argument("--toc", help="_toc.yml whose every file must have been built")
    parser.add_argument("--screenshots", default="_build/screenshots")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--mathjax-dir", default=os.environ.get("FPNOTES_MATHJAX_DIR"),
                        help="local MathJax 3 folder (with es5/) served in place of the CDN")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per page")
    args = parser.parse_args(argv)

    html = Path(args.html).resolve()
    chromium = shutil.which(args.chromium) or args.chromium
    if not Path(chromium).exists():
        print(f"browser test: Chromium not found at {args.chromium} "
              "(apt-get install chromium, or set CHROMIUM=...)", file=sys.stderr)
        return 2
    pages = sorted(p.relative_to(html).as_posix() for p in (html / "book").glob("*.html"))
    if not pages:
        print(f"browser test: no pages in {html}/book (build the book first)", file=sys.stderr)
        return 2
    if args.mathjax_dir and not (Path(args.mathjax_dir) / "es5" / "tex-mml-chtml.js").is_file():
        print(f"browser test: {args.mathjax_dir}/es5/tex-mml-chtml.js not found",
              file=sys.stderr)
        return 2
    missing = []
    if args.toc:
        missing = [f for f in toc_files(args.toc) if not (html / f"{f}.html").is_file()]
    Path(args.screenshots).mkdir(parents=True, exist_ok=True)

    server = serve(html)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    profile = tempfile.mkdtemp(prefix="fpnotes-chromium-")
    proc = None
    try:
        for page in pages:  # plain HTTP first: a clear message if the server is wrong
            with urllib.request.urlopen(f"{base_url}/{page}", timeout=10) as resp:
                resp.read()
        proc, browser_ws = start_chromium(chromium, profile)
        results = asyncio.run(check_pages(browser_ws, base_url, pages, args.screenshots,
                                          args.mathjax_dir, args.timeout))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)

    failed = 0
    print(f"Browser test of {html} ({len(pages)} pages, screenshots in {args.screenshots})")
    notes = set()
    for page, (problems, info, page_notes) in results.items():
        notes.update(page_notes)
        figures = sum(bool(img.get("figure")) for img in info.get("images", []))
        summary = (f"{len(info.get('images', []))} img ({figures} figures), "
                   f"{info.get('mjx', 0)} math, "
                   f"{info.get('exercises', 0)} exercises, "
                   f"{len(info.get('solutions', []))} solutions")
        if info.get("sliders"):
            moved = sum(bool(m.get("changed")) for m in info.get("slider_moves", []))
            summary += f", {moved}/{info['sliders']} sliders move"
        print(f"  {'FAIL' if problems else 'ok  '}  {page:40s} {summary}")
        for problem in problems:
            print(f"          - {problem}")
        failed += bool(problems)
    for note in sorted(notes):
        print(f"  note: tolerated known JavaScript error: {note}")
    for f in missing:
        print(f"  FAIL  {f}: listed in {args.toc} but not built")
    if failed or missing:
        print(f"browser test FAILED: {failed} page(s) with problems, {len(missing)} missing")
        return 1
    print("browser test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
