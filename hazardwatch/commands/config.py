"""`hazardwatch validate-config` and `hazardwatch mqtt-acl`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hazardwatch.contracts.catalog import CatalogError, load_catalog
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.mosquitto import MosquittoService
from hazardwatch.stack.settings import StackSettings, default_catalog


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register both subcommands."""
    p = sub.add_parser("validate-config", help="check a catalog; report every problem")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.set_defaults(func=run_validate)
    p = sub.add_parser("mqtt-acl", help="generate Mosquitto accounts and ACLs from a catalog")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--print", action="store_true", help="print the ACL instead of applying it")
    p.set_defaults(func=run_acl)


def run_validate(args: argparse.Namespace) -> int:
    """Print a summary, or every problem with file, line, entry and reason (exit 1)."""
    try:
        cat = load_catalog(args.catalog)
    except CatalogError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) in {args.catalog}")
        return 1
    print(f"{args.catalog}: OK — {len(cat.sites)} sites, {len(cat.devices)} devices, "
          f"{len(cat.sensors)} sensors, {len(cat.companies)} companies, "
          f"{len(cat.vehicles)} vehicles")
    return 0


def run_acl(args: argparse.Namespace) -> int:
    """Write device accounts into the stack's run directory and reload a running broker."""
    stack = Stack(StackSettings.from_env())
    svc = stack.service("mosquitto")
    assert isinstance(svc, MosquittoService)
    n = svc.apply_catalog(args.catalog)
    pid = stack.pid(svc)
    if pid is not None and not args.print:
        svc.reload(pid)  # rewrites the auth files, then SIGHUP
    else:
        svc.write_auth_files()
    if args.print:
        print(svc.acl_file.read_text())
        return 0
    user, spec = next(iter(json.loads(svc.devices_file.read_text()).items()))
    print(f"{n} device/vehicle accounts written to {svc.devices_file} "
          f"({'broker reloaded' if pid else 'broker not running'}); e.g. "
          f"{user} may publish only under {spec['topic_base']}")
    return 0
