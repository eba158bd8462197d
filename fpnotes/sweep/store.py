"""The sweep's on-disk store: one JSON file per finished run, named by its configuration's key.

Files are written atomically (temporary file, fsync, rename) and read back only when their
record is the run their name promises.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from .config import _canonical, config_key

__all__ = ["load_results", "StoreWarning"]


class StoreWarning(UserWarning):
    """A file in a sweep store does not hold the run its name promises (it is ignored)."""


def _write_atomic(directory, name, record):
    """Write JSON to ``directory/name`` atomically: temp file, fsync, os.replace."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, sort_keys=True, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _read(path):
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not (isinstance(record, dict) and {"key", "config", "result"} <= set(record)):
        return None
    return record


def _verified(path, record, key=None, config=None):
    """The record if it is the run its file name (and the caller's key/config) promise.

    A record copied or renamed under another key would otherwise be returned as
    that configuration's result: its key must equal the file name and the hash of
    its own configuration (and, when given, the configuration asked for).
    """
    try:
        own_key = config_key(record["config"])
    except (TypeError, ValueError):
        own_key = None
    name = Path(path).stem
    problems = []
    if record.get("key") != name:
        problems.append(f"its key {record.get('key')!r} is not its file name")
    if own_key != record.get("key"):
        problems.append("its configuration does not hash to its key")
    if key is not None and (name != key or (own_key == key and
                                            _canonical(record["config"]) != config)):
        problems.append("it is not the configuration asked for")
    if problems:
        warnings.warn(f"ignoring store file {str(path)!r}: {'; '.join(problems)} (a copied or "
                      "edited record); its run counts as missing", StoreWarning, stacklevel=3)
        return None
    return record


def load_results(store):
    """Read every finished run in a store.

    Parameters
    ----------
    store : str or path-like
        A directory written by :func:`sweep`.

    Returns
    -------
    list of dict
        One record ``{"key", "config", "result"}`` per finished run, sorted by
        key. Temporary files of interrupted writes and unreadable files are
        ignored; so is (with a :class:`StoreWarning`) a record whose key is not
        its file name or the hash of its configuration.
    """
    path = Path(store)
    if not path.is_dir():
        raise ValueError(f"store {str(path)!r} is not a directory")
    records = []
    for file in sorted(path.glob("*.json")):
        if file.name.startswith("."):
            continue
        record = _read(file)
        if record is not None and _verified(file, record) is not None:
            records.append(record)
    return records
