"""Start, stop and inspect the local stack; pid files make `down` stop exactly what `up` started."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from hazardwatch.stack import process
from hazardwatch.stack.errors import StackError
from hazardwatch.stack.influx import InfluxService
from hazardwatch.stack.kafka import KafkaService
from hazardwatch.stack.mosquitto import MosquittoService
from hazardwatch.stack.service import Say, Service
from hazardwatch.stack.settings import StackSettings


@dataclass(frozen=True)
class ServiceStatus:
    """What `stack status` reports for one service."""

    name: str
    pid: int | None
    ports: tuple[int, ...]
    healthy: bool
    rss_bytes: int | None
    data_bytes: int
    log_file: str

    @property
    def state(self) -> str:
        """running, unhealthy or stopped."""
        if self.pid is None:
            return "stopped"
        return "running" if self.healthy else "unhealthy"


class Stack:
    """The three services of the local real stack."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.services: list[Service] = [
            MosquittoService(settings), InfluxService(settings), KafkaService(settings),
        ]

    def service(self, name: str) -> Service:
        """The service called name."""
        for svc in self.services:
            if svc.name == name:
                return svc
        raise StackError(f"no service {name!r}; known: {', '.join(s.name for s in self.services)}")

    def pid(self, svc: Service) -> int | None:
        """The live pid of a service this stack started, or None."""
        return process.read_pid(svc.pid_file, svc.marker)

    def up(self, say: Say = print) -> None:
        """Start every service that is not running and wait until each answers; idempotent.

        When anything fails (a service dies, a check or a build fails, Ctrl-C), the services
        this call started are stopped again before the error goes up: a failed `up` leaves
        what was running before, and nothing else.
        """
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        to_start = [svc for svc in self.services if self.pid(svc) is None]
        for svc in to_start:
            svc.check_binaries()
        for svc in to_start:
            for port in svc.ports:
                if not process.port_is_free(port):
                    raise StackError(
                        f"{svc.name}: port {port} on 127.0.0.1 is already taken by another process "
                        f"(see `ss -ltnp 'sport = :{port}'`); stop it or choose another port "
                        f"with HW_* variables. Log: {svc.log_file}"
                    )
        for svc in to_start:
            svc.install(say)
        started: list[tuple[Service, subprocess.Popen[bytes]]] = []
        try:
            self._start(to_start, started, say)
        except BaseException:
            for svc, proc in reversed(started):
                if proc.poll() is None:
                    process.terminate(proc.pid, timeout=svc.stop_timeout_s)
                    say(f"{svc.name}: stopped again (pid {proc.pid}) because `up` failed")
                proc.poll()
                svc.pid_file.unlink(missing_ok=True)
            raise

    def _start(self, to_start: list[Service],
               started: list[tuple[Service, subprocess.Popen[bytes]]], say: Say) -> None:
        for svc in to_start:
            svc.prepare()
            started.append((svc, process.spawn(
                svc.command(), log_file=svc.log_file, pid_file=svc.pid_file,
                env=svc.environment(), cwd=svc.dir,
            )))
        for svc in self.services:
            if svc not in to_start:
                say(f"{svc.name}: already running (pid {self.pid(svc)})")
        for svc, proc in started:
            t0 = time.monotonic()
            deadline = t0 + svc.start_timeout_s
            while not svc.healthy():
                if proc.poll() is not None:
                    raise StackError(
                        f"{svc.name}: exited with code {proc.returncode} during start-up. "
                        f"Log: {svc.log_file}\n{process.tail(svc.log_file)}"
                    )
                if time.monotonic() > deadline:
                    raise StackError(
                        f"{svc.name}: not healthy after {svc.start_timeout_s:.0f} s. "
                        f"Log: {svc.log_file}\n{process.tail(svc.log_file)}"
                    )
                time.sleep(0.2)
            svc.after_healthy()
            say(f"{svc.name}: started (pid {proc.pid}, port {', '.join(map(str, svc.ports))}) "
                f"in {time.monotonic() - t0:.1f} s")
        for svc in self.services:
            if svc not in to_start and not svc.healthy():
                raise StackError(f"{svc.name}: running but not healthy. Log: {svc.log_file}")
            if svc not in to_start:
                svc.after_healthy()

    def install(self, say: Say = print) -> None:
        """Fetch or build what the stopped services run (InfluxDB, Kafka jars); starts nothing."""
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        for svc in self.services:
            if self.pid(svc) is None:
                svc.check_binaries()
                svc.install(say)

    def down(self, say: Say = print) -> None:
        """Stop exactly the processes this stack started and check their ports are closed."""
        for svc in reversed(self.services):
            pid = self.pid(svc)
            if pid is None:
                say(f"{svc.name}: not running")
                svc.pid_file.unlink(missing_ok=True)
                continue
            hard = process.terminate(pid, timeout=svc.stop_timeout_s)
            svc.pid_file.unlink(missing_ok=True)
            say(f"{svc.name}: stopped (pid {pid}{', killed after timeout' if hard else ''})")
        for svc in self.services:
            for port in svc.ports:
                deadline = time.monotonic() + 5
                while process.port_is_listening(port) and time.monotonic() < deadline:
                    time.sleep(0.1)

    def status(self) -> list[ServiceStatus]:
        """Pid, ports, health, memory and data size of every service."""
        out = []
        for svc in self.services:
            pid = self.pid(svc)
            out.append(ServiceStatus(
                name=svc.name, pid=pid, ports=svc.ports,
                healthy=pid is not None and svc.healthy(),
                rss_bytes=process.rss_bytes(pid) if pid else None,
                data_bytes=process.dir_size(svc.data_dir), log_file=str(svc.log_file),
            ))
        return out

    def is_up(self) -> bool:
        """True when every service runs and is healthy."""
        return all(s.state == "running" for s in self.status())
