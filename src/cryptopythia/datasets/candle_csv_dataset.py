"""A pandas CSV dataset for candle tables: UTC timestamps, atomic saves, optional file."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.pandas import CSVDataset

logger = logging.getLogger(__name__)

_ELSEWHERE = "or point globals.data_root (conf/<env>/globals.yml) at a writable folder"
# Why a write failed and what to do, by errno; {folder} is the file's folder.
_WRITE_FIXES = {
    errno.EROFS: f"its file system is mounted read-only: remount it read-write, {_ELSEWHERE}",
    errno.ENOSPC: "the disk is full: free space on it (see df -h {folder}) and run again",
    errno.EDQUOT: "this user's disk quota is used up: free space in it and run again",
    errno.EACCES: "this user has no permission to write in {folder}: give it write "
    f"permission (chmod/chown), {_ELSEWHERE}",
    errno.EPERM: "the operation is not permitted in {folder} (an immutable folder? see "
    f"lsattr): make it writable, {_ELSEWHERE}",
}


def describe_write_error(path: str, error: OSError) -> str:
    """Which file could not be written, why (the OS's reason and errno) and how to fix it."""
    code = errno.errorcode.get(error.errno or 0)
    fix = _WRITE_FIXES.get(
        error.errno or 0, f"check that {{folder}} exists and is writable, {_ELSEWHERE}"
    ).format(folder=Path(path).parent)
    reason = f"{error.strerror} ({code})" if error.strerror and code else str(error)
    return f"Could not write {path}: {reason}; {fix}"


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


class CandleCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` for the bronze/silver/gold layers.

    - ``datetime_columns`` are parsed back to tz-aware UTC timestamps on load.
    - ``save`` writes a temporary file beside the target and renames it over the
      target, so a failed or interrupted write never leaves a half-written table.
    - ``allow_missing: true`` loads an absent file as an empty table (the first run
      of an incremental fetch).
    - ``sidecar: true`` keeps the table's ``DataFrame.attrs`` (e.g. bronze's symbol and
      interval) in ``<filepath>.meta.json``, written (atomically) before the table and
      read back into ``attrs`` on load.

    Example catalog entry::

        silver:
          type: cryptopythia.datasets.CandleCSVDataset
          filepath: ${globals:data_root}/02_intermediate/silver.csv  # or s3://...
          datetime_columns: [open_time, close_time]
    """

    def __init__(
        self,
        *,
        filepath: str,
        datetime_columns: list[str] | None = None,
        allow_missing: bool = False,
        sidecar: bool = False,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._datetime_columns = list(datetime_columns or [])
        self._allow_missing = allow_missing
        self._sidecar = sidecar
        super().__init__(filepath=filepath, load_args=load_args, save_args=save_args, **kwargs)

    def load(self) -> pd.DataFrame:
        if self._allow_missing and not self._exists():
            return pd.DataFrame()
        data = super().load()
        for column in self._datetime_columns:
            if column in data.columns:
                data[column] = pd.to_datetime(data[column], utc=True, format="ISO8601")
        meta_path = f"{get_filepath_str(self._get_load_path(), self._protocol)}.meta.json"
        if self._sidecar and self._fs.exists(meta_path):
            with self._fs.open(meta_path, "r") as meta:
                data.attrs.update(json.load(meta))
        return data

    def save(self, data: pd.DataFrame) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        if self._sidecar:
            self._write_atomically(
                f"{save_path}.meta.json",
                lambda file: file.write(json.dumps(data.attrs)),
                "w",
                save_path,
            )
        self._write_atomically(
            save_path,
            lambda file: data.to_csv(path_or_buf=file, **self._save_args),
            None,
            save_path,
        )
        self._invalidate_cache()

    def _write_atomically(self, path: str, write: Any, mode: str | None, table: str) -> None:
        """``write(file)`` into a temp file beside ``path``, then rename it over ``path``.
        The temp file's name holds the writer's process id: a writer killed mid-save
        leaves it behind, and the next save removes it (``_remove_abandoned``). An OS error
        (a read-only or full disk, no permission) raises a DatasetError naming ``path``,
        the reason and the fix, and saying that ``table`` was left as it was."""
        temp_path = f"{path}.{os.getpid()}-{uuid.uuid4().hex}.tmp"
        open_args = {"mode": mode} if mode else self._fs_open_args_save
        try:
            self._remove_abandoned(path)
            with self._fs.open(temp_path, **open_args) as file:
                write(file)
            self._fs.mv(temp_path, path)
        except OSError as error:
            raise DatasetError(
                f"{describe_write_error(path, error)}. {table} was left as it was (this save "
                "wrote nothing of it)."
            ) from error
        finally:
            with contextlib.suppress(OSError):  # a read-only disk cannot even list it
                if self._fs.exists(temp_path):
                    self._fs.rm(temp_path)

    def _remove_abandoned(self, path: str) -> None:
        """Delete the temp files beside ``path`` whose writer process is gone (killed with
        -9 or by a full disk mid-save); a live writer's are left alone. Local files only:
        an object store has no process to ask, and writes there are whole-object puts."""
        if self._protocol != "file":
            return
        for temp in Path(path).parent.glob(f"{Path(path).name}.*-*.tmp"):
            writer = temp.name[len(Path(path).name) + 1 :].split("-", 1)[0]
            if writer.isdigit() and not _process_alive(int(writer)):
                temp.unlink(missing_ok=True)
                logger.warning("Removed %s, left by process %s that ended mid-save.", temp, writer)

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "datetime_columns": self._datetime_columns,
            "allow_missing": self._allow_missing,
            "sidecar": self._sidecar,
        }
