"""The run history in results/history.sqlite: real batches, a killed one, two writers at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from audiobook import history
from audiobook.batch import EXIT_BOOKS_FAILED
from runs import BATCH, BOOK_IDS, FAILING_ID, kill_group, make_folder, run_batch, start_batch, wait_for


def db(workdir: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(workdir / "results" / history.DB_NAME)
    connection.row_factory = sqlite3.Row
    return connection


def show(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BATCH, "history", "--config", "test.yaml", *args], cwd=workdir, capture_output=True,
                          text=True, timeout=60, env={"COLUMNS": "250", "PATH": "/usr/bin:/bin"})


def table_rows(stdout: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in stdout.splitlines() if line.startswith("│")]


@pytest.mark.slow
def test_two_runs_are_both_listed_with_their_counts_and_every_book(tmp_path):
    workdir = make_folder(tmp_path)
    first = run_batch(workdir)
    assert first.returncode == EXIT_BOOKS_FAILED, first.stdout + first.stderr
    second = run_batch(workdir)
    assert second.returncode == EXIT_BOOKS_FAILED, second.stdout + second.stderr

    with db(workdir) as connection:
        runs = connection.execute("SELECT * FROM runs ORDER BY id").fetchall()
        assert [run["outcome"] for run in runs] == ["partial", "partial"]
        assert [(run["total"], run["successful"], run["failed"]) for run in runs] == [(3, 2, 1), (3, 2, 1)]
        assert [run["skipped"] for run in runs] == [0, 2], "the second run kept the two good books"
        for run in runs:
            assert run["finished_at"] > run["started_at"]
            assert "snakemake" in run["command"] and "--cores 2" in run["command"]
            assert len(run["settings_digest"]) == 16
        assert runs[0]["settings_digest"] == runs[1]["settings_digest"], "same settings, same digest"
        books = connection.execute("SELECT * FROM run_books ORDER BY run_id, book_id").fetchall()
    assert [(row["run_id"], row["book_id"]) for row in books] == [(run["id"], b) for run in runs for b in BOOK_IDS]
    by_run = {(row["run_id"], row["book_id"]): row for row in books}
    river = by_run[(runs[0]["id"], "river-pdf")]
    assert river["status"] == "success" and river["ran_this_run"] == 1
    assert set(history.json.loads(river["phase_durations"])) == {"1", "2", "3"}
    assert river["cpu_seconds"] > 0 and river["peak_rss_mb"] > 0 and river["duration"] > 0
    # The second run kept the good books and retried the failed one.
    assert by_run[(runs[1]["id"], "river-pdf")]["ran_this_run"] == 0
    blank = by_run[(runs[1]["id"], FAILING_ID)]
    assert blank["status"] == "failed" and blank["ran_this_run"] == 1 and "is empty" in blank["error"]

    # What the dashboard estimates from: each book's last duration when it was made.
    assert set(history.last_durations(workdir / "results")) == {"meadow-epub", "river-pdf"}

    listed = show(workdir)
    assert listed.returncode == 0, listed.stderr
    rows = table_rows(listed.stdout)
    assert [row[0] for row in rows] == [str(runs[1]["id"]), str(runs[0]["id"])], listed.stdout
    for row in rows:
        assert row[3:8] == ["partial", "3", "2", "0", "1"], row
    one_book = show(workdir, FAILING_ID)
    assert one_book.returncode == 0
    assert [row[2] for row in table_rows(one_book.stdout)] == ["failed", "failed"]
    assert "is empty" in one_book.stdout
    unknown = show(workdir, "no-such-book")
    assert unknown.returncode == 1 and "not in the history" in unknown.stdout


@pytest.mark.slow
def test_a_run_killed_with_sigkill_leaves_the_database_readable_and_the_next_run_adds_to_it(tmp_path):
    workdir = make_folder(tmp_path, gated=True)
    gate = tmp_path / "gate"
    process = start_batch(workdir, gate)
    # Every book is held at the gate: the run has started (its row is written) and is mid-way.
    wait_for(lambda: len(list(gate.glob("*.arrived"))) == 2, "two books at the gate")
    kill_group(process)

    with db(workdir) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        killed = connection.execute("SELECT * FROM runs").fetchall()
        assert [run["outcome"] for run in killed] == ["running"]
        waiting = connection.execute("SELECT status FROM run_books").fetchall()
        assert sorted(row["status"] for row in waiting) == ["waiting"] * 3

    (gate / "open").write_text("")
    again = run_batch(workdir, env={"AUDIOBOOK_TEST_GATE": str(gate)})
    assert again.returncode == EXIT_BOOKS_FAILED, again.stdout + again.stderr
    with db(workdir) as connection:
        runs = connection.execute("SELECT * FROM runs ORDER BY id").fetchall()
        assert [run["outcome"] for run in runs] == ["killed", "partial"]
        assert connection.execute("SELECT count(*) FROM run_books WHERE run_id = ?", (runs[1]["id"],)).fetchone()[0] == 3
    rows = table_rows(show(workdir).stdout)
    assert [row[3] for row in rows] == ["partial", "killed"]


HOLD_A_TRANSACTION = textwrap.dedent("""
    import sys
    from audiobook import history
    connection = history.connect(history.db_path(sys.argv[1]))
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO runs (host, pid, started_at, outcome) VALUES ('half', 1, 1, 'half-written')")
    print("inside", flush=True)
    sys.stdin.readline()  # held here until the test acts
    connection.execute("COMMIT")
""")


def test_a_writer_killed_inside_its_transaction_leaves_nothing_half_written(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", HOLD_A_TRANSACTION, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "inside"
    writer.kill()
    writer.wait()
    key = history.RunKey("here", 42, 1000.0)
    history.start_run(tmp_path, key, ["a-pdf"], "snakemake", "digest")
    runs = history.list_runs(tmp_path)
    assert [run["outcome"] for run in runs] == ["running"], "the killed writer's row was rolled back"


def test_a_second_writer_waits_for_the_first_and_both_runs_are_kept(tmp_path):
    first = subprocess.Popen([sys.executable, "-c", HOLD_A_TRANSACTION, str(tmp_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline().strip() == "inside"
    second = subprocess.Popen(
        [sys.executable, "-c", "import sys; from audiobook import history; "
         "history.start_run(sys.argv[1], history.RunKey('there', 7, 2000.0), ['b-pdf'], 'snakemake', 'd')",
         str(tmp_path)],
        stderr=subprocess.PIPE, text=True,
    )
    # Whenever the second writer gets there, it queues behind the open transaction.
    first.stdin.write("\n")
    first.stdin.close()
    assert first.wait() == 0
    assert second.wait(timeout=60) == 0, second.stderr.read()
    assert sorted(run["host"] for run in history.list_runs(tmp_path)) == ["half", "there"]
    assert [row["book_id"] for row in history.run_books(tmp_path, history.list_runs(tmp_path)[0]["id"])] == ["b-pdf"]


def test_a_database_of_the_first_schema_gains_the_skipped_count_and_keeps_its_runs(tmp_path):
    old_schema = history.SCHEMA.replace("    skipped INTEGER,\n", "")
    with sqlite3.connect(tmp_path / history.DB_NAME) as connection:
        connection.executescript(old_schema + "PRAGMA user_version=1;")
        connection.execute("INSERT INTO runs (host, pid, started_at, outcome, total) VALUES ('here', 1, 1.0, 'success', 2)")
    key = history.RunKey("here", 2, 2.0)
    history.record_nothing_to_do(tmp_path, key, {"a-pdf": "a.pdf", "b-epub": "b.epub"}, "snakemake", "d", 3.0)
    runs = history.list_runs(tmp_path)
    assert [(run["outcome"], run["total"], run["skipped"]) for run in runs] == [
        (history.NOTHING_TO_DO, 2, 2), ("success", 2, None)]
    assert [(row["book_id"], row["status"], row["ran_this_run"]) for row in history.run_books(tmp_path, runs[0]["id"])] \
        == [("a-pdf", "success", 0), ("b-epub", "success", 0)]
    with sqlite3.connect(tmp_path / history.DB_NAME) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION


def test_history_help_says_where_the_database_is():
    proc = subprocess.run([BATCH, "history", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "results/history.sqlite" in proc.stdout
