"""Many pairs from one parameter list.

``pairs`` in parameters (conf/<env>/parameters_pairs.yml) lists symbols and intervals; every
(symbol, interval) becomes a Kedro namespace such as ``ethusdt_1d``. The pipelines are
registered once per namespace (``pipeline_registry``), their datasets come from dataset
factories (``"{pair}.bronze"`` ...) made here from the single-pair catalog entries, and
their parameters are the global ones with the pair's own values on top: the project's
config loader writes both. An empty list keeps the single, un-namespaced pair of
``data_engineering.symbol``/``interval`` with today's paths and registry names.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from kedro.config import OmegaConfigLoader

from .candles.layout import INTERVALS

# The parameter sections every pair gets its own copy of (the namespaced pipelines read
# params:<pair>.<section>).
PAIR_SECTIONS = (
    "data_engineering",
    "feature_engineering",
    "modelling",
    "backtest",
    "inference",
    "replay",
    "monitor",
)
# Catalog entries without a copy per pair: shared by every pair (one Binance client, one
# rate limit), and the tables across pairs (``pairs_training_summary`` ...).
SHARED_DATASETS = frozenset({"binance_client"})
ACROSS_PAIRS_PREFIX = "pairs_"
_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


@dataclass(frozen=True)
class Pair:
    """One traded pair at one candle interval."""

    symbol: str
    interval: str

    @property
    def namespace(self) -> str:
        """The Kedro namespace of the pair's pipelines and datasets, e.g. ``ethusdt_1d``."""
        return f"{self.symbol.lower()}_{self.interval}"

    def format(self, template: str) -> str:
        """``template`` with {symbol}, {symbol_lower}, {interval} and {pair} filled in."""
        return template.format(
            symbol=self.symbol,
            symbol_lower=self.symbol.lower(),
            interval=self.interval,
            pair=self.namespace,
        )


def _as_list(value: Any, name: str) -> list[Any]:
    """A list of ``pairs.<name>``; a string is split on spaces or ";" (``--params`` splits
    its items on commas, so a list there is written "pairs.symbols=ETHUSDT SOLUSDT")."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item for item in re.split(r"[\s;]+", value) if item]
    if not isinstance(value, list | tuple):
        raise ValueError(
            f"pairs.{name} must be a list (e.g. symbols: [ETHUSDT, SOLUSDT], intervals: "
            f"[1d]), not {value!r}; fix conf/<env>/parameters_pairs.yml or "
            f'--params "pairs.{name}=ETHUSDT SOLUSDT".'
        )
    return list(value)


def listed_pairs(parameters: dict[str, Any]) -> list[Pair]:
    """The (symbol, interval) pairs of ``parameters["pairs"]``, in order; [] when none."""
    config = parameters.get("pairs") or {}
    symbols = _as_list(config.get("symbols"), "symbols")
    intervals = _as_list(config.get("intervals"), "intervals")
    if symbols and not intervals:
        raise ValueError(
            "pairs.symbols is set but pairs.intervals is empty: list at least one interval "
            "(e.g. intervals: [1d]) in conf/<env>/parameters_pairs.yml."
        )
    bad_symbols = [s for s in symbols if not _SYMBOL.match(str(s).upper())]
    bad_intervals = [i for i in intervals if str(i) not in INTERVALS]
    if bad_symbols or bad_intervals:
        raise ValueError(
            f"pairs: symbols {bad_symbols} / intervals {bad_intervals} are not Binance "
            "symbols (2-20 letters or digits, e.g. ETHUSDT) or intervals "
            f"({', '.join(INTERVALS)}); fix conf/<env>/parameters_pairs.yml."
        )
    pairs = [Pair(str(s).upper(), str(i)) for s in symbols for i in intervals]
    counts = Counter(pairs)  # not pairs.count(p) for each: the square of the list's length
    duplicated = sorted({p.namespace for p in pairs if counts[p] > 1})
    if duplicated:
        raise ValueError(f"pairs: {duplicated} listed twice; list each symbol once.")
    return pairs


def _merge_into(target: dict[str, Any], override: dict[str, Any]) -> None:
    """Merge ``override`` into ``target``, nested dicts key by key, its values copied (no
    aliasing); in place, as copying ``target`` at every merge was seconds at 500 pairs."""
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def pair_parameters(parameters: dict[str, Any], pair: Pair) -> dict[str, Any]:
    """The parameter sections of one pair: the global sections, then the pair's symbol,
    interval, dump file and registry names, then ``pairs.overrides`` for its interval and
    for its namespace."""
    config = parameters.get("pairs") or {}
    sections = copy.deepcopy(
        {name: parameters[name] for name in PAIR_SECTIONS if name in parameters}
    )
    own: dict[str, Any] = {
        # a listed pair reads only a dump whose name says it holds its symbol
        "data_engineering": {
            "symbol": pair.symbol,
            "interval": pair.interval,
            "dump_names_symbol": True,
        },
        "modelling": {
            "registry": {
                role: pair.format(template)
                for role, template in (config.get("registry_names") or {}).items()
            }
        },
    }
    if config.get("dump_path"):
        own["data_engineering"]["dump_path"] = pair.format(str(config["dump_path"]))
    _merge_into(sections, own)
    overrides = config.get("overrides") or {}
    for key in (pair.interval, pair.namespace):
        _merge_into(sections, overrides.get(key) or {})
    return sections


def expand_pairs(parameters: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` plus one namespaced copy of the pair sections per listed pair."""
    pairs = listed_pairs(parameters)
    clashes = [p.namespace for p in pairs if p.namespace in parameters]
    if clashes:
        raise ValueError(
            f"pairs: the parameter name(s) {clashes} are taken; a listed pair's namespace "
            "holds its own parameters. Rename those top-level parameters."
        )
    return {**parameters, **{p.namespace: pair_parameters(parameters, p) for p in pairs}}


def _has_braces(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_braces(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_braces(item) for item in value)
    return isinstance(value, str) and ("{" in value or "}" in value)


def _in_pair_folder(filepath: str) -> str:
    """``data/01_raw/bronze.csv`` -> ``data/01_raw/pairs/{pair}/bronze.csv``."""
    folder, slash, name = filepath.rpartition("/")
    return f"{folder}{slash}pairs/{{pair}}/{name}"


def pair_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The dataset factory of every pair's copy of a single-pair catalog entry: the same
    type and options, its file in ``<layer folder>/pairs/{pair}/`` (the entry's own or,
    for a dataset that wraps another, e.g. an MLflow artifact, the wrapped one's), its
    MLflow artifacts under ``{pair}/`` and its MLflow metrics prefixed ``{pair}.``."""
    factory = copy.deepcopy(entry)
    for level in (factory, factory.get("dataset")):
        if isinstance(level, dict) and isinstance(level.get("filepath"), str):
            level["filepath"] = _in_pair_folder(level["filepath"])
    if "artifact_path" in factory:
        path = factory["artifact_path"]
        factory["artifact_path"] = f"{{pair}}/{path}" if path else "{pair}"
    if factory.get("prefix"):
        factory["prefix"] = f"{{pair}}.{factory['prefix']}"
    return factory


def with_pair_factories(catalog: dict[str, Any]) -> dict[str, Any]:
    """``catalog`` plus a ``"{pair}.<name>"`` dataset factory for every single-pair entry
    (not a factory itself, not shared, not a table across pairs). A factory the catalog
    writes itself (conf/<env>/catalog*.yml: ``"{pair}.<name>"``) is kept as written."""
    factories = {}
    for name, entry in catalog.items():
        factory_name = f"{{pair}}.{name}"
        if (
            not isinstance(entry, dict)
            or "{" in name
            or name.startswith(("_", ACROSS_PAIRS_PREFIX))
            or name in SHARED_DATASETS
            or factory_name in catalog
        ):
            continue
        if _has_braces(entry):
            raise ValueError(
                f"The catalog entry {name!r} has braces in its options: a dataset factory "
                f"formats them with the matched name, so the pairs' {factory_name!r} cannot "
                f"be made from it. Write {factory_name!r} in conf/base/catalog_pairs.yml."
            )
        factories[factory_name] = pair_entry(entry)
    return {**catalog, **factories}


class PairsConfigLoader(OmegaConfigLoader):
    """Kedro's OmegaConfigLoader whose parameters also hold every listed pair's namespaced
    copy (``ethusdt_1d.modelling`` ...), with runtime ``--params`` already applied to the
    global sections they are copied from, and whose catalog holds the dataset factories of
    the pairs' datasets (``"{pair}.bronze"`` ...), made from the single-pair entries."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        config = super().__getitem__(key)
        if key == "parameters":
            return expand_pairs(config)
        if key == "catalog":
            return with_pair_factories(config)
        return config


def session_pairs() -> list[Pair]:
    """The pairs listed by the current session's parameters (conf/base+local without one)."""
    from .session_config import session_config

    return listed_pairs(session_config("parameters"))
