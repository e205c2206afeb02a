"""Where the sampler's Optuna studies live, so ``optuna.load_study`` and optuna-dashboard open them.

Ray Tune's ``OptunaSearch`` is given a storage-backed study instead of an in-memory one: by
default a journal file, ``optuna.journal``, beside the MLflow sqlite store (beside ``--storage``
when the MLflow store is a server; in the working directory when that too is remote); or
whatever ``--optuna-storage`` names: an RDB URL (``postgresql://...``, ``mysql+pymysql://...``,
``sqlite:///optuna.db``) or a journal file path. One Optuna study per group of the study:
``NAME`` when the study has one group, ``NAME/group<i>`` when it has several (one per class count);
a study run in stages (``study.stages``) prefixes the stage: ``NAME.screen/group0``.
The searcher's pickled state keeps the storage object, so ``study resume`` continues the same
Optuna study.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from study.errors import UsageError

JOURNAL_FILE = "optuna.journal"
# SQLAlchemy dialects Optuna's RDBStorage takes
RDB_SCHEMES = ("sqlite", "postgresql", "mysql", "oracle", "mssql")


def default_location(tracking_uri: str, storage: str) -> str:
    """The journal file beside the MLflow sqlite file, else beside a local --storage, else here."""
    if tracking_uri.startswith("sqlite:///"):
        return str(Path(tracking_uri[len("sqlite:///") :]).parent / JOURNAL_FILE)
    if tracking_uri.startswith("file://"):
        return str(Path(tracking_uri[len("file://") :]).parent / JOURNAL_FILE)
    if "://" not in storage:
        return str(Path(storage).resolve() / JOURNAL_FILE)
    return str(Path(JOURNAL_FILE).resolve())


def location(optuna_storage: str, tracking_uri: str, storage: str) -> str:
    """The Optuna storage of a study: ``--optuna-storage`` as given (a relative journal path made
    absolute), or ``default_location``."""
    if not optuna_storage:
        return default_location(tracking_uri, storage)
    if is_rdb(optuna_storage):
        if optuna_storage.startswith("sqlite:///") and not optuna_storage.startswith("sqlite:////"):
            return "sqlite:///" + str(Path(optuna_storage[len("sqlite:///") :]).resolve())
        return optuna_storage
    if "://" in optuna_storage:
        raise UsageError(
            f"--optuna-storage {optuna_storage}: unsupported scheme; use an RDB URL "
            f"({', '.join(s + '://' for s in RDB_SCHEMES)}...) or a journal file path"
        )
    return str(Path(optuna_storage).expanduser().resolve())


def is_rdb(url: str) -> bool:
    return url.split("://", 1)[0].split("+", 1)[0] in RDB_SCHEMES and "://" in url


def study_names(name: str, groups: int) -> list[str]:
    """The Optuna study of each group."""
    return [name] if groups == 1 else [f"{name}/group{i}" for i in range(groups)]


def open_storage(url: str) -> Any:
    """An Optuna storage object for ``url`` (created when missing)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    if is_rdb(url):
        return optuna.storages.RDBStorage(url)
    Path(url).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(url))


def describe(storage: Any, study_name: str, spec: Any, group: dict[str, Any]) -> None:
    """User attributes that tie an Optuna study to its MLflow experiment (shown by optuna-dashboard)."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage)
    for key, value in {
        "mlflow_experiment": spec.name,
        "tracking_uri": spec.tracking_uri,
        "group": dict(group),
        "metric": spec.metric,
        "mode": spec.mode,
        "sampler": spec.sampler,
    }.items():
        study.set_user_attr(key, value)


def existing_studies(url: str) -> list[str]:
    """Study names already in ``url``, without creating anything: a missing journal file or an
    RDB without Optuna's tables holds none. A UsageError when the storage cannot be read."""
    if not is_rdb(url):
        if Path(url).is_dir():
            raise UsageError(
                f"--optuna-storage {url}: is a directory; expected a journal file path or an RDB URL"
            )
        return _names(url) if Path(url).exists() else []
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            if "studies" not in sqlalchemy.inspect(connection).get_table_names():
                return []
    except (ImportError, sqlalchemy.exc.SQLAlchemyError) as exc:
        raise UsageError(
            f"--optuna-storage {url}: cannot open it ({str(exc).splitlines()[0]})"
        ) from None
    return _names(url)


def _names(url: str) -> list[str]:
    import optuna

    try:
        return [
            s.study_name
            for s in optuna.get_all_study_summaries(
                storage=open_storage(url), include_best_trial=False
            )
        ]
    except Exception as exc:  # noqa: BLE001 - a corrupt journal or a foreign database: one line, not a traceback
        raise UsageError(
            f"--optuna-storage {url}: not an Optuna storage ({type(exc).__name__}: {exc})"
        ) from None


def belongs(optuna_name: str, name: str) -> bool:
    """Whether an Optuna study is one of study ``name``'s: ``NAME``, ``NAME/group<i>`` or a stage's
    ``NAME.<stage>[/group<i>]``."""
    return optuna_name == name or optuna_name.startswith((f"{name}/", f"{name}."))


def check_new(url: str, name: str) -> None:
    """A new study must not continue an old Optuna study of the same name (its history would mix in)."""
    taken = sorted(s for s in existing_studies(url) if belongs(s, name))
    if taken:
        raise UsageError(
            f"Optuna study {taken[0]!r} already exists in {url}: continue it with `study resume {name}`, "
            f"pick another --name, or delete it with `optuna delete-study --study-name '{taken[0]}' --storage {url}`"
        )


def dashboard_command(args: argparse.Namespace) -> int:
    """optuna-dashboard on 127.0.0.1 for the study storage."""
    from study.tracking import normalize_tracking_uri

    url = location(
        args.optuna_storage or "", normalize_tracking_uri(args.tracking_uri), args.storage
    )
    found = existing_studies(url)
    if not found:
        raise UsageError(
            f"no Optuna studies in {url} yet (`study run` writes them there; --optuna-storage names another)"
        )
    program = shutil.which("optuna-dashboard") or str(
        Path(sys.executable).with_name("optuna-dashboard")
    )
    if not os.path.exists(program):
        raise UsageError("optuna-dashboard is not installed: pip install optuna-dashboard")
    command = [program, url, "--host", "127.0.0.1", "--port", str(args.port)]
    if not is_rdb(url):
        command[2:2] = ["--storage-class", "JournalFileStorage"]
    print(
        f"optuna-dashboard for {url} ({len(found)} studies) at http://127.0.0.1:{args.port} (Ctrl-C stops it)",
        flush=True,
    )
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return 0


__all__ = [
    "JOURNAL_FILE",
    "belongs",
    "check_new",
    "dashboard_command",
    "default_location",
    "describe",
    "existing_studies",
    "is_rdb",
    "location",
    "open_storage",
    "study_names",
]
