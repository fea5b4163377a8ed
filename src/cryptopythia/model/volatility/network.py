"""``network``: the Conv1D + LSTM's correction of an econometric volatility model
(``model.volatility_network``) behind the one interface. It is fitted with the forecaster
and registered as JSON: the base model's parameters, the per-step weights fitted out of
sample and the network's own weights, so the served model needs no other file. Without
evidence every weight is 0: the sigma is then the base model's, and TensorFlow is not even
imported to give it."""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

import numpy as np

from .base import Params, VolatilityModel
from .candles import Candles

# Networks rebuilt from registered weights, by digest: a served model builds its network
# once, not at every request (a Keras build costs ~0.3 s). A few at most: one per model.
_BUILT: dict[str, Any] = {}
_MAX_BUILT = 4


def _base_settings(settings: dict[str, Any], params: Params | dict[str, Any]) -> dict[str, Any]:
    """The interval settings with the base model as the volatility model."""
    return {**settings, "volatility": params["base"]}


def _finite_or_none(values: list[float]) -> list[float | None]:
    """JSON has no NaN or infinity: a t-statistic that is not finite is written as null."""
    return [float(v) if math.isfinite(v) else None for v in values]


def _encoded(arrays: list[np.ndarray]) -> list[dict[str, Any]]:
    """The network's weights as short JSON/YAML values (they also go into the registered
    models' MLmodel metadata): each array's shape and its float32 bytes in base64."""
    return [
        {"shape": list(a.shape), "float32": base64.b64encode(a.astype("<f4").tobytes()).decode()}
        for a in arrays
    ]


def _decoded(encoded: list[dict[str, Any]]) -> list[np.ndarray]:
    """``_encoded``'s arrays back, bit for bit."""
    return [
        np.frombuffer(base64.b64decode(e["float32"]), dtype="<f4").reshape(e["shape"])
        for e in encoded
    ]


def registered_params(correction: Any, block: dict[str, Any], steps: int) -> dict[str, Any]:
    """A fitted correction (``volatility_network.Correction``) of ``block["base"]`` as the
    JSON-able parameters the forecaster registers and the served model reads back."""
    network_weights = _encoded(correction.network.get_weights())
    digest = hashlib.sha256("".join(e["float32"] for e in network_weights).encode())
    return {
        "base": block["base"],
        "base_params": correction.econ_params,
        "steps": int(steps),
        "weights": [float(w) for w in correction.weights],
        "t_statistics": _finite_or_none(correction.t_statistics),
        "epochs": len(correction.history["loss"]),
        "n_timesteps": int(block["n_timesteps"]),
        "layers": block["layers"],
        "digest": digest.hexdigest()[:16],
        "network_weights": network_weights,
    }


def _fit(candles: Candles, settings: dict[str, Any], steps: int) -> Params:
    """The correction of ``settings["network"]["base"]`` fitted on the training candles
    (``volatility_network.fit_correction``)."""
    from ..volatility_network import fit_correction

    block = settings["network"]
    base_settings = _base_settings(settings, block)
    return registered_params(fit_correction(candles, base_settings, block, steps), block, steps)


def _network(params: dict[str, Any]) -> Any:
    """The registered network, rebuilt from its weights once per process."""
    if params["digest"] not in _BUILT:
        from ..network import build_model
        from ..volatility_network import N_FEATURES

        network = build_model(
            params["n_timesteps"],
            N_FEATURES,
            params["steps"],
            params["layers"],
            learning_rate=1e-3,  # unused: it is never trained here
            precision="float32",
            jit_compile=False,
            steps_per_execution=1,
        )
        network.set_weights(_decoded(params["network_weights"]))
        if len(_BUILT) >= _MAX_BUILT:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[params["digest"]] = network
    return _BUILT[params["digest"]]


def _paths(
    candles: Candles, settings: dict[str, Any], params: Params, n_origins: int, steps: int
) -> np.ndarray:
    """The base model's sigma paths times exp(w_h * c_h / 2), c_h the network's correction
    (steps beyond those it was fitted for keep the base sigma), never shrinking with h."""
    if params is None:
        raise ValueError("network needs its fitted parameters, got None.")
    from . import model_of

    base_settings = _base_settings(settings, params)
    if not any(params["weights"]):  # no evidence: exactly the base model
        base = model_of(params["base"])
        return base.paths(candles, base_settings, params["base_params"], n_origins, steps)
    from ..volatility_network import Correction, combine, correction_paths

    correction = Correction(params["base_params"], _network(params), params["weights"], [], {})
    sigma, raw = correction_paths(
        candles, base_settings, correction, {"n_timesteps": params["n_timesteps"]}, n_origins, steps
    )
    # the variance of a sum of uncorrelated moves cannot fall as h grows; per-step weights
    # could make it, so the path is made monotone
    return np.maximum.accumulate(combine(sigma, raw, params["weights"]), axis=1)


def _lookback(settings: dict[str, Any], params: Params) -> int:
    """The network's window plus the base model's own lookback."""
    if params is None:
        raise ValueError("network needs its fitted parameters, got None.")
    from . import model_of

    base = model_of(params["base"])
    return int(params["n_timesteps"]) + base.lookback(
        _base_settings(settings, params), params["base_params"]
    )


NETWORK = VolatilityModel(fit=_fit, paths=_paths, lookback=_lookback, scheduled=False)
