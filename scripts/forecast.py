"""Ask the served model (`make serve`) for a forecast from the latest candles and print it.

    .venv/bin/python scripts/forecast.py [--url http://127.0.0.1:5001] [--steps 7]

The candles are the latest ``--candles`` of data/02_intermediate/silver.csv when a run
made it, else of the shipped daily snapshot.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SILVER = ROOT / "data" / "02_intermediate" / "silver.csv"
SNAPSHOT = ROOT / "data" / "01_raw" / "snapshot" / "btcusdt_1d.csv.gz"
COLUMNS = ["open_time", "open", "high", "low", "close", "volume"]


def latest_candles(count: int) -> pd.DataFrame:
    """The latest candles as a client sends them: Binance columns, open_time in ms."""
    if SILVER.exists():
        candles = pd.read_csv(SILVER).tail(count)
        times = pd.to_datetime(candles["open_time"], utc=True)
        candles["open_time"] = (times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
        return candles[COLUMNS]
    return pd.read_csv(SNAPSHOT).tail(count)[COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5001")
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--candles", type=int, default=600)
    args = parser.parse_args()
    body = {
        "dataframe_split": latest_candles(args.candles).to_dict(orient="split", index=False),
        "params": {"steps": args.steps},
    }
    request = urllib.request.Request(
        f"{args.url}/invocations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        sys.exit(f"The served model refused the request ({error.code}): {error.read().decode()}")
    except urllib.error.URLError as error:
        sys.exit(f"No served model at {args.url} ({error.reason}): start it with `make serve`.")
    print(pd.DataFrame(answer["predictions"]).to_string(index=False))


if __name__ == "__main__":
    main()
