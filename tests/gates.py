"""The test side of audiobook.testgate: hold a book at a point, wait until it is there, let it go.

A held book stays where it is however fast or slow the machine is, so a
test that interrupts it never races it. Waiting for a book to reach its
gate has a long timeout only as a guard against a broken run; a run that
ends before the book gets there fails the test with its output.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from audiobook.testgate import ENV

REACH_TIMEOUT_S = 900  # a guard only: the book waits at the gate, nothing races it


class Gates:
    """A folder of gates; ``env`` gives a run's environment that honours them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return {**base, ENV: str(self.folder)}

    def hold(self, book: str, point: str) -> None:
        (self.folder / f"{book}.{point}").touch()

    def reached(self, book: str, point: str) -> bool:
        return (self.folder / f"{book}.{point}.reached").exists()

    def left(self, book: str, point: str) -> bool:
        return (self.folder / f"{book}.{point}.left").exists()

    def open(self, book: str, point: str) -> None:
        (self.folder / f"{book}.{point}.open").touch()

    def wait(self, book: str, point: str, process: subprocess.Popen, describe: Callable[[], str] = lambda: "") -> None:
        wait_for(lambda: self.reached(book, point), f"{book} to reach {point}", process, describe)

    def release(self, book: str, point: str, process: subprocess.Popen, describe: Callable[[], str] = lambda: "") -> None:
        """Open the gate and wait until the book has gone on from it."""
        self.open(book, point)
        wait_for(lambda: self.left(book, point), f"{book} to go on from {point}", process, describe)


def wait_for(
    condition: Callable[[], object],
    what: str,
    process: subprocess.Popen,
    describe: Callable[[], str] = lambda: "",
    timeout: float = REACH_TIMEOUT_S,
) -> object:
    """Wait for something the run is bound to do (a book at its gate, a job recorded).

    Not a race: the condition cannot pass by while we look away. The run
    ending first is a failure, with its output.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if process.poll() is not None:
            pytest.fail(f"the run ended (status {process.returncode}) before {what}:\n{describe()[-3000:]}")
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s (a broken run?):\n{describe()[-3000:]}")


def describe_group(group: int) -> str:
    """Each process of a process group and what its threads wait in: for a failure message."""
    lines = []
    for proc in sorted(Path("/proc").glob("[0-9]*"), key=lambda path: int(path.name)):
        try:
            if os.getpgid(int(proc.name)) != group:
                continue
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            lines.append(f"pid {proc.name}: {command[:160]}")
            for task in sorted((proc / "task").iterdir(), key=lambda path: int(path.name)):
                status = dict(
                    line.split(":\t", 1) for line in (task / "status").read_text().splitlines() if ":\t" in line
                )
                lines.append(
                    f"  thread {task.name}: {status.get('State', '?')}, waits in {(task / 'wchan').read_text() or '-'}, "
                    f"signals blocked {status.get('SigBlk', '?')} pending {status.get('SigPnd', '?')}"
                )
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile
    return "\n".join(lines)
