"""Headless Chromium driven over the DevTools protocol (websocket-client), for the dashboard test.

Uses the Debian ``chromium`` already on the machine; never downloads a browser.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0", "--window-size=1280,1600"]


class Browser:
    """One Chromium process with one page; ``close()`` ends the process this started."""

    def __init__(self, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        active = profile / "DevToolsActivePort"
        self._wait(lambda: active.is_file() and len(active.read_text().splitlines()) >= 2, "Chromium's DevTools port")
        port = int(active.read_text().splitlines()[0])
        targets: list[dict[str, Any]] = []

        def page_listed() -> bool:
            nonlocal targets
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                targets = [t for t in json.load(response) if t.get("type") == "page"]
            return bool(targets)

        self._wait(page_listed, "Chromium's page")
        self.socket = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=60,
                                                  suppress_origin=True)
        self._next_id = 0
        self.call("Page.enable")
        self.call("Runtime.enable")

    @staticmethod
    def _wait(predicate, what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if predicate():
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        self.socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_until(f"location.href === {json.dumps(url)} && document.readyState === 'complete'", f"{url} to load")

    def wait_until(self, expression: str, what: str, seconds: float = 120) -> None:
        """Wait until the page says ``expression`` is true (the limit only ends a broken test)."""
        deadline = time.monotonic() + seconds
        while not self.evaluate(f"Boolean({expression})"):
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(f"timed out waiting for {what}; the page says:\n{text}")
            time.sleep(0.2)

    def screenshot(self, path: Path) -> Path:
        height = self.evaluate("Math.max(document.documentElement.scrollHeight, 800)")
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
