"""The accounts as an alerting store holds them: the topic's records read in order (pure view),
the shared operations (disable, new password, logout, import) on the file store."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from hazardwatch.alerting.accountlog import AccountView
from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.users import Account, UserFile

PW = "pw-0123456789ab"


def K(key: str) -> bytes:
    """A record key as bytes."""
    return key.encode()


def _acc(name: str, role: Role = Role.DUTY) -> Account:
    return Account(name, role, Scope(regions=("150104",)), "$argon2id$v=19$x", 1)


def test_the_view_takes_accounts_logouts_and_tombstones_in_order() -> None:
    v = AccountView()
    v.apply(K("account:甲"), msgspec.json.encode(_acc("甲")))
    v.apply(K("logout:甲"), b"1700")
    v.apply(K("account:甲"), msgspec.json.encode(_acc("甲", Role.COMMANDER)))
    got = v.accounts()["甲"]
    assert (got.role, got.sessions_after) == (Role.COMMANDER, 1700)  # a new row keeps logout
    v.apply(K("account:甲"), None)
    assert v.accounts() == {}


@pytest.mark.parametrize(("key", "value", "why"), [
    (K("bogus:甲"), b"{}", "unknown account record"),
    (K("account:"), b"{}", "unknown account record"),
    (K("account:甲"), b"{not json", "JSON"),
    (K("account:甲"), msgspec.json.encode(_acc("乙")), "holds"),
    (K("logout:甲"), b"soon", "invalid literal"),
])
def test_an_unreadable_record_is_refused_with_its_reason(key: bytes, value: bytes,
                                                          why: str) -> None:
    v = AccountView()
    v.apply(K("account:丙"), msgspec.json.encode(_acc("丙")))
    with pytest.raises((ValueError, msgspec.DecodeError), match=why):
        v.apply(key, value)
    assert list(v.accounts()) == ["丙"]  # nothing else changed


def test_a_new_password_replaces_the_hash_and_ends_the_sessions(tmp_path: Path) -> None:
    users = UserFile(tmp_path / "u.json")
    users.add("甲", Role.DUTY, Scope(regions=("15",)), PW, 0)
    with pytest.raises(ValueError, match="至少"):
        users.set_password("甲", "short", 5)
    users.set_password("甲", "another-password-1", 1234)
    assert users.check("甲", PW) is None
    acc = users.check("甲", "another-password-1")
    assert acc is not None and acc.sessions_after == 1234
    with pytest.raises(ValueError, match="没有账户"):
        users.set_password("乙", "another-password-1", 5)


def test_import_copies_only_the_names_the_store_lacks(tmp_path: Path) -> None:
    old, new = UserFile(tmp_path / "old.json"), UserFile(tmp_path / "new.json")
    old.add("甲", Role.DUTY, Scope(regions=("15",)), PW, 0)
    old.add("乙", Role.ADMIN, Scope(), PW, 0)
    new.add("乙", Role.READONLY, Scope(regions=("1501",)), "kept-password-1", 0)
    new.disable("乙")
    assert new.import_from(old) == ["甲"]
    assert new.check("甲", PW) is not None  # the hash came along as it was
    kept = new.accounts()["乙"]
    assert kept.role == Role.READONLY and kept.disabled  # the store's own row wins


class _Lagging(UserFile):
    """A store whose follower has not yet read an account another instance just wrote."""

    def __init__(self, path: Path, late: UserFile) -> None:
        super().__init__(path)
        self.late, self.caught_up = late, 0

    def accounts(self) -> dict[str, Account]:
        return self.late.accounts() if self.caught_up else super().accounts()

    def catch_up(self) -> None:
        self.caught_up += 1


def test_a_login_of_an_unknown_name_first_catches_up_with_the_store(tmp_path: Path) -> None:
    elsewhere = UserFile(tmp_path / "elsewhere.json")
    elsewhere.add("新值班员", Role.DUTY, Scope(regions=("150104",)), PW, 0)
    store = _Lagging(tmp_path / "here.json", elsewhere)
    acc = store.check("新值班员", PW)
    assert acc is not None and acc.name == "新值班员" and store.caught_up == 1
    assert store.check("新值班员", "wrong-password-1") is None and store.caught_up == 1
