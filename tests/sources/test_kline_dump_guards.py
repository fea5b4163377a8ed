"""The kline dump reader's guards: dump_max_bytes while unpacking, a gzip bomb, long dumps
read in chunks, and paths that are no kline file (symlink loops, folders, named pipes, devices)."""

from __future__ import annotations

import gzip
import os
import re
import threading
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from test_kline_dump import dump_text, read_kline_dump

from cryptopythia.sources import dump_csv
from cryptopythia.sources.bronze import klines_to_bronze


def _packed(path: Path, text: str) -> Path:
    """``text`` written as ``path`` (.csv, .csv.gz or .zip holding one CSV)."""
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as packed:
            packed.write(text)
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(path.name.replace(".zip", ".csv"), text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["btcusdt_1d.csv", "btcusdt_1d.csv.gz", "BTCUSDT-1d-2024-01.zip"])
def test_a_dump_unpacking_past_dump_max_bytes_stops_early_naming_file_size_and_parameter(
    tmp_path, klines, name
):
    text = dump_text(klines) * 200  # ~1.7 MB unpacked (exact repeats)
    path = _packed(tmp_path / name, text)
    with pytest.raises(ValueError) as error:
        read_kline_dump(path, max_bytes=100_000)
    message = str(error.value)
    assert name in message
    assert "data_engineering.dump_max_bytes=100000" in message
    assert "--params data_engineering.dump_max_bytes=" in message  # how to raise it
    so_far = int(re.search(r"after ([\d,]+) bytes", message)[1].replace(",", ""))
    assert 100_000 < so_far < len(text) // 2  # checked while unpacking, not after


def test_a_gzip_bomb_without_line_ends_is_refused_at_once(tmp_path):
    bomb = tmp_path / "btcusdt_1d.csv.gz"
    with gzip.open(bomb, "wb") as packed:
        for _ in range(64):
            packed.write(b"\0" * 1_048_576)  # 64 MB of zero bytes, ~64 KB packed
    with pytest.raises(ValueError, match=r"btcusdt_1d.csv.gz: no line end in its first"):
        read_kline_dump(bomb)


def test_a_dump_under_dump_max_bytes_reads_whole(tmp_path, klines):
    path = _packed(tmp_path / "btcusdt_1d.csv.gz", dump_text(klines))
    assert len(read_kline_dump(path, max_bytes=len(dump_text(klines)))) == len(klines)


def test_a_long_dump_is_read_in_chunks_with_its_rows_numbered_across_them(
    tmp_path, klines, monkeypatch
):
    monkeypatch.setattr(dump_csv, "_CHUNK_ROWS", 7)  # many chunks, a header in the first
    text = dump_text(klines, header=True).replace(str(klines[40][4]), "oops", 1)
    (tmp_path / "btcusdt_1d.csv").write_text(text)
    with pytest.raises(ValueError, match=r"1 row\(s\) .* \(first at data row 41\)"):
        read_kline_dump(tmp_path / "btcusdt_1d.csv")
    (tmp_path / "btcusdt_1d.csv").write_text(dump_text(klines, header=True))
    pd.testing.assert_frame_equal(
        read_kline_dump(tmp_path / "btcusdt_1d.csv"),
        klines_to_bronze(klines)[list(read_kline_dump(tmp_path / "btcusdt_1d.csv").columns)],
        check_dtype=False,
    )


def test_a_symlink_loop_in_the_folder_or_as_the_path_is_named(tmp_path, klines):
    (tmp_path / "BTCUSDT-1d-2024-01.csv").write_text(dump_text(klines))
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    with pytest.raises(ValueError, match=r"a.csv is a symbolic link loop.*Remove"):
        read_kline_dump(tmp_path)
    with pytest.raises(ValueError, match=r"a.csv is a symbolic link loop.*Remove"):
        read_kline_dump(tmp_path / "a.csv")


def test_a_folder_named_like_a_csv_is_named(tmp_path, klines):
    (tmp_path / "BTCUSDT-1d-2024-01.csv").write_text(dump_text(klines))
    (tmp_path / "old.csv").mkdir()
    with pytest.raises(ValueError, match=r"old.csv is a folder, not a kline file.*rename"):
        read_kline_dump(tmp_path)


def _read_within(seconds: float, path: Path) -> BaseException | None:
    """What ``read_kline_dump(path)`` raised, failing the test if it blocks."""
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            read_kline_dump(path)
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    if reader.is_alive():
        for fifo in [path, *path.glob("*")] if path.is_dir() else [path]:
            if fifo.is_fifo():  # let the blocked open return
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail(f"read_kline_dump({path}) hung on a named pipe")
    return outcome[0]


def test_a_named_pipe_in_the_folder_or_as_the_path_is_refused_without_hanging(tmp_path, klines):
    (tmp_path / "BTCUSDT-1d-2024-01.csv").write_text(dump_text(klines))
    os.mkfifo(tmp_path / "BTCUSDT-1d-2024-02.csv")
    for path in (tmp_path, tmp_path / "BTCUSDT-1d-2024-02.csv"):
        error = _read_within(10, path)
        assert isinstance(error, ValueError), error
        assert re.search(r"BTCUSDT-1d-2024-02.csv is a named pipe, not a kline file", str(error))
        assert "data_engineering.dump_path" in str(error)


def test_a_device_as_the_path_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"/dev/zero is a character device, not a kline file"):
        read_kline_dump(Path("/dev/zero"))
