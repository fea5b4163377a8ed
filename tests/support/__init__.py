"""Test support shared by tests and benchmarks: candle generators, the fake Binance
server, the project-copy helper, small gold tables and forecasters."""
