"""Kedro's start-up costs that grow with a run's datasets (cryptopythia.kedro_startup),
taken out by the project's settings without changing what Kedro does."""

from __future__ import annotations

import importlib.util
import sys

import parse
import pytest
from kedro.io.catalog_config_resolver import CatalogConfigResolver
from kedro.io.memory_dataset import _infer_copy_mode

import cryptopythia.settings  # noqa: F401  (a run's settings: applies both)
from cryptopythia.kedro_startup import remember_missing_modules

FACTORIES = {
    "{pair}.bronze": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/pairs/{pair}/b.csv"},
    "{pair}.silver": {"type": "pandas.CSVDataset", "filepath": "data/02/pairs/{pair}/s.csv"},
    "{a}.{b}.gold": {"type": "pandas.CSVDataset", "filepath": "{a}/{b}.csv", "sep": ";"},
}


def test_a_missing_optional_module_is_imported_once(monkeypatch):
    # Kedro's MemoryDataset tries `import ibis` at each save without a copy mode (every
    # parameter of every pair): each failed import searched sys.path again.
    if importlib.util.find_spec("ibis") is not None and sys.modules.get("ibis") is not None:
        pytest.skip("ibis is installed here")
    assert "ibis" in sys.modules and sys.modules["ibis"] is None
    with pytest.raises(ModuleNotFoundError):
        import ibis  # noqa: F401
    assert importlib.util.find_spec("ibis") is None
    assert _infer_copy_mode({"a": 1}) == "deepcopy"
    monkeypatch.delitem(sys.modules, "json")  # an installed module is never recorded
    assert remember_missing_modules(("json", "no_such_module_here")) == ["no_such_module_here"]
    assert sys.modules["no_such_module_here"] is None
    monkeypatch.delitem(sys.modules, "no_such_module_here")


def test_dataset_factories_compile_each_pattern_once(monkeypatch):
    built = []
    init = parse.Parser.__init__

    def counting(self, format, *args, **kwargs):
        built.append(format)
        init(self, format, *args, **kwargs)

    monkeypatch.setattr(parse.Parser, "__init__", counting)
    resolver = CatalogConfigResolver(FACTORIES, default_runtime_patterns={})
    for pair in ("ethusdt_1d", "solusdt_1d", "adausdt_4h"):
        assert resolver.resolve_pattern(f"{pair}.bronze") == {
            "type": "pandas.CSVDataset",
            "filepath": f"data/01_raw/pairs/{pair}/b.csv",
        }
        assert resolver.match_dataset_pattern(f"{pair}.typed_candles") is None
    assert resolver.resolve_pattern("x.y.gold") == {
        "type": "pandas.CSVDataset",
        "filepath": "x/y.csv",
        "sep": ";",
    }
    assert len(built) <= len(FACTORIES), built  # each pattern once, whatever the names


def test_dataset_classes_are_looked_up_once(monkeypatch):
    from kedro.io import core

    core._load_obj.cache_clear()
    loads = []
    load_obj = core.load_obj

    def counting(path):
        loads.append(path)
        return load_obj(path)

    monkeypatch.setattr(core, "load_obj", counting)
    for _ in range(3):
        dataset_class, config = core.parse_dataset_definition(
            {"type": "pandas.CSVDataset", "filepath": "x.csv"}
        )
        assert dataset_class.__name__ == "CSVDataset" and config == {"filepath": "x.csv"}
    first = len(loads)
    assert first >= 2  # kedro.io.pandas (missing), then kedro_datasets.pandas
    assert core.parse_dataset_definition({"type": "pandas.CSVDataset"})[0] is dataset_class
    assert len(loads) == first, loads
    with pytest.raises(core.DatasetError, match="not found"):
        core.parse_dataset_definition({"type": "pandas.NoSuchDataset"})


def test_dataset_constructor_arguments_are_recorded_as_kedro_records_them():
    # Kedro stores each dataset's constructor arguments (inspect.getcallargs, ~50 us per
    # dataset, 120,000 datasets at 500 pairs); the cached signature gives the same dict.
    import inspect

    from kedro.io import MemoryDataset, core
    from kedro_datasets.pandas import CSVDataset

    from cryptopythia.datasets import CandleCSVDataset

    class NoOwnInit(CSVDataset):  # gets CSVDataset's Kedro wrapper: (self, *args, **kw)
        pass

    assert core.getcallargs is not inspect.getcallargs  # the settings applied it
    cases = [
        (MemoryDataset, (), {"data": {"a": [1, 2]}}),
        (MemoryDataset, ({"a": 1},), {"copy_mode": "assign"}),
        (CSVDataset, (), {"filepath": "x.csv", "load_args": {"sep": ";"}}),
        (NoOwnInit, (), {"filepath": "y.csv", "save_args": {"index": False}}),
        (CandleCSVDataset, (), {"filepath": "z.csv"}),
    ]
    for dataset_class, args, kwargs in cases:
        dataset = dataset_class(*args, **kwargs)
        init = dataset_class.__init__.__wrapped__
        expected = inspect.getcallargs(init, dataset, *args, **kwargs)
        expected.pop("self")
        assert dataset._init_args == expected, dataset_class.__name__
        assert core.getcallargs(init, dataset, *args, **kwargs) == {
            "self": dataset,
            **expected,
        }


def test_building_the_pipelines_leaves_the_heavy_scoring_and_network_imports_out():
    # Every `kedro run` imports every stage's nodes; scoringrules compiles its numba
    # kernels when imported (~3 s) and TensorFlow takes seconds: imported where used.
    import subprocess

    code = (
        "import sys\n"
        "from cryptopythia.pipeline_registry import _find_all_pipelines\n"
        "assert len(_find_all_pipelines()) >= 7\n"
        "print(sorted(n for n in ('scoringrules', 'tensorflow', 'keras') if n in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
