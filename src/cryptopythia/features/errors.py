"""The errors of the silver -> gold transformation, each naming what to fix."""


class FeatureConfigError(ValueError):
    """The ``feature_engineering`` parameters or the candle interval are invalid."""


class SilverInputError(ValueError):
    """The silver table cannot be turned into gold."""
