"""A real one-node SLURM cluster on this host, for the cluster test and for trying a profile by hand.

munged, slurmctld and slurmd run in the background (no systemd, no cgroups, no
accounting database) from a scratch state folder; the tests use `start_cluster` /
`stop_cluster`, people use `python tests/slurm_cluster.py start|stop|status`.
Needs root and apt-get when the Debian packages are missing.

Only the daemons this module started are ever stopped, by PID, after checking that
the PID still runs that daemon.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("slurm_cluster")

# The jobstep plugin drops every SLURM_* variable (SLURM_CONF too) before its inner
# srun, so the config must sit at the path built into the SLURM tools.
SLURM_CONF = Path("/etc/slurm/slurm.conf")
PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
COMMANDS = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scancel", "srun")
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"
PARTITION = "debug"
# First line of the slurm.conf we write: tells a later start whose file it is.
CONF_MARKER = "# Written by tests/slurm_cluster.py; state folder: "
STATE_FILE = "cluster.json"
DEFAULT_STATE_DIR = Path(tempfile.gettempdir()) / "audiobook-slurm"
DAEMON_STOP_SECONDS = 15.0

_apt_updated = False  # `apt-get update` runs at most once per process


class ClusterUnavailable(RuntimeError):
    """SLURM cannot be set up on this machine; the message says why."""


@dataclass
class SlurmCluster:
    """A running one-node cluster: where its state lives and the daemons it started."""

    state_dir: Path
    node: str
    partition: str = PARTITION
    pids: dict[str, int] = field(default_factory=dict)  # daemon name -> PID, in start order
    conf_backup: Path | None = None  # the site's own slurm.conf, put back on stop
    conf_written: bool = False
    stopped: bool = False

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    def save(self) -> None:
        """Record the cluster in its state folder so another process can stop it."""
        record = {
            "node": self.node,
            "partition": self.partition,
            "pids": self.pids,
            "conf_backup": str(self.conf_backup) if self.conf_backup else None,
            "conf_written": self.conf_written,
            "stopped": self.stopped,
        }
        tmp = self.state_dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(record, indent=2))
        os.replace(tmp, self.state_dir / STATE_FILE)

    @classmethod
    def load(cls, state_dir: Path) -> SlurmCluster:
        record = json.loads((state_dir / STATE_FILE).read_text())
        backup = record.get("conf_backup")
        return cls(
            state_dir=state_dir,
            node=record["node"],
            partition=record.get("partition", PARTITION),
            pids={name: int(pid) for name, pid in record.get("pids", {}).items()},
            conf_backup=Path(backup) if backup else None,
            conf_written=bool(record.get("conf_written")),
            stopped=bool(record.get("stopped")),
        )

    def running_daemons(self) -> dict[str, int]:
        """The daemons of this cluster whose PID still runs that program."""
        return {name: pid for name, pid in self.pids.items() if is_running(pid, name)}


# Popen handles of daemons started by this process, so stopping them also reaps them
# (a zombie would still answer `ps -p`).
_children: dict[int, subprocess.Popen] = {}
# Clusters this process must stop on exit or on SIGTERM/SIGHUP.
_guarded: list[SlurmCluster] = []
_previous_handlers: dict[int, object] = {}
_atexit_registered = False


def _which(name: str) -> str | None:
    return shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + SBIN_PATH)


def _process_name(pid: int) -> str | None:
    """The command name of a live (not zombie) process, or None."""
    result = subprocess.run(["ps", "-p", str(pid), "-o", "stat=,comm="], capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    stat, _, comm = result.stdout.strip().partition(" ")
    if stat.startswith("Z"):
        return None
    return comm.strip()


def is_running(pid: int, name: str) -> bool:
    """Whether PID is a live process of the program NAME (ps truncates names to 15 characters)."""
    return _process_name(pid) == name[:15]


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- packages ---------------------------------------------------------------------------


def missing_commands() -> list[str]:
    """The SLURM and munge programs this host lacks."""
    return [name for name in COMMANDS if _which(name) is None]


def ensure_packages() -> None:
    """Install the Debian packages when a program is missing; ClusterUnavailable says why not."""
    global _apt_updated
    missing = missing_commands()
    if not missing:
        return
    wanted = f"{', '.join(missing)} missing; install the Debian packages {' '.join(PACKAGES)}"
    if os.geteuid() != 0:
        raise ClusterUnavailable(f"{wanted} (needs root, this is uid {os.geteuid()})")
    if _which("apt-get") is None:
        raise ClusterUnavailable(f"{wanted} (no apt-get on this host)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    steps = []
    if not _apt_updated:
        steps.append(["apt-get", "update", "-q"])
    steps.append(["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES])
    for step in steps:
        log.info("running %s", " ".join(step))
        try:
            result = subprocess.run(step, capture_output=True, text=True, env=env, timeout=600)
        except subprocess.TimeoutExpired:
            raise ClusterUnavailable(f"{' '.join(step)} took more than 10 minutes") from None
        if result.returncode != 0:
            last = " | ".join(result.stderr.strip().splitlines()[-3:])
            raise ClusterUnavailable(f"{' '.join(step)} failed (exit {result.returncode}): {last}")
        if step[1] == "update":
            _apt_updated = True
    still_missing = missing_commands()
    if still_missing:
        raise ClusterUnavailable(f"{', '.join(still_missing)} still missing after installing {' '.join(PACKAGES)}")


# -- configuration ----------------------------------------------------------------------


def node_memory_mb() -> int:
    """90 % of this host's memory: what slurmd may hand out without the node being drained."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(int(line.split()[1]) / 1024 * 0.9)
    raise ClusterUnavailable("cannot read MemTotal from /proc/meminfo")


def slurm_conf_text(node: str, state_dir: Path, cpus: int, memory_mb: int) -> str:
    """A one-node slurm.conf: no cgroups, no accounting, finished jobs kept visible to squeue."""
    state = state_dir.resolve()
    return "\n".join(
        [
            f"{CONF_MARKER}{state}",
            "ClusterName=testcluster",
            f"SlurmctldHost={node}(127.0.0.1)",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={state}/munge/munge.socket",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={state}/spool/ctld",
            f"SlurmdSpoolDir={state}/spool/d",
            f"SlurmctldPidFile={state}/run/slurmctld.pid",
            f"SlurmdPidFile={state}/run/slurmd.pid",
            f"SlurmctldLogFile={state}/log/slurmctld.log",
            f"SlurmdLogFile={state}/log/slurmd.log",
            # No cgroups in this container.
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "MpiDefault=none",
            "MailProg=/bin/true",
            "SwitchType=switch/none",
            "ReturnToService=2",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            # No accounting database: the profile must query job states with squeue.
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            # squeue forgets a finished job after MinJobAge; Snakemake must see it end.
            "MinJobAge=3600",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=30",
            "InactiveLimit=0",
            "KillWait=5",
            "Waittime=0",
            f"NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN",
            f"PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _state_dir_of_conf(conf: Path) -> Path | None:
    """The state folder named in a slurm.conf this module wrote, else None."""
    try:
        first = conf.read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    return Path(first[len(CONF_MARKER) :]) if first.startswith(CONF_MARKER) else None


def _clear_leftover_conf() -> None:
    """Deal with a slurm.conf left by an earlier cluster of ours: refuse if it still runs, else tidy up."""
    earlier = _state_dir_of_conf(SLURM_CONF)
    if earlier is None:
        return
    try:
        leftover = SlurmCluster.load(earlier)
    except (OSError, ValueError, KeyError):
        leftover = None
    if leftover is not None and leftover.running_daemons():
        raise ClusterUnavailable(
            f"a cluster started earlier from {earlier} is still running; "
            f"stop it with: python tests/slurm_cluster.py stop --state-dir {earlier}"
        )
    log.info("removing the slurm.conf of an earlier cluster (%s) that is no longer running", earlier)
    if leftover is not None and leftover.conf_backup and leftover.conf_backup.is_file():
        shutil.copy2(leftover.conf_backup, SLURM_CONF)
    else:
        SLURM_CONF.unlink()


def _install_conf(cluster: SlurmCluster, text: str) -> None:
    if SLURM_CONF.exists():
        cluster.conf_backup = cluster.state_dir / "slurm.conf.site"
        shutil.copy2(SLURM_CONF, cluster.conf_backup)
    try:
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SLURM_CONF.write_text(text)
    except OSError as error:
        raise ClusterUnavailable(f"cannot write {SLURM_CONF}: {error.strerror}") from None
    cluster.conf_written = True
    cluster.save()


def _restore_conf(cluster: SlurmCluster) -> None:
    if not cluster.conf_written:
        return
    if _state_dir_of_conf(SLURM_CONF) == cluster.state_dir.resolve():
        if cluster.conf_backup and cluster.conf_backup.is_file():
            shutil.copy2(cluster.conf_backup, SLURM_CONF)
        else:
            SLURM_CONF.unlink()
    cluster.conf_written = False


def write_munge_key(path: Path) -> None:
    """A fresh key for this cluster only: 1024 random bytes, readable by the owner alone."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "wb") as key:
        key.write(secrets.token_bytes(1024))


# -- daemons ----------------------------------------------------------------------------


def _spawn(cluster: SlurmCluster, name: str, argv: list[str]) -> None:
    # A session of their own: a Ctrl-C on the test's terminal must not kill the daemons
    # before the jobs on them are cancelled.
    output = open(cluster.log_dir / f"{name}.out", "ab")
    with output:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    _children[process.pid] = process
    cluster.pids[name] = process.pid
    cluster.save()
    log.info("started %s (pid %d)", name, process.pid)


def _wait_for(what: str, ready, cluster: SlurmCluster, deadline: float) -> None:
    """Poll `ready()` until true; fail early, with the log, when one of our daemons died."""
    while True:
        if ready():
            return
        for name, pid in cluster.pids.items():
            if not is_running(pid, name):
                log_file = cluster.log_dir / f"{name}.log"
                if not log_file.exists():
                    log_file = cluster.log_dir / f"{name}.out"
                raise ClusterUnavailable(f"{name} exited while waiting for {what}: {_tail(log_file)}")
        if time.monotonic() > deadline:
            raise ClusterUnavailable(f"timed out waiting for {what}; logs in {cluster.log_dir}")
        time.sleep(0.2)


def node_state() -> str:
    """What `sinfo` says about the node (idle, mixed, allocated, down, ...), '' when it cannot tell."""
    try:
        result = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def start_cluster(state_dir: Path | None = None, timeout: float = 60.0, stop_on_exit: bool = True) -> SlurmCluster:
    """Install what is missing, write the config, start munged, slurmctld and slurmd, wait for `idle`.

    With stop_on_exit the cluster is also stopped at interpreter exit and on SIGTERM/SIGHUP.
    Raises ClusterUnavailable (with the reason) when SLURM cannot be set up here.
    """
    ensure_packages()
    if os.geteuid() != 0:
        raise ClusterUnavailable(
            f"starting SLURM needs root (it writes {SLURM_CONF} and runs the daemons as root); this is uid {os.geteuid()}"
        )
    _clear_leftover_conf()
    if state_dir is None:
        state_dir = Path(tempfile.mkdtemp(prefix="slurm-"))
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)  # munged refuses key and socket folders others can write to
    for sub in ("munge", "spool/ctld", "spool/d", "run", "log"):
        (state_dir / sub).mkdir(parents=True, exist_ok=True)
    (state_dir / "munge").chmod(0o700)

    cluster = SlurmCluster(state_dir=state_dir, node=socket.gethostname().split(".")[0])
    cluster.save()
    if stop_on_exit:
        _guard(cluster)
    try:
        _start_daemons(cluster, time.monotonic() + timeout)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def _start_daemons(cluster: SlurmCluster, deadline: float) -> None:
    munge = cluster.state_dir / "munge"
    key = munge / "munge.key"
    write_munge_key(key)
    conf = slurm_conf_text(cluster.node, cluster.state_dir, os.cpu_count() or 1, node_memory_mb())
    _install_conf(cluster, conf)

    socket_path = munge / "munge.socket"
    _spawn(
        cluster,
        "munged",
        [
            _which("munged") or "munged",
            "--foreground",
            "--force",  # it runs as root here
            f"--socket={socket_path}",
            f"--key-file={key}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}",
            f"--log-file={cluster.log_dir / 'munged.log'}",
        ],
    )
    _wait_for("the munge socket", socket_path.exists, cluster, deadline)
    _spawn(cluster, "slurmctld", [_which("slurmctld") or "slurmctld", "-D", "-f", str(SLURM_CONF)])
    _spawn(cluster, "slurmd", [_which("slurmd") or "slurmd", "-D", "-f", str(SLURM_CONF), "-N", cluster.node])
    _wait_for("the node to be idle", lambda: node_state() == "idle", cluster, deadline)
    log.info("cluster up: node %s, partition %s, state in %s", cluster.node, cluster.partition, cluster.state_dir)


def cancel_jobs(timeout: float = 30.0) -> None:
    """Cancel every job left on the cluster and wait until none runs (it is a private cluster)."""
    try:
        subprocess.run(["scancel", "--partition", PARTITION], capture_output=True, timeout=15)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = subprocess.run(
                ["squeue", "-h", "-t", "PENDING,RUNNING,COMPLETING,CONFIGURING,SUSPENDED", "-o", "%i"],
                capture_output=True,
                text=True,
                timeout=15,
            )
            if result.returncode != 0 or not result.stdout.strip():
                return
            time.sleep(0.5)
        log.warning("jobs still listed after scancel: %s", result.stdout.split())
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("could not cancel leftover jobs: %s", error)


def _stop_daemon(name: str, pid: int) -> None:
    process = _children.pop(pid, None)
    if not is_running(pid, name):
        if process is not None:
            process.poll()  # reap it if it already ended
        log.info("%s (pid %d) is not running any more", name, pid)
        return
    os.kill(pid, signal.SIGTERM)
    if process is not None:
        try:
            process.wait(timeout=DAEMON_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %d) ignored SIGTERM; killing it", name, pid)
            process.kill()
            process.wait(timeout=DAEMON_STOP_SECONDS)
        return
    # Started by another process (the command line): poll until it is gone.
    deadline = time.monotonic() + DAEMON_STOP_SECONDS
    while is_running(pid, name):
        if time.monotonic() > deadline:
            log.warning("%s (pid %d) ignored SIGTERM; killing it", name, pid)
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + DAEMON_STOP_SECONDS
        time.sleep(0.1)


def stop_cluster(cluster: SlurmCluster) -> None:
    """Cancel leftover jobs, stop the daemons this cluster started (newest first), put slurm.conf back."""
    if cluster.stopped:
        return
    try:
        if "slurmctld" in cluster.running_daemons():
            cancel_jobs()
        for name, pid in reversed(list(cluster.pids.items())):
            try:
                _stop_daemon(name, pid)
            except (OSError, subprocess.SubprocessError) as error:
                log.warning("could not stop %s (pid %d): %s", name, pid, error)
    finally:
        _restore_conf(cluster)
        cluster.stopped = True
        cluster.save()
        _unguard(cluster)
        log.info("cluster stopped (state in %s)", cluster.state_dir)


# -- stopping on exit and on signals ------------------------------------------------------


def _stop_guarded() -> None:
    for cluster in list(_guarded):
        stop_cluster(cluster)


def _on_signal(signum: int, frame) -> None:
    # Stop the clusters, then let the signal do what it would have done (stopping
    # also puts the previous handlers back).
    _stop_guarded()
    os.kill(os.getpid(), signum)


def _guard(cluster: SlurmCluster) -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_stop_guarded)
        _atexit_registered = True
    _guarded.append(cluster)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signum in _previous_handlers:
            continue
        try:
            _previous_handlers[signum] = signal.signal(signum, _on_signal)
        except ValueError:  # not the main thread: atexit still covers a normal exit
            pass


def _unguard(cluster: SlurmCluster) -> None:
    if cluster in _guarded:
        _guarded.remove(cluster)
    if not _guarded:
        for signum, handler in list(_previous_handlers.items()):
            try:
                signal.signal(signum, handler)
            except ValueError:
                continue
            del _previous_handlers[signum]


# -- command line -------------------------------------------------------------------------


def _cli_start(state_dir: Path) -> int:
    if (state_dir / STATE_FILE).exists():
        earlier = SlurmCluster.load(state_dir)
        if earlier.running_daemons():
            log.error("a cluster from %s is already running; stop it first", state_dir)
            return 1
        shutil.rmtree(state_dir)
    try:
        cluster = start_cluster(state_dir, stop_on_exit=False)
    except ClusterUnavailable as why:
        log.error("cannot start SLURM: %s", why)
        return 1
    log.info("stop it with: python %s stop --state-dir %s", Path(__file__).resolve(), cluster.state_dir)
    return 0


def _cli_stop(state_dir: Path) -> int:
    if not (state_dir / STATE_FILE).exists():
        log.error("no cluster recorded in %s", state_dir)
        return 1
    stop_cluster(SlurmCluster.load(state_dir))
    return 0


def _cli_status(state_dir: Path) -> int:
    if not (state_dir / STATE_FILE).exists():
        log.info("no cluster recorded in %s", state_dir)
        return 1
    cluster = SlurmCluster.load(state_dir)
    running = cluster.running_daemons()
    for name, pid in cluster.pids.items():
        log.info("%-9s pid %-7d %s", name, pid, "running" if name in running else "gone")
    log.info("node %s: %s", cluster.node, node_state() or "unknown")
    return 0 if running and len(running) == len(cluster.pids) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start, stop or inspect a one-node SLURM cluster on this host.")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="scratch folder (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    action = {"start": _cli_start, "stop": _cli_stop, "status": _cli_status}[args.action]
    return action(args.state_dir.resolve())


if __name__ == "__main__":
    sys.exit(main())
