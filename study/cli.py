"""``study run | resume | report | trend | power | replay | ui | dashboard | presets | bench``: validated input,
one-line errors, exit code 2; see ``EXIT_CODES`` for the others."""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import sys
from collections.abc import Callable, Sequence

from study.defaults import DEFAULT_STORAGE, DEFAULT_TRACKING_URI, SEED_LIMIT
from study.errors import UsageError
from trainables.metric_names import VAL_ACCURACY

TRACKING_ENV = (
    "MLFLOW_TRACKING_URI"  # honoured as the default of --tracking-uri, as MLflow itself does
)
# a directory under --storage and an MLflow experiment
STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
EXIT_CODES = {  # of `study run` and `study resume`
    0: "every trial ended (finished or stopped early by the scheduler)",
    2: "bad input: one line on stderr says what and what is allowed; nothing was written",
    3: "every trial failed (diverged, out of memory, or its worker died more than --max-failures times)",
    4: "some trials failed, the others ended; the failed runs carry a failure_reason tag",
    130: "interrupted (Ctrl-C); `study resume NAME` continues",
}
EXIT_EPILOG = "exit codes of run and resume: " + "; ".join(
    f"{code} = {what}" for code, what in EXIT_CODES.items()
)


class Parser(argparse.ArgumentParser):
    """argparse that reports bad input on one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"study: error: {message}\n")
        raise SystemExit(2)


def number_type(
    parse: Callable[[str], float],
    noun: str,
    in_range: Callable[[float], bool],
    problem: str,
    hint: str,
):
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


positive_int = number_type(
    int, "a whole number", lambda v: v >= 1, "is not positive", "a positive integer"
)
positive_float = number_type(
    float, "a number", lambda v: 0 < v < math.inf, "is not positive and finite", "a positive number"
)
fraction = number_type(
    float,
    "a number",
    lambda v: 0 <= v < math.inf,
    "is negative or not finite",
    "a GPU share such as 0.25 or 1",
)
finite_float = number_type(float, "a number", math.isfinite, "is not finite", "a finite number")
# == analysis.response.MODELS (not imported: it loads statsmodels)
RESPONSE_MODELS = ("auto", "lack-of-fit", "quadratic", "cubic", "split", "split-parabola")
MODEL_HELP = (
    "model of the per-C response curve: auto (split with >= 7 scale levels, split-parabola with 5 or 6, "
    "else quadratic; default), "
    "lack-of-fit (quadratic unless it fails the lack-of-fit test, then cubic), quadratic, cubic, "
    "split (a peak |ln s - v|^p with its own steepness on each side of a profiled vertex v and a "
    "profiled shape exponent p in 1..3; quadratic below 5 levels), split-parabola (the same with p = 2)"
)
PEAK_SHAPES = ("kink", "smooth")  # == analysis.power.SHAPES
TREND_BANDWIDTH = 0.3  # == analysis.trends.BANDWIDTH
TREND_BOOT = 1000  # == analysis.trends.N_BOOT
non_negative = number_type(
    float, "a number", lambda v: 0 <= v < math.inf, "is negative or not finite", "a number >= 0"
)


def number_list(check, allowed: str):
    """An argparse type for ``x`` or ``x,y,...``: one value, or one per class count."""

    def parse(text: str) -> tuple[float, ...]:
        try:
            values = tuple(float(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a list of numbers; expected each {allowed}"
            ) from None
        if not all(check(v) for v in values):
            raise argparse.ArgumentTypeError(f"{text}: expected each {allowed}")
        return values

    return parse


accuracy_list = number_list(  # NaN fails every comparison
    lambda v: 0 < v <= 1, "an accuracy in (0, 1], e.g. 0.9 or 0.95,0.9,0.85"
)
positive_list = number_list(
    lambda v: 0 < v < math.inf, "value positive and finite, e.g. 0.05 or 0.01,0.02,0.05"
)
positive_int_list = number_list(
    lambda v: 1 <= v < math.inf and v == int(v), "a whole number >= 1, e.g. 8 or 4,8,16"
)
PLAN_SEEDS = (4, 8, 12, 16, 20, 24)  # study power --plan: the seed counts simulated by default
non_negative_list = number_list(
    lambda v: 0 <= v < math.inf, "value finite and >= 0, e.g. 0.01 or 0.01,0.005,0.02"
)
non_negative_float = number_type(
    float,
    "a number",
    lambda v: v >= 0,
    "is not >= 0",
    "seconds >= 0 (0 = every epoch, inf = never)",
)
non_negative_int = number_type(
    int, "a whole number", lambda v: v >= 0, "is negative", "a whole number >= 0 (0 = no retries)"
)
port = number_type(int, "a whole number", lambda v: 1 <= v <= 65535, "is not a port", "1..65535")
seed_int = number_type(
    int,
    "a whole number",
    lambda v: 0 <= v < SEED_LIMIT,
    "is out of range",
    f"a seed 0 <= seed < 2**32 ({SEED_LIMIT})",
)


def study_name(text: str) -> str:
    """An argparse type: a name that is safe as a directory under --storage and as an MLflow experiment."""
    if not STUDY_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid study name; expected 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no '/', spaces or '..')"
        )
    return text


def default_tracking_uri() -> str:
    return os.environ.get(TRACKING_ENV) or DEFAULT_TRACKING_URI


def add_tracking_uri(parser: argparse.ArgumentParser, default: str | None = "env") -> None:
    """--tracking-uri with its default ($MLFLOW_TRACKING_URI, else DEFAULT_TRACKING_URI) in the help."""
    shown = (
        f"${TRACKING_ENV} if set (now {os.environ[TRACKING_ENV]!r}), else "
        if os.environ.get(TRACKING_ENV)
        else f"${TRACKING_ENV} if set, else "
    )
    parser.add_argument(
        "--tracking-uri",
        default=default_tracking_uri() if default == "env" else default,
        metavar="URI",
        help="MLflow store: sqlite:///PATH, file:///PATH or http(s)://HOST:PORT (default: "
        + (shown + DEFAULT_TRACKING_URI if default == "env" else "the one the study ran with")
        + ")",
    )


def _preset_defaults(field: str, fallback: str) -> str:
    """'the preset's: grid (basics, head-tail), tpe (smoke, ...)' for the help of --sampler and --scheduler."""
    from study.presets import PRESETS

    by_value: dict[str, list[str]] = {}
    for name in PRESETS.names():
        preset = PRESETS.get(name)
        by_value.setdefault(
            str(preset.build(preset.default_size, "").get(field, fallback)), []
        ).append(name)
    return "the preset's: " + ", ".join(
        f"{v} ({', '.join(names)})" for v, names in sorted(by_value.items())
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loss-scale-study")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> Parser:
    from study.presets import PRESETS
    from study.presets.base import DEFAULT_SIZE, MAIN_PRESET, SIZES
    from study.samplers import SAMPLERS, SCHEDULERS

    parser = Parser(
        prog="study",
        description="Search CNN loss functions, softmax scales and margins with Ray Tune + Optuna + MLflow.",
        epilog=EXIT_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = sub.add_parser("run", help="run a study (a hyperparameter search)", epilog=EXIT_EPILOG)
    run.add_argument(
        "--preset",
        metavar="{" + ",".join(PRESETS.names()) + "}",
        help=f"a preset (`study presets` describes them; default: {MAIN_PRESET}, the main job)",
    )
    run.add_argument(
        "--size",
        choices=SIZES,
        help=f"smoke (minutes on 2 cores), cpu (a laptop, < 1 h), full (the paper, GPUs); default: the preset's, usually {DEFAULT_SIZE}",
    )
    run.add_argument("--config", help="a YAML file with the study's fields, instead of a preset")
    run.add_argument(
        "--data-root",
        default="",
        help="directory of on-disk datasets (CIFAR, MNIST, CUB, Cars); default: none, so smoke and cpu "
        "sizes train on the built-in glyphs and on-disk datasets are read from $STUDY_DATA_DIR",
    )
    run.add_argument("--trials", type=positive_int, help="trials per group (default: the preset's)")
    add_tracking_uri(run)
    run.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        help=f"Ray Tune state and checkpoints: a path or a cloud URI (default: {DEFAULT_STORAGE})",
    )
    run.add_argument(
        "--optuna-storage",
        metavar="URL",
        help="the sampler's Optuna studies: an RDB URL (postgresql://..., sqlite:///optuna.db) or a journal file "
        "(default: optuna.journal beside the sqlite MLflow store, else under --storage)",
    )
    run.add_argument(
        "--address",
        default=os.environ.get("RAY_ADDRESS", ""),
        help="Ray cluster to join: HOST:PORT of its head, or auto (the one `ray start` started on this machine); "
        'default $RAY_ADDRESS, else (or with "") a new local Ray of this run\'s own',
    )
    run.add_argument(
        "--name",
        type=study_name,
        help="study (MLflow experiment) name: letters, digits, '.', '_', '-' (default: PRESET-SIZE)",
    )
    run.add_argument(
        "--sampler",
        metavar="{" + ",".join(SAMPLERS.names()) + "}",
        help=f"Optuna sampler (default: {_preset_defaults('sampler', 'tpe')})",
    )
    run.add_argument(
        "--scheduler",
        metavar="{" + ",".join(SCHEDULERS.names()) + "}",
        help=f"trial scheduler (default: {_preset_defaults('scheduler', 'asha')})",
    )
    run.add_argument(
        "--seed", type=seed_int, help="sampler seed, 0 <= seed < 2**32 (default: the preset's, 0)"
    )
    run.add_argument(
        "--seeds",
        type=positive_int,
        help="paired seeds: run every grid cell on seeds 0..N-1 (grid presets), a staged design's "
        "estimate stage on them (scale-vs-classes), or a baseline arm on them (camri's CE); "
        "default: the preset's",
    )
    run.add_argument(
        "--max-concurrent",
        type=positive_int,
        help="cap on concurrent trials (default: none; trials start whenever the cluster has room, as it grows or shrinks)",
    )
    run.add_argument("--cpus-per-trial", type=positive_float, help="CPUs per trial (default 1)")
    run.add_argument(
        "--gpus-per-trial",
        type=fraction,
        help="GPUs per trial; 0.25 runs four trials on one GPU (default 0: CPU only)",
    )
    run.add_argument(
        "--max-failures",
        type=non_negative_int,
        help="retries of a trial whose worker died (default 2)",
    )
    run.add_argument(
        "--checkpoint-every-s",
        type=non_negative_float,
        help="seconds of training between a trial's checkpoints, the most a lost node costs it (default 60; 0 = every epoch, inf = never)",
    )
    run.add_argument(
        "--system-metrics",
        action="store_true",
        default=None,
        help="also log each trial's CPU, memory, disk, network and GPU use (MLflow system metrics)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="validate (the config, the data, the MLflow and Optuna stores) and print the plan without training",
    )
    run.add_argument(
        "--format",
        choices=("json", "yaml"),
        default="json",
        help="of --dry-run: json (the resolved plan) or yaml (the study's fields, which --config reads back); default: json",
    )

    resume = sub.add_parser(
        "resume",
        help="resume an interrupted study: only the missing trials run, no duplicate runs",
        epilog=EXIT_EPILOG,
    )
    resume.add_argument("name", type=study_name, help="the study name (printed by `study run`)")
    resume.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        help=f"the --storage the study ran with (default: {DEFAULT_STORAGE})",
    )
    resume.add_argument(
        "--address", help="Ray cluster address (default: the one the study ran with)"
    )
    add_tracking_uri(resume, default=None)
    resume.add_argument(
        "--seeds",
        type=positive_int,
        help="a staged design (scale-vs-classes): run its estimate stage on seeds 0..N-1, the added "
        "seeds on the same windows, so a finished study buys a narrower interval (default: the "
        "seeds it has)",
    )

    report = sub.add_parser(
        "report",
        help="best configurations, top trials, scale trend and figures as Markdown, HTML and JSON",
    )
    add_tracking_uri(report)
    report.add_argument("--out", default="reports", help="output directory (default: reports)")
    report.add_argument("--experiment", help="only this study (MLflow experiment)")
    report.add_argument(
        "--metric",
        help=f"rank trials by this metric (default: the study's own, else {VAL_ACCURACY})",
    )
    report.add_argument("--mode", choices=("max", "min"), help="default: the study's own, else max")
    report.add_argument(
        "--no-figures", action="store_true", help="skip the PNG/SVG figures (faster)"
    )

    trend = sub.add_parser(
        "trend", help="optimum scale per class count and the fit s*(C) = a ln(C-1) + b"
    )
    add_tracking_uri(trend)
    trend.add_argument(
        "--out",
        default="reports",
        help="output directory for trend.json and the figures (default: reports)",
    )
    trend.add_argument("--experiment", help="only this study (MLflow experiment)")
    trend.add_argument("--metric", help=f"default: the study's own, else {VAL_ACCURACY}")
    trend.add_argument("--mode", choices=("max", "min"), help="default: the study's own, else max")
    trend.add_argument("--model", choices=RESPONSE_MODELS, default="auto", help=MODEL_HELP)
    trend.add_argument(
        "--bootstrap",
        type=positive_int,
        default=TREND_BOOT,
        help=f"bootstrap resamples of the kernel-smoother cross-check (default {TREND_BOOT})",
    )
    trend.add_argument(
        "--seed", type=seed_int, default=0, help="bootstrap seed of the cross-check (default 0)"
    )
    trend.add_argument(
        "--bandwidth",
        type=positive_float,
        default=TREND_BANDWIDTH,
        help=f"kernel width in ln(scale) units of the smoother cross-check (default {TREND_BANDWIDTH})",
    )

    power = sub.add_parser(
        "power",
        help="simulate a preset's scale design against a known law: power, coverage, interval width",
    )
    power.add_argument(
        "--preset", default=MAIN_PRESET, help="a preset with a two-stage scale design"
    )
    power.add_argument(
        "--size", choices=SIZES, help="the design of this size (default: the preset's)"
    )
    power.add_argument(
        "--a",
        type=finite_float,
        default=2**0.5,
        help="true slope a of s*(C) = a ln(C-1) + b (default sqrt(2), AdaCos)",
    )
    power.add_argument("--b", type=finite_float, default=0.0, help="true intercept b (default 0)")
    power.add_argument(
        "--power-law",
        type=positive_list,
        metavar="C,K",
        help="the truth is the power law s*(C) = C (C-1)^K instead (e.g. 0.43,0.65, what the main "
        "job measured with 16 seeds): prints the coverage and width of k's interval, and how often "
        "each form's lack-of-fit test rejects it",
    )
    power.add_argument(
        "--curvature",
        type=positive_list,
        metavar="K[,K...]",
        help="accuracy lost 1 ln unit below the optimum (per ln-unit^2 with --exponent 2): one value, "
        "or one per class count (default: the peaks measured at this size, else 0.05)",
    )
    power.add_argument(
        "--asymmetry",
        type=positive_list,
        metavar="R[,R...]",
        help="the loss above the optimum / the loss below it: one value, or one per class count "
        "(default: as measured, else 0.5; 1 = symmetric)",
    )
    power.add_argument(
        "--exponent",
        type=positive_list,
        metavar="P[,P...]",
        help="shape exponent p of the peak near its top, accuracy falling as |ln s - ln s*|^p: one "
        "value, or one per class count (default: as measured, else 2 = parabolic)",
    )
    power.add_argument(
        "--shape",
        choices=PEAK_SHAPES,
        default="kink",
        help="how the curvature changes at the optimum: kink (switches there; default) or smooth "
        "(a logistic blend over --smooth-width ln units: no corner)",
    )
    power.add_argument(
        "--smooth-width",
        type=positive_float,
        default=0.5,
        help="ln units of the smooth shape's blend (default 0.5)",
    )
    power.add_argument(
        "--top-accuracy",
        dest="top",
        type=accuracy_list,
        metavar="ACC[,ACC...]",
        help="accuracy at the optimum: one value, or one per class count (default: as measured, else 0.9)",
    )
    power.add_argument(
        "--train-noise",
        type=non_negative_list,
        metavar="SD[,SD...]",
        help="sd of a trial's accuracy between training runs: one value, or one per class count (default: as measured, else 0.01)",
    )
    power.add_argument(
        "--seed-effect",
        type=non_negative,
        help="sd of a seed block's shift (default: as measured, else 0.01)",
    )
    power.add_argument(
        "--val-per-class",
        type=positive_int_list,
        metavar="N[,N...]",
        help="validation images per class: one value, or one per class count (default: the preset's)",
    )
    power.add_argument(
        "--screen-shift",
        type=finite_float,
        default=0.0,
        help="ln-units the low-fidelity screen's peak lies above the truth (default 0)",
    )
    power.add_argument(
        "--seeds",
        type=positive_int,
        help="paired seeds of the estimate stage, as `study run --seeds N` or `study resume NAME "
        "--seeds N` would run (default: the preset's)",
    )
    power.add_argument(
        "--plan",
        type=positive_int_list,
        nargs="?",
        const=PLAN_SEEDS,
        metavar="N[,N...]",
        help="simulate the design at each of these seed counts (default "
        + ",".join(map(str, PLAN_SEEDS))
        + ") and print trials, projected minutes, power, coverage and a's width per count, and the "
        "fewest seeds that reach the targets (power >= 0.9, a's width <= 1.5)",
    )
    power.add_argument(
        "--studies", type=positive_int, default=200, help="simulated studies (default 200)"
    )
    power.add_argument("--seed", type=seed_int, default=0, help="simulation seed (default 0)")
    power.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    power.add_argument(
        "--figure",
        metavar="STEM",
        help="with --plan: also draw power and a's width against the seed count, with their "
        "targets, as STEM.png and STEM.svg",
    )
    power.add_argument("--model", choices=RESPONSE_MODELS, default="auto", help=MODEL_HELP)

    replay = sub.add_parser(
        "replay", help="re-train one recorded trial from its params, without Optuna or Ray"
    )
    replay.add_argument("run_id", help="the trial's MLflow run id (see `study report`)")
    add_tracking_uri(replay)
    replay.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config key, e.g. train.device=cpu (repeatable)",
    )

    ui = sub.add_parser(
        "ui",
        help="start the MLflow UI on 127.0.0.1 for the study store (an http store: print its URL)",
    )
    add_tracking_uri(ui)
    ui.add_argument("--port", type=port, default=5000, help="1..65535 (default: 5000)")

    dashboard = sub.add_parser(
        "dashboard", help="start optuna-dashboard on 127.0.0.1 for the sampler's Optuna studies"
    )
    add_tracking_uri(dashboard)
    dashboard.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        help=f"the --storage the studies ran with (default: {DEFAULT_STORAGE})",
    )
    dashboard.add_argument(
        "--optuna-storage",
        metavar="URL",
        help="the --optuna-storage the studies ran with (default: as `study run`)",
    )
    dashboard.add_argument("--port", type=port, default=8080, help="1..65535 (default: 8080)")

    sub.add_parser("presets", help="list the presets")

    bench = sub.add_parser(
        "bench",
        help="measure time to accuracy, routine speed, orchestration overhead, the main job's time, "
        "memory and trials per hour (bench/README.md)",
    )
    bench.add_argument(
        "--size",
        default="default",
        choices=("tiny", "default"),
        help="tiny (a few minutes, smallest trials) or default (about 20 minutes on 2 idle cores, "
        "longer when the cores are shared)",
    )
    bench.add_argument(
        "--main-job",
        action="store_true",
        help="also run the main job for real and time it (default: extrapolated)",
    )
    bench.add_argument("--json", metavar="FILE", help="also write the measurements as JSON to FILE")
    bench.add_argument(
        "--data-root",
        default="",
        help="directory of on-disk datasets, for the trials-per-hour estimates",
    )
    bench.add_argument(
        "--only",
        default="",
        metavar="SECTIONS",
        help="comma-separated sections to run, of races, match, routine, main-job, memory, "
        "capacity, gpu (capacity needs main-job); default: all",
    )
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
    "dashboard": "study.optuna_store:dashboard_command",
    "presets": "study.commands:presets_command",
    "trend": "study.analysis_commands:trend_command",
    "replay": "study.analysis_commands:replay_command",
    "power": "study.analysis_commands:power_command",
    "bench": "bench.run:bench_command",
}


def command(name: str) -> Callable[[argparse.Namespace], int]:
    module, _, function = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), function)


if __name__ == "__main__":
    raise SystemExit(main())
