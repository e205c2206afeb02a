"""Entry script on the head node, for ``ray submit CLUSTER.yaml study/clusters/submit_study.py
--tmux -- ARGS`` or ``ray job submit -- python ~/loss-scale-study/study/clusters/submit_study.py ARGS``.

It runs ``study run ARGS`` (or ``study resume|report|trend ...`` when ARGS start with one of
those) against the running cluster:

- ``--address auto`` unless an address is given: it joins the cluster and never starts a Ray of
  its own (one line when no cluster answers);
- the head's MLflow server as ``--tracking-uri`` of ``run``, ``report`` and ``trend`` unless one is
  given (or ``$MLFLOW_TRACKING_URI`` is set): the URL that ``start_tracking.sh`` wrote to
  ``~/mlflow-server.url``, on the head's private address, which the workers reach. A given URI
  on localhost is moved to that address too: on a worker, localhost is the worker itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

SUBCOMMANDS = ("run", "resume", "report", "trend")
SERVER_URL_FILE = Path.home() / "mlflow-server.url"
LOOPBACK = ("localhost", "127.0.0.1", "0.0.0.0", "::1")


def head_tracking_uri(path: Path = SERVER_URL_FILE) -> str | None:
    """The MLflow server that start_tracking.sh started on this head, if any."""
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _flag(args: list[str], name: str) -> int | None:
    """Index of ``name``'s value in ``args`` (``--name VALUE`` or ``--name=VALUE``)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return i + 1
        if arg.startswith(name + "="):
            return i
    return None


def command_line(argv: list[str], server: str | None = None, env: dict | None = None) -> list[str]:
    env = os.environ if env is None else env
    args = list(argv[1:] if argv[:1] == ["--"] else argv)
    args = args if args and args[0] in SUBCOMMANDS else ["run", *args]
    if (
        args[0] in ("run", "resume")
        and _flag(args, "--address") is None
        and "--address" not in args
    ):
        args += ["--address", "auto"]
    if server is None:
        return args
    at = _flag(args, "--tracking-uri")
    if at is None:
        if args[0] != "resume" and not env.get("MLFLOW_TRACKING_URI"):
            args += ["--tracking-uri", server]
        return args
    given = args[at].split("=", 1)[1] if args[at].startswith("--tracking-uri=") else args[at]
    if given.startswith(("http://", "https://")) and urlsplit(given).hostname in LOOPBACK:
        args[at] = f"--tracking-uri={server}" if args[at].startswith("--tracking-uri=") else server
    return args


if __name__ == "__main__":
    from study.cli import main

    line = command_line(sys.argv[1:], head_tracking_uri())
    print("study " + " ".join(line), flush=True)
    raise SystemExit(main(line))
