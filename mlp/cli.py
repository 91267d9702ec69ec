"""The ``mlp`` command: ``mlp up``, ``mlp user add``, ``mlp kernels install``, ``mlp service``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mlp.errors import MLPError


def _hub_db_url() -> str:
    from mlp.config import data_dir

    return os.environ.get("MLP_HUB_DB_URL") or f"sqlite:///{data_dir() / 'jupyterhub.sqlite'}"


def cmd_up(_args: argparse.Namespace) -> int:
    """Run the platform in the foreground."""
    from mlp.up import run_foreground

    return run_foreground()


def cmd_user_add(args: argparse.Namespace) -> int:
    """Create an approved account (or reset its password) and print the password."""
    from mlp.users import set_password

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().strip()
    password = set_password(_hub_db_url(), args.name, password, create=not args.reset)
    print(f"user {args.name} can log in with password: {password}")
    return 0


def cmd_kernels_install(_args: argparse.Namespace) -> int:
    """Install the MLP kernel specs into this environment."""
    from mlp.kernelspecs import install_kernels

    for name in install_kernels():
        print(f"installed kernel spec {name}")
    return 0


def cmd_service(_args: argparse.Namespace) -> int:
    """Run the MLP service (normally started by the hub)."""
    from mlp.service.__main__ import main as service_main

    service_main()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of the ``mlp`` command."""
    parser = argparse.ArgumentParser(prog="mlp", description="MLP machine-learning platform")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the local platform at http://127.0.0.1:$MLP_PORT")
    up.set_defaults(func=cmd_up)

    user = sub.add_parser("user", help="manage hub accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add an approved user with a generated password")
    add.add_argument("name")
    add.add_argument("--reset", action="store_true", help="reset an existing user's password")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=cmd_user_add)

    kernels = sub.add_parser("kernels", help="manage MLP kernel specs")
    ksub = kernels.add_subparsers(dest="kernels_command", required=True)
    kinstall = ksub.add_parser("install", help="install the MLP kernels into this environment")
    kinstall.set_defaults(func=cmd_kernels_install)

    from pipelines_as_notebooks.cli import add_parser as add_pipeline_parser

    add_pipeline_parser(sub)

    service = sub.add_parser("service", help="run the MLP hub service (the hub starts it)")
    service.set_defaults(func=cmd_service)

    from bentos.cli import add_model_parser  # `mlp model ...`: the models domain's CLI

    add_model_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; user errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MLPError as exc:
        print(f"mlp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
