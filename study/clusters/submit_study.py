"""Entry script for ``ray submit CLUSTER.yaml study/clusters/submit_study.py -- ARGS``.

On the head node it runs ``study run ARGS`` (or ``study resume NAME ...`` when ARGS start with
``resume``) against the running cluster: ``--address auto`` unless an address is given, so it
never starts a Ray of its own, and it fails with one line when no cluster answers.
"""
import sys

from study.cli import main

SUBCOMMANDS = ("run", "resume", "report", "trend")


def command_line(argv: list[str]) -> list[str]:
    args = list(argv) if argv and argv[0] in SUBCOMMANDS else ["run", *argv]
    if args[0] in ("run", "resume") and not any(a == "--address" or a.startswith("--address=") for a in args):
        args += ["--address", "auto"]
    return args


if __name__ == "__main__":
    raise SystemExit(main(command_line(sys.argv[1:])))
