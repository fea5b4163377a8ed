"""Where candles come from: Binance's REST API (binance), its public kline dumps (dump),
and the bronze table built from either (bronze)."""
