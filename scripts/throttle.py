"""Launch throttle: wait while the machine is busy, then become the orchestrator.

    throttle.py --book-id ID --batch-log batch.log --cpu-threshold 85 --delay 1 --max-wait 300 \
        [--shared-sample FILE] -- CMD ARGS...

Snakemake already bounds how many books run (--cores, resources); this adds
a check of the CPU used by everything else on the machine (other users, other
programs), which Snakemake cannot see, before a heavy book starts. The batch's
own books are left out of that count: they fill the cores by design. The wait is bounded, so a machine
that stays busy delays books but never stalls the batch, and it is logged
twice: when it starts and when it ends, with how long and how busy.

When the command is this project's own audiobook-orchestrator (beside this
Python), it runs in this process after the wait: one interpreter start per
book instead of two. Any other command is exec'd, not spawned, so signals
and the exit status reach Snakemake unchanged either way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

SAMPLE_S = 0.2  # psutil measures CPU over this window: long enough to be fair, short per book
# A sample another book of the batch took this recently stands for this book's
# too: many short books then cost one sample a second, not one each.
SHARED_SAMPLE_S = 1.0
# Inside a cluster job the scheduler has already given the book its CPUs, and
# the node's load belongs to other people's jobs: waiting on it helps no one.
SCHEDULER_JOB_VARIABLES = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "JOB_ID")
OWN_ORCHESTRATOR = "audiobook-orchestrator"
# Test-only: the share of the CPU other work uses, instead of measuring it. A
# shared test machine is never reliably idle; unset, the throttle measures.
FAKE_OTHERS_CPU = "AUDIOBOOK_TEST_OTHERS_CPU"


def stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def log_line(batch_log: str | None, level: str, message: str) -> None:
    line = f"[{stamp()}] [{level}] {message}\n" if level else f"[{stamp()}] {message}\n"
    sys.stderr.write(line)
    sys.stderr.flush()
    if batch_log:
        # One write per line in append mode: lines from parallel books do not interleave.
        with open(batch_log, "a", encoding="utf-8") as handle:
            handle.write(line)


def batch_root():
    """The snakemake process that launched this book (a psutil.Process), if any."""
    import psutil  # only a throttle that is on measures: the import costs each book time

    try:
        for parent in psutil.Process().parents():
            if any("snakemake" in os.path.basename(part) for part in parent.cmdline()[:2]):
                return parent
    except psutil.Error:
        pass
    return None


def batch_cpu_seconds(root) -> float:
    """CPU time of the batch so far: the snakemake process, its jobs, and the jobs it reaped."""
    import psutil

    if root is None:
        return 0.0
    total = 0.0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def busy_besides_batch(root) -> float:
    """Percent of all cores busy with work other than this batch, over SAMPLE_S.

    The batch's own books keep the cores busy by design (Snakemake gives them
    --cores); counting them would make every book wait for the others.
    """
    import psutil

    if os.environ.get(FAKE_OTHERS_CPU):
        time.sleep(SAMPLE_S)
        return float(os.environ[FAKE_OTHERS_CPU])

    def snapshot() -> tuple[float, float, float]:
        cpu = psutil.cpu_times()
        busy = sum(cpu) - cpu.idle - getattr(cpu, "iowait", 0.0)
        return time.monotonic(), busy, batch_cpu_seconds(root)

    start = snapshot()
    time.sleep(SAMPLE_S)
    end = snapshot()
    capacity = (end[0] - start[0]) * (psutil.cpu_count() or 1)
    other = (end[1] - start[1]) - (end[2] - start[2])
    return max(0.0, min(100.0, 100.0 * other / capacity)) if capacity > 0 else 0.0


def shared_sample(path: str | None) -> float | None:
    """The batch's last CPU sample, if one was taken in the last SHARED_SAMPLE_S seconds."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            age = time.time() - os.fstat(handle.fileno()).st_mtime
            value = float(handle.read())
    except (OSError, ValueError):
        return None
    return value if 0 <= age <= SHARED_SAMPLE_S and 0 <= value <= 100 else None


def share_sample(path: str | None, cpu: float) -> None:
    """Leave ``cpu`` for the books that start in the next second; never fails the book."""
    if not path:
        return
    partial = f"{path}.{os.getpid()}.partial"
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(f"{cpu:.1f}")
        os.replace(partial, path)  # whole or not at all: a reader never sees half a number
    except OSError:
        try:
            os.unlink(partial)
        except OSError:
            pass


def sample_others(root, shared: str | None) -> float:
    cpu = busy_besides_batch(root)
    share_sample(shared, cpu)
    return cpu


def wait_for_cpu(
    threshold: float, delay: float, max_wait: float, batch_log: str | None, book: str = "", shared: str | None = None
) -> float:
    """Wait while other work keeps the CPU above ``threshold``; return the seconds waited.

    One line when the wait starts and one when it ends, not one per check:
    a busy machine would otherwise fill batch.log with hundreds per book.
    """
    if threshold >= 100 or max_wait <= 0:
        return 0.0  # the throttle is off: do not spend a sample on it
    cpu = shared_sample(shared)
    root = None
    if cpu is None:
        root = batch_root()
        cpu = sample_others(root, shared)
    if cpu <= threshold:
        return 0.0
    who = f"{book}: " if book else ""
    log_line(batch_log, "WARNING", f"{who}other work uses {cpu:.0f} % of the CPU (> {threshold:g} %); "
             f"waiting for the CPU, at most {max_wait:g} s")  # fmt: skip
    began = time.monotonic()
    samples = [cpu]
    root = root if root is not None else batch_root()
    while cpu > threshold and time.monotonic() - began < max_wait:
        time.sleep(max(0.0, min(delay, max_wait - (time.monotonic() - began))))
        cpu = sample_others(root, shared)
        samples.append(cpu)
    waited = time.monotonic() - began
    others = sum(samples) / len(samples)
    ending = "; starting anyway" if cpu > threshold else ""
    log_line(batch_log, "INFO", f"{who}waited {waited:.1f} s for the CPU (others used {others:.0f} %){ending}")
    return waited


def own_orchestrator(command: list[str]) -> bool:
    """Whether ``command`` is this project's orchestrator, installed beside this Python."""
    if os.path.basename(command[0]) != OWN_ORCHESTRATOR:
        return False
    found = shutil.which(command[0])
    if found is None:
        return False
    try:
        return os.path.samefile(os.path.dirname(found), os.path.dirname(sys.executable))
    except OSError:
        return False


def run_in_process(arguments: list[str]) -> int | None:
    """The orchestrator's exit status, run here; None when it cannot be imported (then exec it)."""
    try:
        from audiobook.orchestrator import main as orchestrate
    except ImportError:
        return None
    sys.argv = [OWN_ORCHESTRATOR, *arguments]
    return orchestrate(arguments)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--book-id", required=True, help="the book's id, for the log")
    parser.add_argument("--batch-log", help="append [START] and throttle lines to this file")
    parser.add_argument("--cpu-threshold", type=float, default=85.0, help="percent of all cores (default 85)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between checks (default 1)")
    parser.add_argument("--max-wait", type=float, default=300.0, help="give up waiting after this many seconds (default 300)")
    parser.add_argument("--shared-sample", metavar="FILE",
                        help="share CPU samples through FILE with the batch's other books: one taken in the "
                        f"last {SHARED_SAMPLE_S:g} s is used instead of taking another")  # fmt: skip
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")
    scheduler_job = next((name for name in SCHEDULER_JOB_VARIABLES if os.environ.get(name)), None)
    if scheduler_job is None:
        wait_for_cpu(args.cpu_threshold, args.delay, args.max_wait, args.batch_log, args.book_id, args.shared_sample)
    log_line(args.batch_log, "START", args.book_id)
    if own_orchestrator(command):
        status = run_in_process(command[1:])
        if status is not None:
            return status
    try:
        os.execvp(command[0], command)
    except OSError as error:
        log_line(
            args.batch_log,
            "FAIL",
            f"{args.book_id}: cannot start the orchestrator {command[0]!r} ({error.strerror}); "
            "check 'orchestrator' in config.yaml and that the project is installed",
        )
        return 127


if __name__ == "__main__":
    sys.exit(main())
