"""The loop after deployment: the forecasts the project made (the ledger), scored when the
candles they were about have closed, and a status per model version from those scores."""
