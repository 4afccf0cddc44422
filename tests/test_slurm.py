"""Cluster execution: the workflow on a real one-node SLURM cluster (munge, slurmctld, slurmd).

The harness (tests/slurm_cluster.py) installs the Debian packages when they are
missing, which needs root and apt-get; without them every test here skips with
the reason. Run with: .venv/bin/pytest -m slurm
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mutagen.mp4 import MP4

from audiobook.bookmaker import DraftBook, DraftChapter, make_epub
from books import epub_book, not_a_book, pdf_book
from slurm_cluster import (
    SLURM_CONF,
    ClusterUnavailable,
    SlurmCluster,
    is_running,
    node_state,
    start_cluster,
    stop_cluster,
)

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
HARNESS = Path(__file__).resolve().parent / "slurm_cluster.py"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
RUN_SECONDS = 600
# The launch throttle watches the whole machine's CPU, which other work on this
# shared host can keep high; under SLURM the allocation already decides, so the
# runs here switch it off (psutil never reports more than 100 %).
NO_THROTTLE = "cpu_threshold=100"
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+)")


def run_snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """One workflow run, always under `timeout -k`: a Snakemake whose status checks
    never answer ignores SIGTERM. Its own process group, so nothing outlives the test."""
    command = ["timeout", "-k", "10", str(RUN_SECONDS), SNAKEMAKE,
               "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=RUN_SECONDS + 30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def pipeline(workdir: Path) -> dict:
    return json.loads((workdir / "pipeline.json").read_text())


def outcome(workdir: Path) -> dict[str, tuple]:
    """Per book: status, error, chapters found, chunks made: what must not depend on where it ran."""
    data = pipeline(workdir)
    result = {}
    for book, entry in data["batch"]["files"].items():
        chapters = data["phase2"]["files"].get(book, {}).get("metrics", {}).get("chapters")
        chunks = data["phase3"]["files"].get(book, {}).get("metrics", {}).get("chunks")
        result[book] = (entry["status"], entry["error"], chapters, chunks)
    return result


def slurm_states(job_ids: list[str]) -> list[str]:
    """What SLURM itself says about jobs (squeue keeps finished ones for MinJobAge)."""
    listed = subprocess.run(["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-o", "%i %T"],
                            capture_output=True, text=True, check=True).stdout.split("\n")
    states = dict(line.split() for line in listed if line.strip())
    return [states.get(job, "unknown") for job in job_ids]


def mixed_books(folder: Path) -> Path:
    """Two small good books and one bad one: a text file named like a PDF."""
    folder.mkdir(parents=True)
    pdf_book(folder, "river.pdf")
    epub_book(folder, "meadow.epub", chapters=3)
    not_a_book(folder, "letter.pdf")
    return folder


def start_or_skip(state_dir: Path) -> SlurmCluster:
    try:
        return start_cluster(state_dir)
    except ClusterUnavailable as why:
        pytest.skip(f"no SLURM cluster on this host: {why}")


def assert_all_stopped(cluster: SlurmCluster) -> None:
    still = {name: pid for name, pid in cluster.pids.items() if is_running(pid, name)}
    assert not still, f"daemons outlived their cluster: {still}"
    assert len(cluster.pids) == 3


# -- the harness itself (these run before the shared cluster below is started) -------------


def test_stop_cancels_jobs_ends_every_daemon_and_puts_the_site_config_back(tmp_path):
    site_config = "# the site's own slurm.conf, kept by the harness\n"
    existing = SLURM_CONF.read_text() if SLURM_CONF.exists() else None
    if existing is None:
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SLURM_CONF.write_text(site_config)
    try:
        expected = SLURM_CONF.read_text()
        cluster = start_or_skip(tmp_path / "state")
        try:
            assert node_state() == "idle"
            assert set(cluster.running_daemons()) == {"munged", "slurmctld", "slurmd"}
            assert SLURM_CONF.read_text() != expected
            # A job still running at stop time: its process must end with the cluster.
            pid_file = tmp_path / "job.pid"
            subprocess.run(["sbatch", "--parsable", "-o", "/dev/null", "-D", str(tmp_path),
                            "--wrap", f"echo $$ > {pid_file}; exec sleep 300"], check=True, capture_output=True)
            deadline = time.monotonic() + 300  # a guard against a broken cluster, not a race: the job will start
            while not (pid_file.exists() and pid_file.read_text().strip()):
                assert time.monotonic() < deadline, "the job never started"
                time.sleep(0.2)
            job_pid = int(pid_file.read_text())
            assert is_running(job_pid, "sleep")
        finally:
            stop_cluster(cluster)
        assert_all_stopped(cluster)
        assert not is_running(job_pid, "sleep"), "a job outlived the cluster"
        assert SLURM_CONF.read_text() == expected
    finally:
        if existing is None and SLURM_CONF.exists() and SLURM_CONF.read_text() == site_config:
            SLURM_CONF.unlink()


def test_sigterm_to_the_process_that_started_a_cluster_stops_it(tmp_path):
    state = tmp_path / "state"
    script = (
        "import json, sys, time; from pathlib import Path\n"
        f"sys.path.insert(0, {str(HARNESS.parent)!r})\n"
        "from slurm_cluster import start_cluster, ClusterUnavailable\n"
        "try:\n"
        f"    cluster = start_cluster(Path({str(state)!r}))\n"
        "except ClusterUnavailable as why:\n"
        "    print('SKIP', why, flush=True); sys.exit(0)\n"
        "print(json.dumps(cluster.pids), flush=True)\n"
        "time.sleep(120)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        first = owner.stdout.readline()
        if first.startswith("SKIP"):
            pytest.skip(f"no SLURM cluster on this host: {first[5:].strip()}")
        pids = json.loads(first)
        assert all(is_running(pid, name) for name, pid in pids.items())
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(timeout=60) == -signal.SIGTERM
    finally:
        if owner.poll() is None:
            os.killpg(owner.pid, signal.SIGKILL)
            owner.wait()
    assert_all_stopped(SlurmCluster.load(state))
    assert not SLURM_CONF.exists() or str(state) not in SLURM_CONF.read_text()


def test_command_line_start_status_stop(tmp_path):
    state = tmp_path / "state"

    def harness(action: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(HARNESS), action, "--state-dir", str(state)],
                              capture_output=True, text=True, timeout=120)

    started = harness("start")
    if started.returncode != 0 and "cannot start SLURM" in started.stderr:
        pytest.skip(f"no SLURM cluster on this host: {started.stderr.strip()}")
    try:
        assert started.returncode == 0, started.stderr
        status = harness("status")
        assert status.returncode == 0 and "idle" in status.stderr, status.stderr
    finally:
        stopped = harness("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert harness("status").returncode == 1
    assert_all_stopped(SlurmCluster.load(state))


# -- the workflow on the cluster -------------------------------------------------------------


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """One cluster for the workflow tests below; stopped, and checked gone, whatever happens."""
    cluster = start_or_skip(tmp_path_factory.mktemp("slurm-state"))
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
        assert_all_stopped(cluster)


def test_slurm_profile_gives_the_same_batch_as_a_local_run(slurm_cluster, tmp_path):
    on_cluster, local = tmp_path / "cluster", tmp_path / "local"
    mixed_books(on_cluster / "in")
    shutil.copytree(on_cluster / "in", local / "in")
    config = ["--config", "input_dir=in", "phases_to_run=[1,2,3]", NO_THROTTLE]

    ran = run_snakemake(on_cluster, "--profile", str(REPO / "profiles" / "slurm"),
                        "--slurm-init-seconds-before-status-checks", "1", *config)
    assert ran.returncode not in (124, 137), f"timed out:\n{ran.stdout[-3000:]}"
    assert ran.returncode != 0, "a failed book makes the run fail"
    # One SLURM job per book; the aggregate ran on the submit host.
    jobs = SUBMITTED.findall(ran.stdout)
    assert len(jobs) == 3, ran.stdout[-3000:]
    assert sorted(slurm_states(jobs)) == ["COMPLETED", "COMPLETED", "FAILED"]

    summary = pipeline(on_cluster)["batch"]["summary"]
    assert (summary["total_files"], summary["successful_files"], summary["failed_files"]) == (3, 2, 1)
    cluster_outcome = outcome(on_cluster)
    status, error, _, _ = cluster_outcome["letter-pdf"]
    assert status == "failed" and error.startswith("letter.pdf: is neither a PDF nor an EPUB")
    for book in ("river-pdf", "meadow-epub"):
        assert json.loads((on_cluster / "results" / book / "book.json").read_text())["status"] == "success"

    ran_locally = run_snakemake(local, "--cores", "2", *config)
    assert ran_locally.returncode not in (0, 124, 137), ran_locally.stdout[-3000:]
    local_outcome = outcome(local)
    assert cluster_outcome == local_outcome
    assert local_outcome["meadow-epub"][2] == 3, "three chapters in, three found"
    assert all(chunks for status, _, _, chunks in local_outcome.values() if status == "success")


def test_slurm_profile_speaks_and_masters_a_one_paragraph_book(slurm_cluster, tmp_path):
    books = tmp_path / "in"
    books.mkdir()
    tiny = DraftBook(title="Tiny", author="Test Author",
                     chapters=[DraftChapter("One", ["The cat sat on the warm mat by the door."])])
    make_epub(tiny, books / "tiny.epub")

    ran = run_snakemake(tmp_path, "--profile", str(REPO / "profiles" / "slurm"),
                        "--slurm-init-seconds-before-status-checks", "1",
                        "--config", "input_dir=in", "phases_to_run=[1,2,3,4,5]", NO_THROTTLE)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert len(SUBMITTED.findall(ran.stdout)) == 1
    entry = pipeline(tmp_path)["batch"]["files"]["tiny-epub"]
    assert entry["status"] == "success" and entry["phases_completed"] == [1, 2, 3, 4, 5]
    audiobook = tmp_path / "results" / "tiny-epub" / "tiny-epub.m4b"
    assert 1.0 < MP4(audiobook).info.length < 60.0


def test_grouped_books_run_in_one_slurm_job(slurm_cluster, tmp_path):
    books = tmp_path / "in"
    books.mkdir()
    pdf_book(books, "river.pdf")
    epub_book(books, "meadow.epub")
    epub_book(books, "field.epub", version=2)

    ran = run_snakemake(tmp_path, "--profile", str(REPO / "profiles" / "slurm"),
                        "--slurm-init-seconds-before-status-checks", "1",
                        "--groups", "audiobook=books", "--group-components", "books=3",
                        "--config", "input_dir=in", "phases_to_run=[1,2,3]", NO_THROTTLE)
    assert ran.returncode == 0, ran.stdout[-3000:]
    jobs = SUBMITTED.findall(ran.stdout)
    assert len(jobs) == 1, ran.stdout[-3000:]
    assert slurm_states(jobs) == ["COMPLETED"]
    summary = pipeline(tmp_path)["batch"]["summary"]
    assert (summary["total_files"], summary["successful_files"]) == (3, 3)


def test_cluster_generic_profile_submits_with_sbatch(slurm_cluster, tmp_path):
    books = tmp_path / "in"
    books.mkdir()
    pdf_book(books, "river.pdf")
    not_a_book(books, "letter.pdf")

    ran = run_snakemake(tmp_path, "--profile", str(REPO / "profiles" / "cluster-generic"),
                        "--config", "input_dir=in", "phases_to_run=[1,2,3]", NO_THROTTLE)
    assert ran.returncode not in (0, 124, 137), ran.stdout[-3000:]
    jobs = re.findall(r"with external jobid '(\d+)'", ran.stdout)
    assert len(jobs) == 2, ran.stdout[-3000:]
    assert sorted(slurm_states(jobs)) == ["COMPLETED", "FAILED"]
    files = pipeline(tmp_path)["batch"]["files"]
    assert {book: entry["status"] for book, entry in files.items()} == {"river-pdf": "success", "letter-pdf": "failed"}
    assert (tmp_path / "results" / "river-pdf" / "book.json").is_file()
