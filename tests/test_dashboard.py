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


# The smallest PNG: one transparent pixel, as a book's cover.
PNG_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def seconds(clock: str) -> int:
    """'1:05' -> 65, as the page writes times."""
    minutes, _, rest = clock.rpartition(":")
    return int(minutes or 0) * 60 + int(rest)


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
        title = browser.evaluate(f"document.querySelector('#books tr[data-book=\"{first}\"] .title').textContent")
        assert title == {"river-pdf": "River \u2014 Test Author", "meadow-epub": "Meadow \u2014 Test Author"}[first]
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
        assert state["history"] and all("command" not in run for run in state["history"]), "commands may hold secrets"
    finally:
        dashboard.stop()


def test_serve_help_states_the_risk_of_other_hosts():
    proc = subprocess.run([BATCH, "serve", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "--host" in proc.stdout and "without a password" in proc.stdout and "127.0.0.1" in proc.stdout
    main_help = subprocess.run([BATCH, "--help"], capture_output=True, text=True).stdout
    assert "batch-audiobook serve" in main_help and "batch-audiobook history" in main_help


def test_serve_on_a_folder_that_is_not_there_is_one_line(tmp_path):
    proc = subprocess.run([BATCH, "serve", "--results-dir", str(tmp_path / "nope")], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2 and "no such folder" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
@needs_chromium
def test_a_finished_book_has_an_audio_player_its_chapters_loudness_and_speed(tmp_path, browser, artifacts):
    from books import epub_book

    books = tmp_path / "in"
    books.mkdir()
    epub_book(books, "meadow.epub", chapters=2, paragraphs=1)
    (tmp_path / "test.yaml").write_text("cpu_threshold: 100\nthrottle_max_wait: 0\ninput_dir: in\n")
    made = subprocess.run([BATCH, "--config", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    dashboard = Dashboard(tmp_path, "--config", "test.yaml")
    try:
        browser.navigate(dashboard.url)
        card = "document.querySelector('.book-card[data-book=\"meadow-epub\"]')"
        browser.wait_until(card, "the finished book's card")
        chapters = browser.evaluate(f"[...{card}.querySelectorAll('.chapters li')].map(li => li.textContent)")
        assert [chapter.split("  ", 1)[1] for chapter in chapters] == ["Chapter 1", "Chapter 2"], chapters
        assert chapters[0].startswith("0:00") and seconds(chapters[1].split()[0]) > 5, chapters
        facts = browser.evaluate(f"{card}.querySelector('p').textContent")
        assert "loudness -19" in facts or "loudness -18" in facts or "loudness -20" in facts, facts
        assert "true peak" in facts and "real-time factor" in facts
        # The player plays the real file: the browser reads its length from the server.
        browser.evaluate(f"{card}.querySelector('audio').preload = 'metadata'")
        browser.evaluate(f"{card}.querySelector('audio').load()")
        browser.wait_until(f"{card}.querySelector('audio').duration > 20", "the audiobook's length in the player")
        state = dashboard.state()["books"][0]
        assert abs(browser.evaluate(f"{card}.querySelector('audio').duration") - state["audio_seconds"]) < 1
        browser.screenshot(artifacts / "finished-book.png")
    finally:
        dashboard.stop()


@needs_chromium
def test_a_book_in_phase_4_shows_its_chunks_and_an_estimate_as_they_change(tmp_path, browser, artifacts):
    """The files a running book writes, written here step by step: each step is a gate the test opens."""
    import time

    from audiobook import history
    from audiobook.aggregate import RUN_MARKER
    from audiobook.fileio import write_json

    results = tmp_path / "results"
    work = results / "slow-pdf" / "work"
    work.mkdir(parents=True)
    now = time.time()
    started = now - 60
    # A run started a minute ago from another host (a cluster's submit host): this one cannot see it end.
    marker = {"started_at": started, "books": 2, "pid": 4242, "host": "submit-host"}
    write_json(results / RUN_MARKER, marker)
    history.start_run(results, history.RunKey.from_marker(marker), ["slow-pdf", "later-pdf"], "snakemake", "d")
    (results / "logs").mkdir()
    (results / "logs" / "slow-pdf.log").write_text(
        time.strftime("[%Y-%m-%d %H:%M:%S]", time.localtime(started)) + " [START] slow-pdf\n")
    write_json(work / "progress.json", {"phase": 4, "name": "speak", "state": "running", "time": now - 30})
    write_json(work / "speak_progress.json", {"done": 3, "total": 10})
    dashboard = Dashboard(tmp_path, "--results-dir", "results", "--pipeline-json", "pipeline.json")
    try:
        browser.navigate(dashboard.url)
        row = "document.querySelector('tr[data-book=\"slow-pdf\"]')"
        browser.wait_until(f"{row}?.dataset.state === 'running'", "the book running")
        assert browser.evaluate("document.querySelector('tr[data-book=\"later-pdf\"]').dataset.state") == "waiting"
        assert browser.evaluate(f"{row}.querySelector('progress').value") == 3
        cells = browser.evaluate(f"[...{row}.cells].map(c => c.textContent)")
        assert cells[2] == "4 speak" and "3/10 chunks" in cells[3]
        # Lower bounds only: a slow machine makes both grow, never shrink.
        assert seconds(cells[4]) >= 60, cells  # its log began a minute ago
        assert cells[5].endswith(" left") and seconds(cells[5].split()[1]) >= 70, cells  # 30 s for 3 chunks: 7 more
        browser.evaluate("window.sameDocument = 'not reloaded'")
        browser.screenshot(artifacts / "phase-4.png")

        write_json(work / "speak_progress.json", {"done": 7, "total": 10})
        browser.wait_until(f"{row}.querySelector('progress')?.value === 7", "the chunks moving on")
        assert browser.evaluate(f"{row}.cells[0].textContent") == "slow-pdf", "no record yet: the id"
        metrics = {"title": "The Slow River", "author": "A. Writer", "cover": True}
        write_json(results / "slow-pdf" / "book.json", {"status": "success", "finished_at": time.time(), "duration": 95.0,
                                                        "file_name": "slow.pdf", "phases": {"2": {"metrics": metrics}},
                                                        "outputs": []})
        (work / "cover.png").write_bytes(PNG_PIXEL)
        browser.wait_until(f"{row}.dataset.state === 'success'", "the book finished")
        # Found by its title and author now, the id beneath, and its cover drawn beside.
        assert browser.evaluate(f"{row}.querySelector('.title').textContent") == "The Slow River \u2014 A. Writer"
        assert browser.evaluate(f"{row}.querySelector('.id').textContent") == "slow-pdf"
        browser.wait_until(f"{row}.querySelector('img.cover')?.naturalWidth === 1", "the cover drawn")
        assert browser.evaluate("window.sameDocument") == "not reloaded"
    finally:
        dashboard.stop()


def test_serving_other_hosts_says_who_can_see_what(tmp_path):
    (tmp_path / "results").mkdir()
    server = subprocess.Popen([BATCH, "serve", "--results-dir", "results", "--host", "0.0.0.0", "--port", "0"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        warning = server.stderr.readline()
        address = server.stdout.readline()
        assert "every machine that can reach port" in warning and "without a password" in warning
        port = int(address.split("http://0.0.0.0:", 1)[1].split("/", 1)[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=30) as response:
            assert json.load(response)["books"] == []
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_look_reads_again_only_the_books_that_can_change_and_sends_a_page_only_when_it_changed(tmp_path, monkeypatch):
    import time

    from audiobook.bench import dashboard_folder
    from audiobook.dashboard import state
    from audiobook.fileio import write_json

    # 150 books kept from an earlier run and 2 speaking, as a real run leaves them (history, batch.log).
    results, progress = dashboard_folder(tmp_path, 150, running=2)
    looked: list[str] = []
    real_view = state.book_view
    monkeypatch.setattr(state, "book_view", lambda results, book_id, *rest: looked.append(book_id) or real_view(
        results, book_id, *rest))
    look = state.BatchLook(results, tmp_path / "pipeline.json", tmp_path / "batch.log")
    now = time.time()
    first = look.state(now=now)
    assert len(looked) == 152, "the first look reads every book once"
    assert first["page"] == {"number": 1, "pages": 2, "size": 100, "total": 152}
    assert [book["id"] for book in first["books"]][:2] == ["done-00000-epub", "done-00001-epub"]
    assert first["books"][0]["title"] == "A Book Kept From Before" and first["books"][0]["author"] == "Some Author"
    assert [book["id"] for book in first["running"]] == ["speaking-0-pdf", "speaking-1-pdf"]
    assert first["run"]["counts"] == {"success": 150, "running": 2}

    looked.clear()
    second = look.state(since=first["version"], now=now)
    assert sorted(looked) == ["speaking-0-pdf", "speaking-1-pdf"], "only the running books are read again"
    assert second["books"] is None, "nothing on page 1 changed"
    assert look.state(since=first["version"], page=2, now=now)["books"] is None

    # A running book moves on: it is sent in the running list; page 2, where it is listed, is sent again.
    write_json(progress[0], {"done": 5, "total": 1000})
    third = look.state(since=second["version"], page=2, now=now)
    assert [book["chunks_done"] for book in third["running"]] == [5, 0]
    assert third["books"] is not None and third["version"] > second["version"]
    # It finishes: it leaves the running list and is never read again in this run.
    write_json(results / "speaking-0-pdf" / "book.json", {"status": "success", "finished_at": time.time(),
                                                           "duration": 3.0, "phases": {}, "outputs": []})
    fourth = look.state(since=third["version"], now=now)
    assert [book["id"] for book in fourth["running"]] == ["speaking-1-pdf"]
    assert fourth["run"]["counts"] == {"success": 151, "running": 1}
    looked.clear()
    look.state(since=fourth["version"], now=now)
    assert looked == ["speaking-1-pdf"]
