"""A pandas CSV dataset for candle tables: UTC timestamps, atomic saves, optional file."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from kedro.io.core import get_filepath_str
from kedro_datasets.pandas import CSVDataset


class CandleCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` for the bronze/silver/gold layers.

    - ``datetime_columns`` are parsed back to tz-aware UTC timestamps on load.
    - ``save`` writes a temporary file beside the target and renames it over the
      target, so a failed or interrupted write never leaves a half-written table.
    - ``allow_missing: true`` loads an absent file as an empty table (the first run
      of an incremental fetch).

    Example catalog entry::

        silver:
          type: cryptopythia.datasets.CandleCSVDataset
          filepath: data/02_intermediate/silver.csv
          datetime_columns: [open_time, close_time]
    """

    def __init__(
        self,
        *,
        filepath: str,
        datetime_columns: list[str] | None = None,
        allow_missing: bool = False,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._datetime_columns = list(datetime_columns or [])
        self._allow_missing = allow_missing
        super().__init__(filepath=filepath, load_args=load_args, save_args=save_args, **kwargs)

    def load(self) -> pd.DataFrame:
        if self._allow_missing and not self._exists():
            return pd.DataFrame()
        data = super().load()
        for column in self._datetime_columns:
            if column in data.columns:
                data[column] = pd.to_datetime(data[column], utc=True, format="ISO8601")
        return data

    def save(self, data: pd.DataFrame) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        temp_path = f"{save_path}.{uuid.uuid4().hex}.tmp"
        try:
            with self._fs.open(temp_path, **self._fs_open_args_save) as fs_file:
                data.to_csv(path_or_buf=fs_file, **self._save_args)
            self._fs.mv(temp_path, save_path)
        finally:
            if self._fs.exists(temp_path):
                self._fs.rm(temp_path)
        self._invalidate_cache()

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "datetime_columns": self._datetime_columns,
            "allow_missing": self._allow_missing,
        }
