"""Where a study's trials run: a new local Ray, or a running Ray cluster reached by its address.

- ``--address ""`` (or ``local``) always starts a new, private Ray, even when a ``ray start``
  cluster runs on the same machine (a plain ``ray.init()`` would join that one).
- ``--address HOST:PORT`` or ``auto`` (the cluster ``ray start`` last started on this machine,
  or ``$RAY_ADDRESS``) joins a running cluster and never starts one; ``$RAY_ADDRESS`` is the
  default of ``--address``.
- Ray >= 2.59 turns on token authentication for a ``ray start --head`` whenever a token exists
  (``$RAY_AUTH_TOKEN``, the file ``$RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``, which any
  local ``ray.init()`` writes), while a driver joining by address presents it only with
  ``RAY_AUTH_MODE=token`` set before Ray is imported; so importing ``study`` sets it whenever a
  token exists (``present_ray_token``; a cluster without authentication ignores the token).
- Every failure to connect is one line (``UsageError``), never a traceback.
- A cluster's trials run on several machines, so their MLflow store must be a server or a
  database every node reaches, not a sqlite or file store on one disk.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from study.errors import UsageError

ADDRESS_ENV = "RAY_ADDRESS"
AUTH_MODE_ENV = "RAY_AUTH_MODE"
LOCAL_ADDRESSES = ("", "local")
# Tune keeps at most this many trials waiting for resources when the user sets no
# --max-concurrent (Tune's own default for a custom searcher is 1): on an autoscaling cluster
# waiting trials are the demand that adds nodes. Running trials are bounded only by resources.
PENDING_TRIALS_ENV = "TUNE_MAX_PENDING_TRIALS_PG"
CLUSTER_PENDING_TRIALS = 8
DATABASE_SCHEMES = ("postgresql", "mysql", "mssql")  # SQLAlchemy URIs MLflow stores runs in
AUTH_HINT = (
    "the cluster requires Ray's auth token: set RAY_AUTH_TOKEN to the head's ~/.ray/auth_token "
    "(or RAY_AUTH_TOKEN_PATH to a copy of it), with RAY_AUTH_MODE=token"
)


def is_local(address: str | None) -> bool:
    return (address or "") in LOCAL_ADDRESSES


def default_address() -> str:
    """``--address`` when the flag is not given: ``$RAY_ADDRESS``, else a new local Ray."""
    return os.environ.get(ADDRESS_ENV, "")


def check_store_for_cluster(tracking_uri: str, address: str | None) -> None:
    """A sqlite or file store lives on one disk: on a cluster every node would write its own."""
    if is_local(address):
        return
    scheme = tracking_uri.split(":", 1)[0]
    if scheme in ("sqlite", "file"):
        raise UsageError(
            f"--tracking-uri {tracking_uri}: a {scheme} store is a file on one machine, so with --address {address} "
            f"each node would record into its own copy; use the cluster's MLflow server (http://HEAD_IP:5000) "
            f"or a database every node reaches (postgresql://USER:PASSWORD@HOST:5432/DB)"
        )


def check_address(address: str | None) -> None:
    """Fail in seconds, with one line, when no Ray cluster answers at ``address``."""
    if not is_local(address):
        resolve_address(address)


def check_database_uri(uri: str, timeout_s: int = 5) -> None:
    """Fail with one line when a SQLAlchemy database URI cannot be opened."""
    import sqlalchemy

    args = {"connect_timeout": timeout_s} if uri.startswith("postgresql") else {}
    try:
        engine = sqlalchemy.create_engine(uri, connect_args=args)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - drivers raise their own types (a missing one: ModuleNotFoundError)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UsageError(
            f"--tracking-uri {redact(uri)}: the database cannot be opened ({first})"
        ) from None


def redact(uri: str) -> str:
    """The URI without its password, for messages."""
    head, sep, tail = uri.partition("://")
    credentials, at, host = tail.rpartition("@")
    if not at or ":" not in credentials:
        return uri
    return f"{head}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def auth_token_available() -> bool:
    """Whether Ray would find a token here, in its own order of precedence."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    candidates = [Path(path)] if path else [Path.home() / ".ray" / "auth_token"]
    return any(p.is_file() and p.stat().st_size > 0 for p in candidates)


def present_ray_token() -> None:
    """``RAY_AUTH_MODE=token`` when it is unset and a token exists, so a driver joining a cluster
    presents the token (a cluster without authentication ignores it) and a local Ray starts with
    it, as Ray would, minus its warning. Ray reads the mode once, when it is imported, so the
    ``study`` package calls this on import, before any of its modules imports Ray."""
    if AUTH_MODE_ENV not in os.environ and auth_token_available():
        os.environ[AUTH_MODE_ENV] = "token"


def ray_temp_dir() -> Path:
    """Ray's default temp dir (``$RAY_TMPDIR``, ``$TMPDIR`` or /tmp, then ``ray``), where
    ``ray start`` records the address of the cluster it started."""
    base = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
    return Path(base) / "ray"


def resolve_address(address: str, timeout_s: float = 5.0) -> str:
    """``HOST:PORT`` of a Ray head that answers at ``address`` (``auto``: ``$RAY_ADDRESS``, else
    the cluster that ``ray start`` started last on this machine); one line when there is none."""
    given = address
    if address.startswith("ray://"):
        raise UsageError(
            f"--address {address}: Ray Client (ray://) is not supported; run the study on the cluster "
            f"(ray submit or ray job submit) with --address auto, or give the head's HOST:PORT (port 6379)"
        )
    if address == "auto":
        env = os.environ.get(ADDRESS_ENV, "")
        if env and env != "auto":
            address = env
        else:
            recorded = ray_temp_dir() / "ray_current_cluster"
            address = recorded.read_text().strip() if recorded.is_file() else ""
            if not address:
                raise UsageError(
                    "--address auto: no running Ray cluster found on this machine; start one with "
                    "`ray start --head` or give its HOST:PORT"
                )
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"--address {given}: {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379) or auto"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise UsageError(
            f"--address {given}: no Ray cluster answers at {address} ({exc})"
        ) from None
    return address


@contextmanager
def stderr_to(path: str) -> Iterator[None]:
    """Send file descriptor 2 (Python's and Ray's C++ logging alike) to ``path`` for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as sink:
        os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def connect(address: str) -> None:
    """Join the cluster at ``address``, or start a new local Ray for an empty one (quietly)."""
    import ray

    if ray.is_initialized():
        return
    kwargs = dict(logging_level=logging.WARNING, log_to_driver=False)
    if is_local(address):
        # RAY_AUTH_MODE is not set here: Ray reads it when it is imported, so setting it now would
        # reach only the GCS it starts (which then demands a token this driver never sends);
        # present_ray_token set it on import when a token exists.
        ray.init(address="local", include_dashboard=False, **kwargs)
        return
    resolved = resolve_address(address)
    os.environ.setdefault(PENDING_TRIALS_ENV, str(CLUSTER_PENDING_TRIALS))
    with tempfile.NamedTemporaryFile(prefix="ray-connect-", suffix=".log") as log:
        try:
            with stderr_to(log.name):  # Ray retries noisily for ~20 s before it gives up
                ray.init(address=resolved, **kwargs)
        except Exception as exc:  # noqa: BLE001 - ConnectionError, AuthenticationError, RuntimeError (versions)
            said = Path(log.name).read_text(errors="replace")
            raise UsageError(connection_failure(address, resolved, exc, said)) from None
        sys.stderr.write(Path(log.name).read_text(errors="replace"))


def connection_failure(address: str, resolved: str, exc: BaseException, said: str) -> str:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = f"{type(exc).__name__} {exc} {said}"
    if any(
        mark in text
        for mark in (
            "InvalidAuthToken",
            "Unauthenticated",
            "AuthenticationError",
            "authentication token",
        )
    ):
        return f"--address {address}: cannot join the Ray cluster at {resolved}: {AUTH_HINT}"
    return f"--address {address}: cannot join the Ray cluster at {resolved} ({first})"
