"""Console accounts: name, role, scope and an argon2id password hash, kept by an
`AccountStore`. The running service keeps them on the compacted Kafka topic of the alerting
store (`accountlog.AccountLog`, shared by every instance); `UserFile` (mode 0600) is for
embedding and tests, and the format older installations used, imported from at start. No
default account exists; the first administrator comes from `hazardwatch alerting user add`."""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
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


def hash_password(password: str) -> str:
    """The argon2id hash of an acceptable password (ValueError with the reason otherwise)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"密码至少 {MIN_PASSWORD} 个字符")
    return _hasher.hash(password)


class AccountStore(ABC):
    """Where the accounts live; every instance reading the same store sees the same accounts."""

    @abstractmethod
    def accounts(self) -> dict[str, Account]:
        """Every account by name, as the store holds it now."""

    @abstractmethod
    def put(self, acc: Account) -> None:
        """Write an account (role, scope, hash, state) as it is."""

    @abstractmethod
    def put_logout(self, name: str, now_ms: int) -> None:
        """Write the time before which this account's sessions are void."""

    def close(self) -> None:
        """Release what the store holds (nothing for a file)."""
        return None

    def catch_up(self) -> None:
        """Read what the store holds now (a file is read on every call: nothing to do)."""
        return None

    def add(self, name: str, role: Role, scope: Scope, password: str, now: int) -> Account:
        """Create or replace an account (the password is only kept hashed)."""
        if not name.strip():
            raise ValueError("用户名不能为空")
        acc = Account(name, role, scope, hash_password(password), now)
        self.put(acc)
        return acc

    def _known(self, name: str) -> Account:
        acc = self.accounts().get(name)
        if acc is None:
            raise ValueError(f"没有账户 {name}")
        return acc

    def disable(self, name: str, disabled: bool = True) -> Account:
        """Lock (or unlock) an account: its sessions stop working at the next request."""
        acc = msgspec.structs.replace(self._known(name), disabled=disabled)
        self.put(acc)
        return acc

    def set_password(self, name: str, password: str, now_ms: int) -> Account:
        """A new password; every session issued before is void."""
        acc = msgspec.structs.replace(self._known(name), pw_hash=hash_password(password))
        self.put(acc)
        self.put_logout(name, now_ms)
        return acc

    def end_sessions(self, name: str, now_ms: int) -> None:
        """Void every session of this account issued before now (logout, on every device)."""
        if name in self.accounts():
            self.put_logout(name, now_ms)

    def import_from(self, other: AccountStore) -> list[str]:
        """Copy the accounts this store does not have yet (hashes as they are): the names."""
        have = self.accounts()
        new = [a for n, a in other.accounts().items() if n not in have]
        for acc in new:
            self.put(acc)
        return [a.name for a in new]

    def check(self, name: str, password: str) -> Account | None:
        """The account when the password is right (and the account enabled), else None."""
        acc = self.accounts().get(name)
        if acc is None:  # perhaps added a moment ago through another instance or the CLI
            self.catch_up()
            acc = self.accounts().get(name)
        try:
            _hasher.verify(acc.pw_hash if acc else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return acc if acc is not None and not acc.disabled else None


class UserFile(AccountStore):
    """The accounts in a JSON file (0600), read again whenever the file changes."""

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

    def put(self, acc: Account) -> None:
        """Write the account into the file."""
        self._write({**self.accounts(), acc.name: acc})

    def put_logout(self, name: str, now_ms: int) -> None:
        """Kept in the account's row."""
        acc = self.accounts().get(name)
        if acc is not None:
            self.put(msgspec.structs.replace(acc, sessions_after=now_ms))

    def _write(self, rows: dict[str, Account]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(msgspec.json.format(msgspec.json.encode(list(rows.values()))))
        os.replace(tmp, self.path)
