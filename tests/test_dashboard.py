"""batch-audiobook serve: a real batch, the dashboard served, headless Chromium watching it.

Screenshots are kept under test-artifacts/dashboard/ (or $AUDIOBOOK_TEST_ARTIFACTS/dashboard/);
the test prints the folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from audiobook.batch import EXIT_BOOKS_FAILED
from cdp import CHROMIUM, Browser
from runs import BATCH, BOOK_IDS, FAILING_ID, GOOD_IDS, make_folder, run_batch, start_batch, wait_for

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("AUDIOBOOK_TEST_ARTIFACTS", REPO / "test-artifacts")) / "dashboard"
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh --test installs it)")


class Dashboard:
    """``batch-audiobook serve`` on a free port, in the batch's folder; stopped by the test."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.process = subprocess.Popen([BATCH, "serve", "--port", "0", "--refresh", "0.5", *args], cwd=workdir,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.process.stdout.readline()
        assert "http://127.0.0.1:" in first, first + self.process.stderr.read()
        self.url = first.split("http://", 1)[1].split()[0]
        self.url = "http://" + self.url

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, b""

    def state(self) -> dict:
        return json.loads(self.get("/api/state")[1])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def artifacts(request) -> Path:
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture
def browser(tmp_path):
    opened = Browser(tmp_path / "chromium-profile")
    yield opened
    opened.close()


def row_state(book_id: str) -> str:
    return f"document.querySelector('tr[data-book=\"{book_id}\"]')?.dataset.state"


@pytest.mark.slow
@needs_chromium
def test_chromium_sees_books_change_state_the_failed_reason_and_the_summary(tmp_path, browser, artifacts):
    workdir = make_folder(tmp_path, gated=True)
    gate = tmp_path / "gate"
    batch = start_batch(workdir, gate)
    dashboard = None
    try:
        # Two books (the workers) are held at the gate: the run is going, no book has begun.
        wait_for(lambda: len(list(gate.glob("*.arrived"))) == 2, "two books at the gate")
        dashboard = Dashboard(workdir, "--config", "test.yaml")
        browser.navigate(dashboard.url)
        browser.wait_until("document.getElementById('run').dataset.running === 'yes'", "the run shown as going")
        browser.wait_until("document.querySelectorAll('#books tbody tr').length === 3", "a row per book")
        assert browser.evaluate(f"[...document.querySelectorAll('#books tbody tr')].map(r => r.dataset.book)") == BOOK_IDS
        assert {browser.evaluate(row_state(b)) for b in BOOK_IDS} == {"waiting"}
        assert "The summary appears when the run ends." in browser.evaluate("document.body.innerText")
        browser.evaluate("window.sameDocument = 'not reloaded'")
        browser.screenshot(artifacts / "1-waiting.png")

        # Let one good book through: its row turns to success by itself.
        first = next(b for b in GOOD_IDS if (gate / f"{b}.arrived").exists())
        (gate / f"{first}.open").write_text("")
        browser.wait_until(f"{row_state(first)} === 'success'", f"{first} shown as made")
        assert browser.evaluate("window.sameDocument") == "not reloaded"
        assert browser.evaluate("document.getElementById('run').dataset.running") == "yes"
        browser.screenshot(artifacts / "2-one-made.png")

        # Let the rest through: the failed book's reason, then the summary.
        (gate / "open").write_text("")
        browser.wait_until(f"{row_state(FAILING_ID)} === 'failed'", "the failed book")
        reason = browser.evaluate(f"document.querySelector('tr[data-book=\"{FAILING_ID}\"] .reason').textContent")
        assert reason == "blank.pdf: is empty (0 bytes); copy the book again from its source"
        browser.wait_until("document.getElementById('summary').dataset.status === 'partial'", "the summary")
        text = browser.evaluate("document.getElementById('summary').innerText")
        for label, value in (("Total books", "3"), ("Successful", "2"), ("Failed", "1"), ("Status", "PARTIAL")):
            assert f"{label}\t{value}" in text, text
        assert browser.evaluate("document.getElementById('run').dataset.running") == "no"
        browser.wait_until("document.querySelectorAll('#plots img').length === 4", "the report's plots")
        browser.wait_until("[...document.querySelectorAll('#plots img')].every(i => i.complete && i.naturalWidth > 0)",
                           "the plots drawn")
        browser.wait_until("document.querySelector('#history tbody tr')?.dataset.outcome === 'partial'", "the run in the history")
        # The log link opens the book's log.
        link = browser.evaluate(f"document.querySelector('tr[data-book=\"{FAILING_ID}\"] a.log').href")
        log = browser.evaluate(f"fetch({json.dumps(link)}).then(r => r.text())")
        assert "is empty" in log
        assert browser.evaluate("window.sameDocument") == "not reloaded", "all of it without a reload"
        browser.screenshot(artifacts / "3-summary.png")
        assert batch.wait(timeout=300) == EXIT_BOOKS_FAILED
    finally:
        (gate / "open").write_text("")
        if batch.poll() is None:
            batch.wait(timeout=300)
        if dashboard is not None:
            dashboard.stop()
    for shot in ("1-waiting.png", "2-one-made.png", "3-summary.png"):
        assert (artifacts / shot).read_bytes().startswith(b"\x89PNG"), shot


@pytest.mark.slow
def test_only_files_of_the_results_folder_are_served_and_never_by_a_path_from_the_url(tmp_path):
    workdir = make_folder(tmp_path)
    assert run_batch(workdir).returncode == EXIT_BOOKS_FAILED
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    (workdir / "results" / "river-pdf" / "stolen.m4b").symlink_to(secret)
    (workdir / "results" / "logs" / "linked-pdf.log").symlink_to(secret)
    dashboard = Dashboard(workdir, "--config", "test.yaml")
    try:
        status, body = dashboard.get(f"/books/{FAILING_ID}/log")
        assert status == 200 and b"is empty" in body
        assert dashboard.get("/plots/status_counts.png")[1].startswith(b"\x89PNG")
        for path in (
            "/books/..%2F..%2Fsecret.txt/log", "/books/river-pdf/audio/..%2F..%2F..%2Fsecret.txt",
            "/books/river-pdf/audio/stolen.m4b", "/books/linked-pdf/log", "/plots/..%2Freport.csv",
            "/plots/report.csv", "/static/..%2F..%2Fhistory.py", "/books/.hidden/log", "/test.yaml",
        ):
            status, body = dashboard.get(path)
            assert status == 404 and b"not for the web" not in body, path
        state = dashboard.state()
        assert [book["id"] for book in state["books"]] == BOOK_IDS
        assert state["summary"]["failed_files"] == 1 and state["run"]["running"] is False
        assert "password" not in json.dumps(state).lower()
    finally:
        dashboard.stop()


def test_serve_help_states_the_risk_of_other_hosts():
    proc = subprocess.run([BATCH, "serve", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "--host" in proc.stdout and "without a password" in proc.stdout and "127.0.0.1" in proc.stdout


def test_serve_on_a_folder_that_is_not_there_is_one_line(tmp_path):
    proc = subprocess.run([BATCH, "serve", "--results-dir", str(tmp_path / "nope")], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2 and "no such folder" in proc.stderr and "Traceback" not in proc.stderr
