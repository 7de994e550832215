"""Process and port helpers: pid files that identify exactly the processes we started."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hazardwatch.stack.settings import HOST


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on host:port (bind probe, as a server would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


_handed_out: set[int] = set()


def free_port(host: str = HOST) -> int:
    """An unused TCP port on host, never one this process was given before.

    The kernel may hand the same ephemeral port to two quick bind(0) probes once the first
    socket is closed; a stack given the same port twice then fails to start (seen in CI).
    """
    for _ in range(1000):
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no fresh free port after 1000 tries")


def port_is_listening(port: int, host: str = HOST) -> bool:
    """True when a TCP connect to host:port succeeds."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def cmdline(pid: int) -> str:
    """The process's command line joined by spaces, or '' when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def is_zombie(pid: int) -> bool:
    """True when the process has exited but was not reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def read_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in pid_file if that process is alive and its command line contains marker."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if marker in cmdline(pid) and not is_zombie(pid):
        return pid
    return None


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process in bytes (VmRSS), or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def spawn(argv: Sequence[str], *, log_file: Path, pid_file: Path, env: dict[str, str],
          cwd: Path) -> subprocess.Popen[bytes]:
    """Start argv detached in its own session, output appended to log_file, pid in pid_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def terminate(pid: int, *, timeout: float) -> bool:
    """SIGTERM the process group of pid, SIGKILL after timeout; True when it was killed hard."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not cmdline(pid) or is_zombie(pid):
            _reap(pid)
            return False
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    for _ in range(50):
        if not cmdline(pid) or is_zombie(pid):
            break
        time.sleep(0.1)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a text file ('' when missing)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def dir_size(path: Path) -> int:
    """Total size in bytes of the regular files under path."""
    total = 0
    if not path.exists():
        return 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
    return total


def cpu_count() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


def spawn_command(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m hazardwatch ARGV` in the background, its output appended to `log`."""
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "hazardwatch", *argv], stdout=fh,
                                stderr=subprocess.STDOUT, env=env)


def wait_for_log(proc: subprocess.Popen[bytes], log: Path, marker: str, timeout: float) -> None:
    """Until `marker` appears in `log`; RuntimeError if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while marker not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args!r} did not start; see {log}")
        time.sleep(0.2)
