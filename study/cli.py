"""``study run | report | trend | replay | ui | presets | bench``: validated input, one-line errors, exit code 2."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable, Sequence

from study.errors import UsageError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


class Parser(argparse.ArgumentParser):
    """argparse that reports bad input on one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"study: error: {message}\n")
        raise SystemExit(2)


def number_type(parse: Callable[[str], float], noun: str, in_range: Callable[[float], bool], problem: str, hint: str):
    """An argparse type: ``parse`` the text, then check its range; each failure is one line."""
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}; expected {hint}") from None
        if not in_range(value):
            raise argparse.ArgumentTypeError(f"{text} {problem}; expected {hint}")
        return value

    return convert


positive_int = number_type(int, "a whole number", lambda v: v >= 1, "is not positive", "a positive integer")
positive_float = number_type(float, "a number", lambda v: v > 0, "is not positive", "a positive number")
fraction = number_type(float, "a number", lambda v: v >= 0, "is negative", "a GPU share such as 0.25 or 1")
non_negative_float = number_type(float, "a number", lambda v: v >= 0, "is not >= 0", "seconds >= 0 (0 = every epoch, inf = never)")


def build_parser() -> Parser:
    from study.presets.base import DEFAULT_SIZE, MAIN_PRESET, SIZES

    parser = Parser(prog="study", description="Search CNN loss functions, softmax scales and margins with Ray Tune + Optuna + MLflow.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = sub.add_parser("run", help="run a study (a hyperparameter search)")
    run.add_argument("--preset", default=MAIN_PRESET, help="a preset name (see `study presets`)")
    run.add_argument("--size", choices=SIZES, help=f"smoke (minutes on 2 cores), cpu (a laptop, < 1 h), full (the paper, GPUs); default: the preset's, usually {DEFAULT_SIZE}")
    run.add_argument("--config", help="a YAML file with the study's fields, instead of a preset")
    run.add_argument("--data-root", default="", help="directory of on-disk datasets (CIFAR, MNIST, CUB, Cars)")
    run.add_argument("--trials", type=positive_int, help="trials per group (default: the preset's)")
    run.add_argument("--tracking-uri", default=DEFAULT_TRACKING_URI, help="MLflow store: sqlite:///PATH, file:///PATH or http://HOST:PORT")
    run.add_argument("--storage", default="study_results", help="Ray Tune state and checkpoints: a path or a cloud URI")
    run.add_argument("--address", default=os.environ.get("RAY_ADDRESS", ""),
                     help="Ray cluster to join: HOST:PORT of its head, or auto (the one `ray start` started on this machine); "
                          "default $RAY_ADDRESS, else (or with \"\") a new local Ray of this run's own")
    run.add_argument("--name", help="study (MLflow experiment) name; default: PRESET-SIZE")
    run.add_argument("--sampler", help="Optuna sampler (default: the preset's)")
    run.add_argument("--scheduler", help="trial scheduler (default: the preset's)")
    run.add_argument("--seed", type=int, help="sampler seed")
    run.add_argument("--seeds", type=positive_int,
                     help="paired seeds: run every grid cell on seeds 0..N-1 (grid presets; default: the preset's)")
    run.add_argument("--max-concurrent", type=positive_int, help="cap on concurrent trials (default: none; trials start whenever the cluster has room, as it grows or shrinks)")
    run.add_argument("--cpus-per-trial", type=positive_float, help="CPUs per trial (default 1)")
    run.add_argument("--gpus-per-trial", type=fraction, help="GPUs per trial; 0.25 runs four trials on one GPU")
    run.add_argument("--max-failures", type=int, help="retries of a trial whose worker died (default 2)")
    run.add_argument("--checkpoint-every-s", type=non_negative_float,
                     help="seconds of training between a trial's checkpoints, the most a lost node costs it (default 60; 0 = every epoch, inf = never)")
    run.add_argument("--dry-run", action="store_true", help="validate and print the plan without training")

    resume = sub.add_parser("resume", help="resume an interrupted study: only the missing trials run, no duplicate runs")
    resume.add_argument("name", help="the study name (printed by `study run`)")
    resume.add_argument("--storage", default="study_results", help="the --storage the study ran with")
    resume.add_argument("--address", help="Ray cluster address (default: the one the study ran with)")
    resume.add_argument("--tracking-uri", help="MLflow store (default: the one the study ran with)")

    report = sub.add_parser("report", help="best configurations, top trials, scale trend and figures as Markdown, HTML and JSON")
    report.add_argument("--tracking-uri", default=DEFAULT_TRACKING_URI)
    report.add_argument("--out", default="reports", help="output directory")
    report.add_argument("--experiment", help="only this study (MLflow experiment)")
    report.add_argument("--metric", help="rank trials by this metric (default: the study's own, else val_accuracy)")
    report.add_argument("--mode", choices=("max", "min"), help="default: the study's own, else max")
    report.add_argument("--no-figures", action="store_true", help="skip the PNG/SVG figures (faster)")

    trend = sub.add_parser("trend", help="optimum scale per class count and the fit s*(C) = a ln(C-1) + b")
    trend.add_argument("--tracking-uri", default=DEFAULT_TRACKING_URI)
    trend.add_argument("--out", default="reports", help="output directory for trend.json and the figures")
    trend.add_argument("--experiment", help="only this study (MLflow experiment)")
    trend.add_argument("--metric", help="default: the study's own, else val_accuracy")
    trend.add_argument("--mode", choices=("max", "min"), help="default: the study's own, else max")
    trend.add_argument("--bootstrap", type=positive_int, default=1000, help="bootstrap resamples for the intervals")
    trend.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    trend.add_argument("--bandwidth", type=float, help="kernel width in ln(scale) units of the smoothed curves (default: analysis.trends.BANDWIDTH)")

    replay = sub.add_parser("replay", help="re-train one recorded trial from its params, without Optuna or Ray")
    replay.add_argument("run_id", help="the trial's MLflow run id (see `study report`)")
    replay.add_argument("--tracking-uri", default=DEFAULT_TRACKING_URI)
    replay.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. train.device=cpu (repeatable)")

    ui = sub.add_parser("ui", help="start the MLflow UI on 127.0.0.1 for the study store")
    ui.add_argument("--tracking-uri", default=DEFAULT_TRACKING_URI)
    ui.add_argument("--port", type=positive_int, default=5000)

    sub.add_parser("presets", help="list the presets")

    bench = sub.add_parser("bench", help="measure routine speed, orchestration overhead, memory and trials per hour")
    bench.add_argument("--size", default="default", choices=("tiny", "default"), help="tiny (about a minute) or default (minutes)")
    bench.add_argument("--json", metavar="FILE", help="also write the measurements as JSON to FILE")
    bench.add_argument("--data-root", default="", help="directory of on-disk datasets, for the trials-per-hour estimates")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return command(args.command)(args)
    except UsageError as exc:
        sys.stderr.write(f"study: error: {exc}\n")
        return 2


# command -> "module:function", imported only when that command runs (Ray and torch load slowly)
COMMANDS: dict[str, str] = {
    "run": "study.commands:run_command",
    "resume": "study.commands:resume_command",
    "report": "study.commands:report_command",
    "ui": "study.commands:ui_command",
    "presets": "study.commands:presets_command",
    "trend": "study.analysis_commands:trend_command",
    "replay": "study.analysis_commands:replay_command",
    "bench": "study.bench:bench_command",
}


def command(name: str) -> Callable[[argparse.Namespace], int]:
    module, _, function = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), function)


if __name__ == "__main__":
    raise SystemExit(main())
