"""`hazardwatch alerting user add|list|disable|enable`: console accounts; the first
administrator comes from here. The password is typed twice, read from stdin, or generated
and printed once; no default password exists."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
import time
from pathlib import Path

from hazardwatch.stack.settings import StackSettings


def default_users() -> Path:
    """HW_ALERTING_USERS, else .run/alerting/users.json of the local stack."""
    env = os.environ.get("HW_ALERTING_USERS")
    return Path(env) if env else StackSettings.from_env().run_dir / "alerting" / "users.json"


def add_parser(p: argparse.ArgumentParser) -> None:
    """`user add` under `alerting`."""
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
    a.add_argument("--users", type=Path, default=None, help="accounts file (HW_ALERTING_USERS)")
    a.add_argument("--generate", action="store_true",
                   help="generate a random password and print it once")
    a.set_defaults(func=add)
    ls = user.add_parser("list", help="accounts with role, scope and state (no secrets)")
    ls.add_argument("--users", type=Path, default=None)
    ls.set_defaults(func=list_users)
    for verb, flag in (("disable", True), ("enable", False)):
        x = user.add_parser(verb, help=f"{verb} an account (its sessions stop or resume)")
        x.add_argument("name")
        x.add_argument("--users", type=Path, default=None)
        x.set_defaults(func=lambda args, flag=flag: set_disabled(args, flag))


def add(args: argparse.Namespace) -> int:
    """Create the account."""
    from hazardwatch.alerting.accounts import Role, Scope
    from hazardwatch.alerting.users import UserFile

    scope = Scope(tuple(args.region), tuple(args.company), tuple(args.site))
    if scope.everything and not args.all:
        print("user add: 需要 --region/--company/--site 或明确的 --all", file=sys.stderr)
        return 2
    if args.generate:
        password = secrets.token_urlsafe(12)
    elif sys.stdin.isatty():
        password = getpass.getpass("密码: ")
        if getpass.getpass("再次输入: ") != password:
            print("user add: 两次输入的密码不一致", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    path = args.users or default_users()
    try:
        UserFile(path).add(args.name, Role(args.role), scope, password, int(time.time() * 1000))
    except ValueError as exc:
        print(f"user add: {exc}", file=sys.stderr)
        return 2
    print(f"user add: {args.name} ({args.role}, 范围 {scope.describe()}) → {path}")
    if args.generate:
        print(f"password: {password}")
    return 0


def list_users(args: argparse.Namespace) -> int:
    """Print the accounts."""
    from hazardwatch.alerting.users import UserFile

    for a in UserFile(args.users or default_users()).accounts().values():
        state = "停用" if a.disabled else "启用"
        print(f"{a.name}\t{a.role}\t{a.scope.describe()}\t{state}")
    return 0


def set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    """Disable or enable an account."""
    from hazardwatch.alerting.users import UserFile

    try:
        UserFile(args.users or default_users()).disable(args.name, disabled)
    except ValueError as exc:
        print(f"user: {exc}", file=sys.stderr)
        return 2
    print(f"user: {args.name} {'已停用' if disabled else '已启用'}")
    return 0
