"""The MLflow Model Registry: registering a forecaster, loading it, aliases and promotion."""
