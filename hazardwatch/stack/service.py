"""The shape of every local service: files in the run directory, a command, a health check."""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from hazardwatch.stack.errors import StackError
from hazardwatch.stack.settings import StackSettings

Say = Callable[[str], None]


class Service(ABC):
    """One real service run as a local process bound to 127.0.0.1."""

    name: str = ""
    start_timeout_s: float = 30.0
    stop_timeout_s: float = 15.0
    binaries: tuple[tuple[str, str], ...] = ()  # (executable, Debian package)

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.dir = settings.run_dir / self.name
        self.data_dir = self.dir / "data"
        self.log_file = self.dir / f"{self.name}.log"
        self.pid_file = self.dir / f"{self.name}.pid"

    @property
    @abstractmethod
    def ports(self) -> tuple[int, ...]:
        """Every port this service binds on 127.0.0.1."""

    @property
    @abstractmethod
    def marker(self) -> str:
        """A string unique to this run directory that appears in the process's command line."""

    @abstractmethod
    def prepare(self) -> None:
        """Write configuration and initialise storage; idempotent."""

    @abstractmethod
    def command(self) -> list[str]:
        """The argv that runs the service in the foreground."""

    @abstractmethod
    def healthy(self) -> bool:
        """True when the service answers a real request."""

    def install(self, say: Say) -> None:  # noqa: B027 - optional hook
        """Fetch or build what the service runs (outside its run directory where it can be)."""

    def after_healthy(self) -> None:  # noqa: B027 - optional hook
        """One-time provisioning once the service answers (databases, topics); idempotent."""

    def environment(self) -> dict[str, str]:
        """Environment of the service process."""
        return dict(os.environ)

    def check_binaries(self) -> None:
        """Fail with the Debian package to install when an executable is missing."""
        for exe, package in self.binaries:
            if shutil.which(exe) is None and not Path(exe).is_file():
                raise StackError(
                    f"{self.name}: executable {exe!r} not found; install the Debian package "
                    f"{package!r} (`make setup` does it)"
                )
