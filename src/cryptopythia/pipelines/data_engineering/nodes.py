"""Nodes of the data_engineering pipeline: bronze (as fetched) and silver (clean).

The work is done in ``cryptopythia.sources`` (bronze) and ``cryptopythia.candles``
(silver's rules, used here as nodes as they are).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from binance.client import Client

from ...candles import (
    INVALID_ROW_POLICIES,
    check_choice,
    check_interval,
    fill_gaps,
    type_candles,
    validate_candles,
)
from ...sources.binance import RetryPolicy
from ...sources.bronze import (
    SOURCES,
    BronzeQuery,
    add_new_candles,
    binance_bronze,
    check_symbol,
    dump_bronze,
    start_milliseconds,
    stored_bronze,
)

__all__ = ["fill_gaps", "type_candles", "update_bronze", "validate_candles"]


def update_bronze(
    bronze_previous: pd.DataFrame, binance_client: Client, params: dict[str, Any]
) -> pd.DataFrame:
    """Bronze brought up to date with new closed candles from Binance or the kline dump;
    stored + new rows must pass silver's checks first, so a bad row is never saved."""
    query = BronzeQuery(
        source=check_choice(params["source"], SOURCES, "data_engineering.source"),
        interval=check_interval(params["interval"]),
        invalid_rows=check_choice(
            params["invalid_rows"], INVALID_ROW_POLICIES, "data_engineering.invalid_rows"
        ),
        symbol=check_symbol(params["symbol"]),
        start_date=params["start_date"],
        start_ms=start_milliseconds(params["start_date"]),
    )
    previous = stored_bronze(bronze_previous, query.symbol, query.interval)
    if query.source == "dump":
        new = dump_bronze(
            params["dump_path"], query, params["dump_names_symbol"], params["dump_max_bytes"]
        )
    else:
        fetch = params["fetch"]
        policy = RetryPolicy.from_params(fetch)
        new = binance_bronze(previous, binance_client, query, policy, int(fetch["page_limit"]))
    return add_new_candles(previous, new, query)
