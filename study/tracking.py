"""MLflow recording: one experiment per study, a parent run, one nested run per trial.

Workers log their own trial's params and per-epoch metrics (study.trial_run); the driver sets
each trial's final status (``finish_run``).

Experiments carry MLflow 3's experiment kind (``custom_model_development``), so the UI opens them
on the training runs table rather than the GenAI overview. Every run carries the user, the source
command and the git commit of this code (``source_tags``); trial runs are named after what they
train (``trial_run_name``) and record their dataset as an MLflow input with a digest.

Retries: only a locked sqlite file is retried here (another process held the write lock longer
than sqlite's busy timeout). An HTTP store is retried by MLflow's own client, set through
``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, ``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR`` and
``MLFLOW_HTTP_REQUEST_TIMEOUT``; anything else is raised at once.
"""

from __future__ import annotations

import getpass
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from study.errors import UsageError

T = TypeVar("T")
PARENT_RUN_ID = "mlflow.parentRunId"
# after sqlite's own 20 s busy timeout: about half a minute more
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)
# sqlite's words for a held write lock
TRANSIENT = ("database is locked", "database table is locked")
EXPERIMENT_KIND = "mlflow.experimentKind"  # MLflow 3: which home page the UI opens an experiment on
TRAINING_KIND = "custom_model_development"  # the training runs table (not the GenAI overview)
NOTE = "mlflow.note.content"  # the description shown on a run's or experiment's page


def normalize_tracking_uri(uri: str) -> str:
    """Make a relative sqlite or file URI absolute, so Ray workers in other directories agree; a
    one-line UsageError for an empty one (it would name the working directory as a file store)."""
    if not uri.strip():
        raise UsageError(
            "--tracking-uri is empty: give sqlite:///PATH, file:///PATH, http(s)://HOST:PORT or a "
            "database URI such as postgresql://USER:PASSWORD@HOST:5432/DB"
        )
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri[len("sqlite:///") :]).resolve())
    if "://" not in uri:
        return Path(uri).resolve().as_uri()
    return uri


def check_tracking_uri(uri: str) -> None:
    """Fail with one line before anything is written when the store cannot be reached."""
    if uri.startswith("sqlite:///"):
        parent = Path(uri[len("sqlite:///") :]).parent
        if not parent.is_dir():
            raise UsageError(f"--tracking-uri {uri}: directory {parent} does not exist")
        return
    if uri.startswith("file://"):
        path = Path(uri[len("file://") :])
        if not path.parent.is_dir():
            raise UsageError(f"--tracking-uri {uri}: directory {path.parent} does not exist")
        # MLflow 3 keeps file stores in maintenance mode behind this switch; the user asked for one.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        return
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as reply:
                if reply.status != 200:
                    raise OSError(f"HTTP {reply.status}")
        except (OSError, urllib.error.URLError) as exc:
            raise UsageError(f"--tracking-uri {uri}: no MLflow server answers ({exc})") from None
        return
    from study.cluster import DATABASE_SCHEMES, check_database_uri

    # postgresql://, postgresql+psycopg2://, ...
    if uri.split(":", 1)[0].split("+", 1)[0] in DATABASE_SCHEMES:
        check_database_uri(uri)
        return
    raise UsageError(
        f"--tracking-uri {uri}: unsupported scheme; use sqlite:///PATH, file:///PATH, http(s)://HOST:PORT "
        f"or a database such as postgresql://USER:PASSWORD@HOST:5432/DB"
    )


def check_store(uri: str, experiment: str) -> None:
    """Beyond ``check_tracking_uri``: a sqlite file that exists must be an MLflow store, its directory
    writable, and the study's experiment must not be deleted (MLflow would refuse to recreate it, and
    runs logged into it stay hidden). Read-only: a dry run creates nothing."""
    if uri.startswith("sqlite:///"):
        path = Path(uri[len("sqlite:///") :])
        if not os.access(path.parent, os.W_OK):
            raise UsageError(f"--tracking-uri {uri}: directory {path.parent} is not writable")
        if not path.exists():
            return
        deleted = _sqlite_deleted_experiment(uri, path, experiment)
    elif uri.startswith(("http://", "https://")):
        found = client(uri).get_experiment_by_name(experiment)
        deleted = (
            found.experiment_id
            if found is not None and found.lifecycle_stage == "deleted"
            else None
        )
    else:
        return
    if deleted is not None:
        raise UsageError(
            f"--tracking-uri {uri}: MLflow experiment {experiment!r} (id {deleted}) is deleted; restore it "
            f"with `mlflow experiments restore --experiment-id {deleted}` or pick another --name"
        )


def _sqlite_deleted_experiment(uri: str, path: Path, experiment: str) -> str | None:
    import sqlite3

    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if not tables:
                return None  # an empty file: MLflow creates its tables there
            if "experiments" not in tables:
                raise UsageError(
                    f"--tracking-uri {uri}: {path} is a sqlite database but not an MLflow store"
                )
            row = db.execute(
                "SELECT experiment_id FROM experiments WHERE name = ? AND lifecycle_stage = 'deleted'",
                (experiment,),
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise UsageError(
            f"--tracking-uri {uri}: {path} is not an MLflow sqlite store ({exc})"
        ) from None
    return None if row is None else str(row[0])


def transient(exc: BaseException) -> bool:
    """A locked sqlite file, however MLflow wrapped it (MlflowException around SQLAlchemy's
    OperationalError around sqlite3's); every other error is permanent here."""
    seen: BaseException | None = exc
    for _ in range(8):  # the exception and its causes
        if seen is None:
            return False
        if any(words in str(seen).lower() for words in TRANSIENT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry(call: Callable[[], T]) -> T:
    """Run a tracking call, retrying it only while the sqlite store is locked (see the module doc)."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            return call()
        except Exception as exc:
            if delay is None or not transient(exc):
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


def source_tags(argv: list[str] | None = None) -> dict[str, str]:
    """User, source command and git commit of this code, in the tags MLflow's UI shows
    (computed once on the driver: Ray workers run from another script and directory)."""
    from mlflow.utils import mlflow_tags as t
    from mlflow.utils.git_utils import get_git_branch, get_git_commit, get_git_repo_url

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        user = os.environ.get("USER", "unknown")
    command = " ".join(["study", *(sys.argv[1:] if argv is None else argv)])
    tags = {t.MLFLOW_USER: user, t.MLFLOW_SOURCE_NAME: command[:500], t.MLFLOW_SOURCE_TYPE: "LOCAL"}
    here = str(Path(__file__).resolve().parent)
    for key, value in (
        (t.MLFLOW_GIT_COMMIT, get_git_commit(here)),
        (t.MLFLOW_GIT_BRANCH, get_git_branch(here)),
        (t.MLFLOW_GIT_REPO_URL, get_git_repo_url(here)),
    ):
        if value:
            tags[key] = value
    if t.MLFLOW_GIT_COMMIT in tags:
        try:
            import git

            tags[t.MLFLOW_GIT_DIRTY] = str(
                git.Repo(here, search_parent_directories=True).is_dirty()
            ).lower()
        except Exception:  # noqa: BLE001 - gitpython missing or the repository unreadable: no dirty flag
            pass
    return tags


def trial_run_name(flat: dict[str, Any]) -> str:
    """What a trial trains, as its run's name: ``C=20 normface s=12.4 m=0.35 seed=1``."""
    from trainables.losses.registry import scaled_losses

    parts = []
    if "data.num_classes" in flat:
        parts.append(f"C={int(flat['data.num_classes']) or 'all'}")
    loss = str(flat.get("loss.output", ""))
    terms = sorted(
        k.split(".")[2]
        for k, v in flat.items()
        if k.startswith("loss.terms.") and k.endswith(".weight") and _number(v)
    )
    parts.append("+".join([loss, *terms]) if loss else "+".join(terms))
    if loss in scaled_losses() and "scale.start" in flat:
        schedule, start, end = (
            flat.get("scale.schedule", "constant"),
            flat["scale.start"],
            flat.get("scale.end"),
        )
        parts.append(
            f"s={_short(start)}"
            if schedule == "constant" or end is None
            else f"s={_short(start)}->{_short(end)} {schedule}"
        )
    parts += [
        f"m={_short(v)}" for k, v in sorted(flat.items()) if k.startswith("loss.params.margin")
    ]
    parts += [
        f"{k[len('search.') :]}={v}" for k, v in sorted(flat.items()) if k.startswith("search.")
    ]
    if "train.seed" in flat:
        parts.append(f"seed={flat['train.seed']}")
    return " ".join(p for p in parts if p)[:250] or "trial"


def _number(value: Any) -> bool:
    try:
        return float(value) != 0.0
    except (TypeError, ValueError):
        return False


def _short(value: Any) -> str:
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return str(value)


def client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def store_lock(uri: str):
    """A lock beside a sqlite store: creating and migrating its tables is not safe from two
    processes at once (two studies started together on a new store)."""
    from contextlib import nullcontext

    from filelock import FileLock

    if not uri.startswith("sqlite:///"):
        return nullcontext()
    return FileLock(uri[len("sqlite:///") :] + ".lock", timeout=600)


def experiment_id_for(uri: str, name: str) -> str:
    """Get or create the study's experiment; sqlite stores keep artifacts beside the database."""
    with store_lock(uri):
        return _experiment_id_for(uri, name)


def _experiment_id_for(uri: str, name: str) -> str:
    c = client(uri)
    found = retry(lambda: c.get_experiment_by_name(name))
    if found is not None:
        # a store from before: open it on the runs too
        if found.tags.get(EXPERIMENT_KIND) != TRAINING_KIND:
            retry(lambda: c.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND, TRAINING_KIND))
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///"):
        location = (Path(uri[len("sqlite:///") :]).parent / "mlartifacts" / name).as_uri()
    return retry(
        lambda: c.create_experiment(
            name, artifact_location=location, tags={EXPERIMENT_KIND: TRAINING_KIND}
        )
    )


def find_parent_run(uri: str, experiment_id: str, study: str) -> str | None:
    """The study's parent run, when a resumed study already has one."""
    c = client(uri)
    runs = retry(
        lambda: c.search_runs(
            [experiment_id],
            filter_string=f"tags.role = 'study' and tags.study = '{study}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    )
    return runs[0].info.run_id if runs else None


def retire_orphans(uri: str, experiment_id: str, parent_run_id: str) -> int:
    """After a resumed study ends, trial runs still RUNNING belong to trials that a killed driver
    started but never saved in its state; Ray Tune ran them again as new trials. Mark them
    abandoned and soft-delete them (``mlflow runs restore --run-id ID`` brings one back), so each trial
    appears once."""
    c = client(uri)
    runs = retry(
        lambda: c.search_runs(
            [experiment_id],
            filter_string=f"tags.`{PARENT_RUN_ID}` = '{parent_run_id}' and attributes.status = 'RUNNING'",
        )
    )
    for run in runs:
        retry(lambda: c.set_tag(run.info.run_id, "trial_status", "abandoned"))
        retry(lambda: c.set_terminated(run.info.run_id, status="KILLED"))
        retry(lambda: c.delete_run(run.info.run_id))
    return len(runs)


def finish_run(uri: str, run_id: str, status: str, **tags: str) -> None:
    """Driver side: the final status of a trial (FINISHED or FAILED) and its outcome tags."""
    c = client(uri)
    for key, value in tags.items():
        retry(lambda: c.set_tag(run_id, key, value))
    retry(lambda: c.set_terminated(run_id, status=status))
