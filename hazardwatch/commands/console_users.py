"""`hazardwatch alerting user add|list|disable|enable|password|logout|import`: console
accounts in the alerting store (the compacted Kafka topic every alerting instance follows);
the first administrator comes from here. A password is typed twice, read from stdin, or
generated and printed once; no default password exists, and only its argon2id hash is
stored. `--users FILE` works on an accounts file instead (embedding, tests, older installs)."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from hazardwatch.stack.settings import StackSettings

if TYPE_CHECKING:
    from hazardwatch.alerting.users import AccountStore


def default_users() -> Path:
    """HW_ALERTING_USERS, else .run/alerting/users.json of the local stack (the file older
    installations kept; imported into the store when the service starts)."""
    env = os.environ.get("HW_ALERTING_USERS")
    return Path(env) if env else StackSettings.from_env().run_dir / "alerting" / "users.json"


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--users", type=Path, default=None,
                   help="an accounts file instead of the alerting store")
    p.add_argument("--topic-prefix", default="", help="as the alerting service's")


def add_parser(p: argparse.ArgumentParser) -> None:
    """`user …` under `alerting`."""
    sub = p.add_subparsers(dest="alerting_cmd")
    user = sub.add_parser("user", help="console accounts").add_subparsers(dest="user_cmd",
                                                                           required=True)
    a = user.add_parser("add", help="create or replace a console account")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=["值班员", "指挥长", "只读", "管理员"])
    a.add_argument("--region", action="append", default=[], help="region code prefix")
    a.add_argument("--company", action="append", default=[])
    a.add_argument("--site", action="append", default=[])
    a.add_argument("--all", action="store_true", help="no scope restriction (explicit)")
    a.add_argument("--generate", action="store_true",
                   help="generate a random password and print it once")
    _where(a)
    a.set_defaults(func=add)
    ls = user.add_parser("list", help="accounts with role, scope and state (no secrets)")
    _where(ls)
    ls.set_defaults(func=list_users)
    for verb, flag in (("disable", True), ("enable", False)):
        x = user.add_parser(verb, help=f"{verb} an account (its sessions stop or resume)")
        x.add_argument("name")
        _where(x)
        x.set_defaults(func=lambda args, flag=flag: set_disabled(args, flag))
    pw = user.add_parser("password", help="set a new password (its sessions end)")
    pw.add_argument("name")
    pw.add_argument("--generate", action="store_true")
    _where(pw)
    pw.set_defaults(func=set_password)
    lo = user.add_parser("logout", help="end every session of the account, on every instance")
    lo.add_argument("name")
    _where(lo)
    lo.set_defaults(func=logout)
    im = user.add_parser("import", help="copy the accounts of an older accounts file into the "
                                        "alerting store (names it has already are kept)")
    im.add_argument("file", type=Path)
    im.add_argument("--topic-prefix", default="")
    im.set_defaults(func=import_file, users=None)


def store(args: argparse.Namespace) -> AccountStore:
    """The accounts file given, else the alerting store on the stack's Kafka."""
    from hazardwatch.alerting.users import UserFile

    if args.users is not None:
        return UserFile(args.users)
    from hazardwatch.alerting.accountlog import ACCOUNTS_TOPIC, AccountLog

    return AccountLog(StackSettings.from_env().kafka_bootstrap,
                      args.topic_prefix + ACCOUNTS_TOPIC, follow=False)


def _password(args: argparse.Namespace) -> str | None:
    if args.generate:
        return secrets.token_urlsafe(12)
    if sys.stdin.isatty():
        password = getpass.getpass("密码: ")
        if getpass.getpass("再次输入: ") != password:
            print("user: 两次输入的密码不一致", file=sys.stderr)
            return None
        return password
    return sys.stdin.readline().rstrip("\n")


def _done(where: AccountStore) -> str:
    where.close()
    return str(getattr(where, "path", None) or getattr(where, "topic", ""))


def add(args: argparse.Namespace) -> int:
    """Create the account."""
    from hazardwatch.alerting.accounts import Role, Scope

    scope = Scope(tuple(args.region), tuple(args.company), tuple(args.site))
    if scope.everything and not args.all:
        print("user add: 需要 --region/--company/--site 或明确的 --all", file=sys.stderr)
        return 2
    password = _password(args)
    if password is None:
        return 2
    where = store(args)
    try:
        where.add(args.name, Role(args.role), scope, password, int(time.time() * 1000))
    except ValueError as exc:
        print(f"user add: {exc}", file=sys.stderr)
        _done(where)
        return 2
    print(f"user add: {args.name} ({args.role}, 范围 {scope.describe()}) → {_done(where)}")
    if args.generate:
        print(f"password: {password}")
    return 0


def list_users(args: argparse.Namespace) -> int:
    """Print the accounts."""
    where = store(args)
    for a in where.accounts().values():
        state = "停用" if a.disabled else "启用"
        print(f"{a.name}\t{a.role}\t{a.scope.describe()}\t{state}")
    _done(where)
    return 0


def set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    """Disable or enable an account."""
    where = store(args)
    try:
        where.disable(args.name, disabled)
    except ValueError as exc:
        print(f"user: {exc}", file=sys.stderr)
        return 2
    finally:
        _done(where)
    print(f"user: {args.name} {'已停用' if disabled else '已启用'}")
    return 0


def set_password(args: argparse.Namespace) -> int:
    """A new password for an account."""
    password = _password(args)
    if password is None:
        return 2
    where = store(args)
    try:
        where.set_password(args.name, password, int(time.time() * 1000))
    except ValueError as exc:
        print(f"user password: {exc}", file=sys.stderr)
        return 2
    finally:
        _done(where)
    print(f"user password: {args.name} 密码已更新，原有会话已失效")
    if args.generate:
        print(f"password: {password}")
    return 0


def logout(args: argparse.Namespace) -> int:
    """End every session of an account."""
    where = store(args)
    try:
        if args.name not in where.accounts():
            print(f"user logout: 没有账户 {args.name}", file=sys.stderr)
            return 2
        where.end_sessions(args.name, int(time.time() * 1000))
    finally:
        _done(where)
    print(f"user logout: {args.name} 的所有会话已结束")
    return 0


def import_file(args: argparse.Namespace) -> int:
    """Import an older accounts file into the alerting store."""
    from hazardwatch.alerting.users import UserFile

    if not args.file.exists():
        print(f"user import: {args.file} 不存在", file=sys.stderr)
        return 2
    where = store(args)
    try:
        names = where.import_from(UserFile(args.file))
    finally:
        target = _done(where)
    print(f"user import: {len(names)} 个账户导入 {target}: {', '.join(names) or '无'}")
    return 0
