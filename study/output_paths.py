"""Where a command will write, checked before it starts: one line naming the flag and the path
instead of an error after the work is done. Read-only: a probe directory is made and removed at
once (file permissions alone do not tell root, or a read-only mount, what it may write)."""

from __future__ import annotations

import os
import tempfile

from study.errors import UsageError


def check_out_dir(flag: str, path: str) -> None:
    """``path`` is a directory, or can be made one: its nearest existing part is a writable
    directory."""
    existing = nearest_existing(path)
    if not os.path.isdir(existing):
        raise UsageError(f"{flag} {path}: {existing} is a file; expected a directory")
    _check_writable(flag, path, existing)


def check_out_file(flag: str, path: str) -> None:
    """``path`` can be written as a file: its directory exists and is writable, and it is not a
    directory itself."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {path}: directory {folder} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory; expected a file name")
    _check_writable(flag, path, folder)


def nearest_existing(path: str) -> str:
    """``path`` made absolute, or its nearest ancestor that exists."""
    found = os.path.abspath(path)
    while not os.path.exists(found):
        found = os.path.dirname(found)
    return found


def _check_writable(flag: str, path: str, folder: str) -> None:
    try:
        tempfile.TemporaryDirectory(dir=folder, prefix=".study-probe-").cleanup()
    except OSError as exc:
        raise UsageError(
            f"{flag} {path}: cannot write in {folder} ({exc.strerror or exc})"
        ) from None


__all__ = ["check_out_dir", "check_out_file", "nearest_existing"]
