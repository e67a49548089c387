"""Open the built docs site in headless Chromium and check what a reader sees (``make docs-check``).

Serves ``site/`` on 127.0.0.1, drives Chromium through its DevTools protocol, and for each tutorial page
asserts that the math was typeset by MathJax (no raw ``$$`` or TeX left in the visible text, no TeX
errors), that the graph pictures (SVG) and the explain reports (HTML tables) are there, and that the page
requested nothing from another host and got no 404. Screenshots go to ``site/_screenshots/``.

Usage: python docs/check_site.py [SITE_DIR]   (exit 0: all good; 1: a check failed; 2: cannot run)
"""

from __future__ import annotations

import base64
import functools
import http.server
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]
LOCAL_SCHEMES = ("data", "blob", "about")
WIDTH, HEIGHT, MAX_SHOT_HEIGHT = 1600, 1000, 12000  # a desktop screen
PAGE_TIMEOUT_S = 60.0

# Run in the page once MathJax has finished: what a reader would see.
_INSPECT_JS = r"""
(() => {
  const visible = document.body.cloneNode(true);
  visible.querySelectorAll('pre, code, script, style, .MathJax_Preview, .MJX_Assistive_MathML, textarea')
    .forEach((e) => e.remove());
  const text = visible.textContent;
  const images = [...document.querySelectorAll('img[src^="data:image/svg+xml"]')];
  const output = document.querySelectorAll('.jp-OutputArea-output');
  const inlineSvg = [...document.querySelectorAll('.jp-OutputArea-output svg')];
  return {
    title: document.title,
    typeset: document.querySelectorAll('.MathJax, .MathJax_CHTML, .MathJax_SVG, mjx-container').length,
    texErrors: document.querySelectorAll('.mjx-merror, .MathJax_Error, mjx-merror').length,
    rawDisplayMath: (text.match(/\$\$/g) || []).length,
    rawTex: (text.match(/\\(frac|begin|sigma|partial|stackrel|operatorname)\b/g) || []).slice(0, 5),
    svgGraphs: images.filter((i) => i.complete && i.naturalWidth > 0).length + inlineSvg.length,
    brokenSvg: images.filter((i) => !(i.complete && i.naturalWidth > 0)).length,
    pngFigures: [...document.querySelectorAll('img[src^="data:image/png"]')]
      .filter((i) => i.naturalWidth > 0).length,
    reportTables: document.querySelectorAll('.jp-OutputArea-output table').length,
    outputs: output.length,
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})()
"""

# Resolves once MathJax's start-up typesetting, and anything queued after it, is done.
_MATHJAX_DONE_JS = r"""
new Promise((resolve) => {
  const t0 = Date.now();
  if (!document.querySelector('script[src*="MathJax.js"]')) {
    resolve('no MathJax');
    return;
  }
  (function poll() {
    if (window.MathJax && MathJax.Hub && MathJax.Hub.Register) {
      // The hook must return nothing: a returned callback would make MathJax's start-up wait for it.
      MathJax.Hub.Register.StartupHook('End', () => { MathJax.Hub.Queue(() => { resolve('done'); }); });
    } else if (Date.now() - t0 > 20000) {
      resolve('MathJax did not start');
    } else {
      setTimeout(poll, 100);
    }
  })();
})
"""


class CheckFailed(Exception):
    pass


class DevTools:
    """The smallest DevTools client that does the job: one websocket, flattened target sessions."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client, from the [docs] extra

        self.ws = websocket.create_connection(ws_url, timeout=PAGE_TIMEOUT_S, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise CheckFailed(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = PAGE_TIMEOUT_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for k, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(k)
            if time.monotonic() > deadline:
                raise CheckFailed(f"timed out waiting for {method}")
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        self.ws.close()


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("check_site: error: no chromium found (Debian: apt-get install -y chromium)")


def _serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _launch(profile: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if port_file.is_file():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return proc, f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        if proc.poll() is not None:
            raise SystemExit(f"check_site: error: chromium exited with status {proc.returncode}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("check_site: error: chromium did not open its DevTools port within 30 s")


def _screenshot(cdp: DevTools, session: str, path: Path, clip: dict[str, float]) -> None:
    shot = cdp.call(
        "Page.captureScreenshot", session, format="png", captureBeyondViewport=True, clip={**clip, "scale": 1}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def _element_clip(cdp: DevTools, session: str, selector: str) -> dict[str, float] | None:
    js = f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
      if (!e) return null; const r = e.getBoundingClientRect();
      return {{x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}}; }})()"""
    rect = cdp.call("Runtime.evaluate", session, expression=js, returnByValue=True)["result"].get("value")
    if not rect or rect["width"] < 1 or rect["height"] < 1:
        return None
    pad = 12
    return {
        "x": max(rect["x"] - pad, 0),
        "y": max(rect["y"] - pad, 0),
        "width": min(rect["width"] + 2 * pad, WIDTH),
        "height": min(rect["height"] + 2 * pad, 3000),
    }


def check_page(cdp: DevTools, base: str, path: str, shots: Path, expect: dict[str, int]) -> dict[str, Any]:
    """Load one page in a fresh tab, wait for MathJax, inspect it, screenshot it; raise CheckFailed."""
    target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
    session = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    try:
        for domain in ("Page", "Network", "Runtime"):
            cdp.call(f"{domain}.enable", session)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        cdp.events.clear()
        cdp.call("Page.navigate", session, url=base + path)
        start = time.monotonic()
        cdp.wait_for("Page.loadEventFired")
        loaded = time.monotonic()
        mathjax = cdp.call(
            "Runtime.evaluate", session, expression=_MATHJAX_DONE_JS, awaitPromise=True, returnByValue=True
        )["result"]["value"]
        seen_timing = {"load_s": loaded - start, "math_s": time.monotonic() - loaded}
        time.sleep(0.3)  # let images decode and late font requests arrive
        seen = cdp.call("Runtime.evaluate", session, expression=_INSPECT_JS, returnByValue=True)["result"][
            "value"
        ]
        # Drain the network events of this page: every request must stay on this machine and succeed.
        cdp.call("Runtime.evaluate", session, expression="1")
        problems, urls = [], {}
        for event in cdp.events:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            if event.get("method") == "Network.requestWillBeSent":
                url = urls[params["requestId"]] = params["request"]["url"]
                if urlparse(url).scheme in LOCAL_SCHEMES:
                    continue  # e.g. MathJax probes fonts with url(about:blank)
                if urlparse(url).hostname != "127.0.0.1":
                    problems.append(f"requested another host: {url}")
            elif event.get("method") == "Network.responseReceived" and params["response"]["status"] >= 400:
                problems.append(f"HTTP {params['response']['status']} for {params['response']['url']}")
            elif event.get("method") == "Network.loadingFailed" and not params.get("canceled"):
                url = urls.get(params["requestId"], "?")
                if urlparse(url).scheme not in LOCAL_SCHEMES:
                    problems.append(f"failed to load {url}: {params.get('errorText')}")
        cdp.events.clear()

        stem = path.strip("/").replace("/", "_") or "index"
        _screenshot(
            cdp,
            session,
            shots / f"{stem}.png",
            {"x": 0, "y": 0, "width": WIDTH, "height": min(seen["height"], MAX_SHOT_HEIGHT)},
        )
        for name, selector in (
            ("graph", 'img[src^="data:image/svg+xml"]'),
            ("report", ".jp-OutputArea-output table"),
        ):
            clip = _element_clip(cdp, session, selector)
            if clip and expect.get(name):
                if name == "report":  # the whole report, not only its first table
                    clip = _element_clip(cdp, session, ".jp-OutputArea-output:has(table)") or clip
                _screenshot(cdp, session, shots / f"{stem}.{name}.png", clip)

        if expect.get("math"):
            if mathjax != "done":
                problems.append(f"MathJax: {mathjax}")
            if seen["typeset"] < expect["math"]:
                problems.append(
                    f"only {seen['typeset']} typeset formulas (expected at least {expect['math']})"
                )
        if seen["texErrors"]:
            problems.append(f"{seen['texErrors']} TeX errors")
        if seen["rawDisplayMath"] or seen["rawTex"]:
            problems.append(f"raw math left in the text: {seen['rawDisplayMath']} '$$', {seen['rawTex']}")
        if seen["svgGraphs"] < expect.get("graph", 0):
            problems.append(f"{seen['svgGraphs']} graph SVGs (expected at least {expect['graph']})")
        if seen["brokenSvg"]:
            problems.append(f"{seen['brokenSvg']} SVG images did not decode")
        if seen["reportTables"] < expect.get("report", 0):
            problems.append(f"{seen['reportTables']} report tables (expected at least {expect['report']})")
        if problems:
            raise CheckFailed(f"{path}: " + "; ".join(problems))
        return {**seen, **seen_timing}
    finally:
        cdp.call("Target.closeTarget", targetId=target)


def pages(site: Path) -> dict[str, dict[str, int]]:
    """Every tutorial page (math, a graph and a report expected) plus the explain guide and the home page."""
    found = {
        f"tutorials/{p.name}/": {"math": 3, "graph": 1, "report": 1}
        for p in sorted((site / "tutorials").iterdir())
        if (p / "index.html").is_file()
    }
    if not found:
        raise SystemExit(
            f"check_site: error: no tutorial pages under {site / 'tutorials'} (run mkdocs build)"
        )
    return {**found, "explain/": {}, "": {}}


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else "site").resolve()
    if not (site / "index.html").is_file():
        print(f"check_site: error: {site} has no index.html (run `make docs` first)", file=sys.stderr)
        return 2
    shots = site / "_screenshots"
    shots.mkdir(exist_ok=True)
    server, base = _serve(site)
    profile = Path(tempfile.mkdtemp(prefix="chainrule-chromium-"))
    proc, ws_url = _launch(profile)
    failures = 0
    try:
        cdp = DevTools(ws_url)
        for path, expect in pages(site).items():
            try:
                seen = check_page(cdp, base, path, shots, expect)
                print(
                    f"ok   /{path}: {seen['typeset']} formulas, {seen['svgGraphs']} graphs, "
                    f"{seen['reportTables']} report tables, {seen['pngFigures']} figures "
                    f"(loaded in {seen['load_s']:.1f} s, math typeset {seen['math_s']:.1f} s later)"
                )
            except CheckFailed as e:
                failures += 1
                print(f"FAIL {e}")
        cdp.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"screenshots in {shots.relative_to(Path.cwd()) if shots.is_relative_to(Path.cwd()) else shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
