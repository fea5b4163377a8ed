"""The network's volatility correction (issue 24, "network"): the project's Conv1D + LSTM
(``model.network.build_model``) with a Dense(h) head predicting, per step, the log ratio of
the realised squared h-step log move to an econometric model's variance, from scale-free
windows (each candle's log return and log range variance divided by the origin's
econometric sigma, and the econometric sigma's own path), so it learns a *correction*.

The target is log(r_h^2 / sigma_h^2) + 1.2704 (minus the mean of log chi2_1): a prediction
of 0 means "no correction". Trained with the MSE or the Gaussian NLL (``loss``) on the
first rows given, early-stopped on
the next ones; on the last ``calibration_fraction`` of them, which neither saw, each step's
weight w_h in [0, 1] minimises the QLIKE loss of sigma_econ * exp(w_h * c_h / 2) and is kept
only when the QLIKE differential (econometric minus combined) has a Newey-West t-statistic
>= ``min_t_statistic`` (the point shrinkage's honesty, model.shrinkage): else 0, and the
sigma is the econometric one. ``modelling.intervals.volatility: network`` serves it
(``model.volatility.network``); benchmarks/risk_network.py measures it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .network import build_model, unseen_timesteps
from .statistics import long_run_variance
from .volatility import Candles, Params, model_of
from .volatility.har import range_variance

LOG_CHI2_MEAN = 1.2704  # -E[log chi2_1] = Euler's gamma + log 2
RATIO_FLOOR = 1e-6  # r^2 / sigma^2 (and range / sigma^2) below it count as it: a flat close
RETURN_CLIP = 10.0  # standardised returns beyond +-10 sigma (bad prints) are clipped
N_FEATURES = 3
WEIGHT_GRID = np.linspace(0.0, 1.0, 101)


@dataclass
class Correction:
    """A fitted correction: the econometric parameters, the network, the per-step weights
    and their t-statistics (NaN where no weight was positive), the training history."""

    econ_params: Params
    network: Any  # a keras.Model
    weights: list[float]
    t_statistics: list[float]
    history: dict[str, list[float]]


def lookback(settings: dict[str, Any], params: dict[str, Any], econ_params: Params) -> int:
    """Candles read before the first origin: the window, its first return's previous
    close, and the econometric model's own lookback."""
    return int(params["n_timesteps"]) + model_of(settings["volatility"]).lookback(
        settings, econ_params
    )


def _econ(candles: Candles, settings: dict[str, Any], econ: Params, rows: int, steps: int):
    """The econometric sigma paths at the last ``rows`` rows."""
    return model_of(settings["volatility"]).paths(candles, settings, econ, rows, steps)


def _per_candle(candles: Candles, settings: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Each candle's log return and range variance (squared return without a range)."""
    returns = candles.log_returns()
    if not candles.has_range:
        return returns, returns**2
    variance = range_variance(
        candles, str(settings["har_range_estimator"]), float(settings["har_wick_bound"])
    )
    return returns, variance


def _windows(returns: np.ndarray, variance: np.ndarray, sigma: np.ndarray, n: int) -> np.ndarray:
    """(rows - n + 1, n, 3) windows ending at each row from the n-th: the returns and
    log range variances over the window's last row's sigma, and log(sigma_s / sigma_t)."""
    scale = sigma[n - 1 :, None]
    r = sliding_window_view(returns, n) / scale
    v = sliding_window_view(variance, n) / scale**2
    s = np.log(sliding_window_view(sigma, n) / scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_v = np.log(np.maximum(v, RATIO_FLOOR))
    log_v[~np.isfinite(v)] = np.nan
    return np.stack([np.clip(r, -RETURN_CLIP, RETURN_CLIP), log_v, s], axis=-1)


def correction_paths(
    candles: Candles,
    settings: dict[str, Any],
    correction: Correction,
    params: dict[str, Any],
    n_origins: int,
    steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(n_origins, steps) twice: the econometric sigma and the network's raw correction c
    (before the weights; 0 where a window is incomplete) at each of the last ``n_origins``
    rows, from the candles up to it (only the last n_origins + lookback rows are read)."""
    n = int(params["n_timesteps"])
    recent = candles.rows(-(n_origins + lookback(settings, params, correction.econ_params)), None)
    rows = min(n_origins + n - 1, len(recent))
    econ = _econ(recent, settings, correction.econ_params, rows, steps)
    returns, variance = (values[-rows:] for values in _per_candle(recent, settings))
    raw = np.zeros((n_origins, steps))
    if rows >= n:
        windows = _windows(returns, variance, econ[:, 0], n)[-n_origins:]
        raw[-len(windows) :] = predict(correction.network, windows, steps)
    # the econometric model's own paths at the origins (its filter starting where a
    # request of n_origins would start it: the windows' normalisation reads n - 1 more)
    return _econ(recent, settings, correction.econ_params, n_origins, steps), raw


def predict(network: Any, windows: np.ndarray, steps: int) -> np.ndarray:
    """The network's correction of each window (0 where one is not finite)."""
    result = np.zeros((len(windows), steps))
    complete = np.isfinite(windows).all(axis=(1, 2))
    if complete.any():
        batch = windows[complete].astype("float32")
        predicted = np.asarray(network.predict_on_batch(batch))[:, :steps]
        result[complete, : predicted.shape[1]] = predicted  # steps it was not fitted for: 0
    return result


def combine(sigma: np.ndarray, raw: np.ndarray, weights: Any) -> np.ndarray:
    """sigma_econ * exp(w_h * c_h / 2) per step (weights: one per step, or one row of them
    per origin): the econometric sigma where w_h is 0."""
    w = np.asarray(weights, dtype="float64")[..., : sigma.shape[1]]
    missing = sigma.shape[1] - w.shape[-1]  # steps beyond those fitted: weight 0
    w = np.pad(w, [(0, 0)] * (w.ndim - 1) + [(0, missing)])
    return sigma * np.exp(w * raw / 2)


def qlike(realised: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Patton's QLIKE loss r^2 / v + log v of a variance forecast (lower is better; robust
    to the noise of a squared return as the proxy of the true variance)."""
    return realised / variance + np.log(variance)


def fit_weights(
    raw: np.ndarray, realised: np.ndarray, variance: np.ndarray, min_t: float
) -> tuple[list[float], list[float]]:
    """Per step, the weight in [0, 1] (a grid of 0.01) of the correction minimising the mean
    QLIKE on calibration rows, kept when the QLIKE differential (econometric minus
    combined) has a Newey-West t-statistic >= ``min_t`` (lags h - 1: consecutive h-step
    moves overlap), else 0; and that t-statistic (NaN when the best weight is 0)."""
    weights, statistics = [], []
    for step in range(raw.shape[1]):
        c, r2, v = raw[:, step], realised[:, step], variance[:, step]
        losses = qlike(r2[None, :], v[None, :] * np.exp(WEIGHT_GRID[:, None] * c[None, :]))
        best = int(np.argmin(losses.mean(axis=1)))
        if best == 0 or len(c) < 3:
            weights.append(0.0)
            statistics.append(float("nan"))
            continue
        differential = losses[0] - losses[best]
        spread = np.sqrt(long_run_variance(differential, step) / len(differential))
        t = float(differential.mean() / spread) if spread > 0 else float("inf")
        weights.append(float(WEIGHT_GRID[best]) if t >= min_t else 0.0)
        statistics.append(t)
    return weights, statistics


def _targets(candles: Candles, econ: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, steps): the realised squared h-step log move after each row (NaN where its
    close is not known) and the target log(max(r^2 / sigma^2, floor)) + 1.2704."""
    log_close = np.log(candles.close)
    realised = np.full((len(log_close), steps), np.nan)
    for step in range(1, steps + 1):
        realised[:-step, step - 1] = (log_close[step:] - log_close[:-step]) ** 2
    with np.errstate(invalid="ignore"):
        ratio = np.maximum(realised / econ**2, RATIO_FLOOR)
    return realised, np.log(ratio) + LOG_CHI2_MEAN


def gaussian_nll(target: Any, predicted: Any) -> Any:
    """The Gaussian negative log-likelihood (QLIKE) of a log variance ratio c given the
    target log(u) + 1.2704, u = r^2 / sigma^2: u exp(-c) + c, minimised at c = log E[u]
    (a Keras loss: the MSE on the log target is minimised at E[log u] + 1.2704 instead,
    the same under normal moves, but it weighs the many near-zero moves as much as the
    large ones that decide an interval)."""
    import keras

    ratio = keras.ops.exp(target - LOG_CHI2_MEAN)
    return keras.ops.mean(ratio * keras.ops.exp(-predicted) + predicted, axis=-1)


def fit_correction(
    candles: Candles, settings: dict[str, Any], params: dict[str, Any], steps: int
) -> Correction:
    """The econometric model fitted on every candle given, the network trained on the
    windows whose targets end before the early-stopping rows, early-stopped on those
    whose targets end before the calibration rows (the last ``calibration_fraction`` of
    the windows), and the weights fitted there."""
    import keras

    n = int(params["n_timesteps"])
    if unseen_timesteps(n, params["layers"]) != 0:
        raise ValueError(f"n_timesteps {n}: the conv/pool stack must see the window whole.")
    econ_params = model_of(settings["volatility"]).fit(candles, settings, steps)
    econ = _econ(candles, settings, econ_params, len(candles), steps)
    returns, variance = _per_candle(candles, settings)
    windows = _windows(returns, variance, econ[:, 0], n)  # row t = window index t - n + 1
    realised, target = (values[n - 1 :] for values in _targets(candles, econ, steps))
    usable = np.isfinite(windows).all(axis=(1, 2)) & np.isfinite(target).all(axis=1)
    rows = np.flatnonzero(usable)
    calibration_share = float(params["calibration_fraction"])
    calibration_start = rows[int(len(rows) * (1 - calibration_share))]
    stop_start = rows[
        int(len(rows) * (1 - calibration_share - float(params["validation_fraction"])))
    ]
    train = rows[rows + steps < stop_start]  # a target's last close before the next part
    stopping = rows[(rows >= stop_start) & (rows + steps < calibration_start)]
    calibration = rows[rows >= calibration_start]
    keras.utils.set_random_seed(int(params["seed"]))
    rate = float(params["learning_rate"])
    network = build_model(n, N_FEATURES, steps, params["layers"], rate, "float32", False, 1)
    if params["loss"] == "gaussian_nll":
        network.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss=gaussian_nll)
    network.fit(
        windows[train].astype("float32"),
        target[train].astype("float32"),
        validation_data=(windows[stopping].astype("float32"), target[stopping].astype("float32")),
        epochs=int(params["epochs"]),
        batch_size=int(params["batch_size"]),
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=int(params["patience"]), restore_best_weights=True
            )
        ],
        shuffle=True,
        verbose=0,
    )
    history = {k: [float(v) for v in values] for k, values in network.history.history.items()}
    raw = predict(network, windows[calibration], steps)
    variance_econ = econ[n - 1 :][calibration] ** 2
    weights, statistics = fit_weights(
        raw, realised[calibration], variance_econ, float(params["min_t_statistic"])
    )
    return Correction(econ_params, network, weights, statistics, history)


def walk_corrected(
    candles: Candles,
    settings: dict[str, Any],
    params: dict[str, Any],
    origins: list[int] | np.ndarray,
    steps: int,
    every: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """A walk-forward: per origin (its first forecast row: the rows before it are known)
    the econometric sigma, the raw correction and the weights, refitted every ``every``
    origins on every row before the refit's first origin (an expanding window); and per
    refit its first origin, weights, t-statistics and epochs."""
    import keras

    origins = np.asarray(origins)
    sigma, raw, weights = (np.empty((len(origins), steps)) for _ in range(3))
    refits = []
    for start in range(0, len(origins), every):
        block = origins[start : start + every]
        first, last = int(block[0]), int(block[-1])
        correction = fit_correction(candles.rows(0, first), settings, params, steps)
        econ, correction_raw = correction_paths(
            candles.rows(0, last), settings, correction, params, last - first + 1, steps
        )
        chosen = slice(start, start + len(block))
        sigma[chosen], raw[chosen] = econ[block - first], correction_raw[block - first]
        weights[chosen] = correction.weights
        refits.append(
            {
                "first_origin": first,
                "weights": correction.weights,
                "t_statistics": correction.t_statistics,
                "epochs": len(correction.history["loss"]),
            }
        )
        keras.backend.clear_session()  # one graph per refit, not all of them at once
    return sigma, raw, weights, refits
