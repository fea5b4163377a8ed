"""Four costs of a Kedro 1.7 run's start-up that grow with its datasets, taken out without
changing what Kedro does: with hundreds of listed pairs a run has tens of thousands of
datasets (every parameter of every pair is one), and these costs were most of the minutes
before its first node (docs/pairs.md: Start-up with many pairs).

- Kedro's ``MemoryDataset`` runs ``import ibis`` each time it stores a value without a
  copy mode (every parameter dataset). Python does not remember a failed import, so
  without ibis installed each one searched every folder of ``sys.path`` again (~0.3 ms,
  28 s for 500 pairs' parameters).
- Kedro's dataset factories match a name with ``parse.parse(pattern, name)``, which
  compiles the pattern into a regular expression at every call: some 80 calls for each
  dataset of the run (``"{pair}.bronze"`` and the other factories, tried in turn).
- Kedro finds a dataset's class (``type: pandas.CSVDataset``) by importing it under each
  of its default packages in turn (``kedro.io.pandas``, ``kedro_datasets.pandas`` ...),
  failed imports included, again for every dataset of the run.
- Kedro records each dataset's constructor arguments with ``inspect.getcallargs``, which
  rebuilds the constructor's signature at every call (~50 us, 6 s for 500 pairs'
  120,000 datasets): the signature is built once per constructor here, then bound.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import sys
from collections.abc import Callable
from typing import Any

# Modules Kedro tries to import at every MemoryDataset save and that this project does
# not need.
OPTIONAL_MODULES = ("ibis",)


def remember_missing_modules(names: tuple[str, ...] = OPTIONAL_MODULES) -> list[str]:
    """Record each of ``names`` that is not installed as missing (``sys.modules[name] =
    None``: ``import`` raises ModuleNotFoundError at once, ``find_spec`` says None), as
    Python already does for a module it has imported. Returns the names recorded."""
    missing = [
        name for name in names if name not in sys.modules and importlib.util.find_spec(name) is None
    ]
    for name in missing:
        sys.modules[name] = None  # type: ignore[assignment]
    return missing


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, case_sensitive: bool) -> Any:
    import parse

    return parse.compile(pattern, case_sensitive=case_sensitive)


def _cached_parse(
    pattern: str,
    string: str,
    extra_types: Any = None,
    evaluate_result: bool = True,
    case_sensitive: bool = False,
) -> Any:
    """``parse.parse`` with each pattern compiled once: the same result."""
    if extra_types is not None:
        import parse

        return parse.parse(pattern, string, extra_types, evaluate_result, case_sensitive)
    return _compiled(pattern, case_sensitive).parse(string, evaluate_result=evaluate_result)


def cache_dataset_pattern_parsers() -> None:
    """Make Kedro's catalog config resolver compile each dataset factory pattern once."""
    from kedro.io import catalog_config_resolver

    catalog_config_resolver.parse = _cached_parse  # type: ignore[attr-defined]


def cache_dataset_classes() -> None:
    """Make Kedro look each dataset class path up once (found or not: the same answer
    for the whole process, as the installed packages are)."""
    from kedro.io import core

    if not hasattr(core._load_obj, "cache_info"):
        core._load_obj = functools.lru_cache(maxsize=1024)(core._load_obj)


@functools.lru_cache(maxsize=1024)
def _signature(function: Callable) -> inspect.Signature:
    # not following __wrapped__, as getcallargs does not (a subclass without its own
    # __init__ gets its parent's Kedro wrapper: (self, *args, **kwargs))
    return inspect.signature(function, follow_wrapped=False)


def cached_getcallargs(function: Callable, /, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``inspect.getcallargs`` with each function's signature built once: the same dict
    (every parameter, defaults filled, ``*args`` a tuple, ``**kwargs`` a dict)."""
    bound = _signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def cache_constructor_signatures() -> None:
    """Make Kedro record a dataset's constructor arguments from a cached signature."""
    from kedro.io import core

    core.getcallargs = cached_getcallargs  # type: ignore[attr-defined]


def speed_up_start() -> None:
    """All four, before a session builds its catalog (settings.py)."""
    remember_missing_modules()
    cache_dataset_pattern_parsers()
    cache_dataset_classes()
    cache_constructor_signatures()
