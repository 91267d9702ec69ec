"""``mlp model ...``: the CLI twin of ``%mlp model`` (registry and serving)."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _fmt_metrics(metrics: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
    )


def cmd_model(args: argparse.Namespace) -> int:
    """Run one ``mlp model`` action; MLPError is reported by ``mlp.cli.main``."""
    from bentos import registry, serving

    user = args.user
    if args.model_command == "list":
        rows = registry.list_models(args.name, user=user, all_users=args.all)
        if args.json:
            _print_json(rows)
        for r in [] if args.json else rows:
            metrics = _fmt_metrics(r["metrics"])
            print(f"{r['tag']}  {r['user']}  {r['framework']}  {r['created']}  {metrics}")
        return 0
    if args.model_command == "show":
        _print_json(registry.show(args.tag, user=user))
    elif args.model_command == "compare":
        _print_json(registry.compare(args.a, args.b, user=user))
    elif args.model_command == "delete":
        print(f"deleted {registry.delete(args.tag, user=user)}")
    elif args.model_command == "build":
        bento = serving.build(args.tag, user=user)
        print(f"built bento {bento['tag']} for model {bento['model']} at {bento['path']}")
    elif args.model_command == "serve":
        return _serve_foreground(args)
    elif args.model_command == "servers":
        for s in serving.list_servers(user):
            workers = s.get("workers", 1)
            print(f"{s['model']}  {s['url']}  pid {s['pid']}  workers {workers}  log {s['log']}")
    elif args.model_command == "stop":
        entry = serving.stop(args.target, user)
        print(f"stopped {entry['model']} on port {entry['port']}")
    elif args.model_command == "logs":
        print(serving.logs(args.target, user, lines=args.lines))
    return 0


def _serve_foreground(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C / SIGTERM: the server dies with this process (PDEATHSIG)."""
    from bentos import serving

    entry = serving.serve(
        args.tag, port=args.port, user=args.user, workers=args.workers, max_rows=args.max_rows
    )
    print(f"serving {entry['model']} at {entry['url']} (Ctrl-C stops it; log {entry['log']})")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        serving.stop(entry["port"], args.user)
    return 0


def add_model_parser(sub: Any) -> None:
    """Add ``model`` and its actions to the ``mlp`` command's subparsers."""
    model = sub.add_parser("model", help="model registry and serving (as %mlp model)")
    model.add_argument("--user", help="namespace (default: $JUPYTERHUB_USER or the OS user)")
    msub = model.add_subparsers(dest="model_command", required=True)
    lst = msub.add_parser("list", help="list model versions, newest first")
    lst.add_argument("name", nargs="?")
    lst.add_argument("--all", action="store_true", help="every user's models")
    lst.add_argument("--json", action="store_true")
    msub.add_parser("show", help="everything about one model version").add_argument("tag")
    cmp = msub.add_parser("compare", help="two versions' metrics side by side")
    cmp.add_argument("a")
    cmp.add_argument("b")
    msub.add_parser("delete", help="delete a model version").add_argument("tag")
    msub.add_parser("build", help="build a bento, offline").add_argument("tag")
    serve = msub.add_parser("serve", help="serve a model on 127.0.0.1 until Ctrl-C")
    serve.add_argument("tag")
    serve.add_argument("--port", type=int)
    serve.add_argument("--max-rows", type=int)
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    msub.add_parser("servers", help="list running model servers")
    msub.add_parser("stop", help="stop a model server (port, pid or tag)").add_argument("target")
    logs = msub.add_parser("logs", help="last lines of a model server's log")
    logs.add_argument("target")
    logs.add_argument("-n", "--lines", type=int, default=40)
    model.set_defaults(func=cmd_model)
