"""The errors of the silver -> gold transformation, each naming what to fix."""


class FeatureConfigError(ValueError):
    """The ``feature_engineering`` parameters or the candle interval are invalid."""


class SilverInputError(ValueError):
    """The silver table cannot be turned into gold."""


class FeatureValuesError(SilverInputError):
    """Features NaN/infinite after the warm-up: the candles hold values they cannot use."""

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns
