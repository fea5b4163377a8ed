"""Ingestion benchmark: requests per 10,000 candles, a no-news refresh, silver from the 4h dump.

Runs the real python-binance client against the local fake Binance server
(tests/support/fake_binance.py). Usage:

    .venv/bin/python benchmarks/ingest.py [--repeats 7]

Writes benchmarks/results/ingest.json and prints a markdown table (medians).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from cryptopythia.candles import fill_gaps, type_candles, validate_candles
from cryptopythia.datasets import BinanceClientDataset, CandleCSVDataset
from cryptopythia.pipelines.data_engineering.nodes import update_bronze
from cryptopythia.sources.bronze import klines_to_bronze
from cryptopythia.sources.dump import read_kline_dump

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

FOUR_HOUR_DUMP = ROOT / "data" / "01_raw" / "snapshot" / "btcusdt_4h.csv.gz"  # the shipped snapshot
# The project's data_engineering parameters (conf/base), with the benchmark's own on top.
CONF_PARAMS = yaml.safe_load(
    (ROOT / "conf" / "base" / "parameters_data_engineering.yml").read_text()
)["data_engineering"]
PARAMS = {
    **CONF_PARAMS,
    "source": "binance",
    "symbol": "BTCUSDT",
    "interval": "1h",
    "start_date": "2010-01-01",
    "fetch": {**CONF_PARAMS["fetch"], "page_limit": 1000, "max_tries": 3, "backoff_seconds": 0.01},
}


def timed(function, repeats: int) -> tuple[float, object]:
    """Median wall seconds of ``function()`` over ``repeats`` runs, and its last result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    # tests/support/fake_binance.py: tests/ was put on sys.path above.
    from support.fake_binance import FakeBinance, make_klines

    server = FakeBinance().start()
    server.klines["1h"] = make_klines(10_000, "1h")
    client = BinanceClientDataset(api_url=server.api_url).load()
    results: dict[str, object] = {"repeats": args.repeats}
    try:
        from tqdm import tqdm  # noqa: F401  (progress bars go to stderr)

        def full_fetch():
            server.requests.clear()
            return update_bronze(__import__("pandas").DataFrame(), client, PARAMS)

        seconds, bronze = timed(full_fetch, args.repeats)
        results["full_fetch_candles"] = len(bronze)
        results["full_fetch_requests"] = len(server.kline_requests)  # kline pages
        results["full_fetch_time_requests"] = len(server.time_requests)
        results["full_fetch_seconds"] = seconds

        with tempfile.TemporaryDirectory() as folder:
            dataset = CandleCSVDataset(filepath=f"{folder}/bronze.csv", allow_missing=True)
            dataset.save(bronze)

            def refresh():
                server.requests.clear()
                dataset.save(update_bronze(dataset.load(), client, PARAMS))
                return len(server.kline_requests), len(server.time_requests)

            seconds, (kline_requests, time_requests) = timed(refresh, args.repeats)
            results["refresh_nothing_new_seconds"] = seconds
            results["refresh_nothing_new_requests"] = kline_requests  # kline pages
            results["refresh_nothing_new_time_requests"] = time_requests
    finally:
        server.stop()

    if FOUR_HOUR_DUMP.exists():

        def silver_from_dump():
            dump = read_kline_dump(FOUR_HOUR_DUMP, max_bytes=CONF_PARAMS["dump_max_bytes"])
            bronze = klines_to_bronze(dump)
            return fill_gaps(validate_candles(type_candles(bronze), "raise"), "4h", "ffill")

        seconds, silver = timed(silver_from_dump, args.repeats)
        results["silver_4h_rows"] = len(silver)
        results["silver_4h_seconds"] = seconds
    else:
        print(f"skipped silver: {FOUR_HOUR_DUMP} not found", file=sys.stderr)

    out = ROOT / "benchmarks" / "results" / "ingest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    per_10k = results["full_fetch_requests"] * 10_000 / results["full_fetch_candles"]
    print("| measure | median |")
    print("|---|---|")
    print(
        f"| full fetch, {results['full_fetch_candles']:,} candles | "
        f"{results['full_fetch_requests']} kline requests ({per_10k:.1f} per 10,000; floor 10) "
        f"+ {results['full_fetch_time_requests']} server time, "
        f"{results['full_fetch_seconds']:.2f} s |"
    )
    print(
        f"| refresh bronze, nothing new (load + update + atomic save) | "
        f"{results['refresh_nothing_new_time_requests']} request (server time), "
        f"{results['refresh_nothing_new_requests']} kline requests, "
        f"{results['refresh_nothing_new_seconds'] * 1000:.0f} ms |"
    )
    if "silver_4h_seconds" in results:
        print(
            f"| silver from the 4h dump ({results['silver_4h_rows']:,} rows, read + clean + "
            f"validate + fill) | {results['silver_4h_seconds'] * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
