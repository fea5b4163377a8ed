"""Binance candles: the kline column layout and interval arithmetic (layout), and
silver's rules for candle tables (checks), shared by the fetcher, the dump reader, the
silver layer, the features and the served model."""

from .checks import (
    GAP_POLICIES,
    INVALID_ROW_POLICIES,
    broken_rules,
    check_choice,
    check_kline_times,
    check_on_grid,
    fill_gaps,
    off_grid,
    type_candles,
    validate_candles,
)
from .layout import (
    BRONZE_COLUMNS,
    EARLIEST_MS,
    INTERVALS,
    KLINE_COLUMNS,
    LATEST_MS,
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    check_interval,
    close_times_ms,
    interval_frequency,
    interval_milliseconds,
    interval_of,
    steps_between,
)

__all__ = [
    "BRONZE_COLUMNS",
    "EARLIEST_MS",
    "GAP_POLICIES",
    "INTERVALS",
    "INVALID_ROW_POLICIES",
    "KLINE_COLUMNS",
    "LATEST_MS",
    "OPTIONAL_COLUMNS",
    "PRICE_COLUMNS",
    "REQUIRED_COLUMNS",
    "broken_rules",
    "check_choice",
    "check_interval",
    "close_times_ms",
    "check_kline_times",
    "check_on_grid",
    "fill_gaps",
    "interval_frequency",
    "interval_milliseconds",
    "interval_of",
    "steps_between",
    "off_grid",
    "type_candles",
    "validate_candles",
]
