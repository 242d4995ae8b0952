"""`police-kiosk hub user add` and `hub token add`: console accounts, from the hub's command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from hub.web.accounts import ROLES, AccountError, Accounts
from hub.web.console import prepare_database
from hub.web.db import Db

__all__ = ["add_parsers", "run"]


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="console accounts: `user add NAME --role ROLE` (password on stdin)")
    token = sub.add_parser("token", help="API tokens for scripts: `token add NAME --role ROLE` (printed last)")
    for parser, what in ((user, "account"), (token, "token")):
        parser.add_argument("verb", choices=["add"])
        parser.add_argument("name", help=f"the {what}'s name")
        parser.add_argument(
            "--role",
            required=True,
            choices=ROLES,
            help="command (everything), district (one district's stations), viewer (read only)",
        )
        parser.add_argument("--district", default="", help="the district of a district officer")
        parser.add_argument("--db", required=True, help="the hub's database URL")


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise AccountError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace) -> int:
    actor = f"cli:{os.environ.get('USER', 'unknown')}"
    try:
        prepare_database(args.db)
        db = Db(args.db)
    except Exception as exc:  # noqa: BLE001 - any driver error: say which database and exit non-zero
        print(f"police-kiosk hub {args.action}: cannot open database {args.db!r}: {exc}", file=sys.stderr)
        return 1
    try:
        accounts = Accounts(db)
        if args.action == "user":
            accounts.add_user(args.name, args.role, _password(), district=args.district, actor=actor)
            print(f"account {args.name} ({args.role}{' ' + args.district if args.district else ''}) saved")
        else:
            print(f"token for {args.name} ({args.role}); keep it secret, it is shown once:")
            print(accounts.add_token(args.name, args.role, district=args.district, actor=actor))
    except AccountError as exc:
        print(f"police-kiosk hub {args.action}: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0
