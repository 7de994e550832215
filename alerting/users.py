"""Console accounts in a file every alerting instance reads (mode 0600, reloaded when it
changes): name, role, scope and an argon2id password hash. No default account exists; the
first administrator comes from `hazardwatch alerting user add`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hazardwatch.alerting.accounts import Role, Scope

# OWASP's argon2id minimum (19 MiB, 2 passes): a failed-login flood cannot eat the memory
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY = _hasher.hash("hw-no-such-user")  # same work for an unknown name (no timing oracle)
MIN_PASSWORD = 10


class Account(msgspec.Struct, frozen=True):
    """One person who may log in to the console."""

    name: str
    role: Role
    scope: Scope
    pw_hash: str
    created_at: int = 0
    disabled: bool = False
    sessions_after: int = 0  # epoch ms: sessions issued earlier are void (logout)


class UserFile:
    """The accounts, read from `path` again whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}

    def accounts(self) -> dict[str, Account]:
        """Every account by name (the file's current content; missing file: none)."""
        with self.lock:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                self._seen, self._accounts = None, {}
                return {}
            if self._seen != (st.st_mtime_ns, st.st_size):
                rows = msgspec.json.decode(self.path.read_bytes(), type=list[Account])
                self._accounts = {a.name: a for a in rows}
                self._seen = (st.st_mtime_ns, st.st_size)
            return self._accounts

    def add(self, name: str, role: Role, scope: Scope, password: str, now: int) -> Account:
        """Create or replace an account (the password is only kept hashed)."""
        if not name.strip():
            raise ValueError("用户名不能为空")
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"密码至少 {MIN_PASSWORD} 个字符")
        acc = Account(name, role, scope, _hasher.hash(password), now)
        self._write({**self.accounts(), name: acc})
        return acc

    def disable(self, name: str, disabled: bool = True) -> Account:
        """Lock (or unlock) an account: its sessions stop working at the next request."""
        acc = self.accounts().get(name)
        if acc is None:
            raise ValueError(f"没有账户 {name}")
        acc = msgspec.structs.replace(acc, disabled=disabled)
        self._write({**self.accounts(), name: acc})
        return acc

    def end_sessions(self, name: str, now_ms: int) -> None:
        """Void every session of this account issued before now (logout, on every device)."""
        acc = self.accounts().get(name)
        if acc is not None:
            self._write({**self.accounts(),
                         name: msgspec.structs.replace(acc, sessions_after=now_ms)})

    def _write(self, rows: dict[str, Account]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(msgspec.json.format(msgspec.json.encode(list(rows.values()))))
        os.replace(tmp, self.path)

    def check(self, name: str, password: str) -> Account | None:
        """The account when the password is right (and the account enabled), else None."""
        acc = self.accounts().get(name)
        try:
            _hasher.verify(acc.pw_hash if acc else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return acc if acc is not None and not acc.disabled else None
