"""The served model (``mlflow models serve``): candles in, forecasts and intervals out."""
