"""numba's on-disk cache for the package's kernels, shared by every copy of the package.

numba caches a kernel beside its source file (or under a hash of the file's absolute
path) and checks only that file's content. So a served model, whose code is a fresh copy
of its artifacts (`mlflow models serve` downloads it per start), compiled every kernel
again at each start (~15 s of CPU per worker, before the first answer), and an edit to a
helper in another module of the package left a stale kernel in the cache. Here a kernel
is cached under its package's name in the user's cache folder (or ``NUMBA_CACHE_DIR``),
checked against the content of every module of its package: any copy of the same code on
this machine loads what another compiled, and any edit beside a kernel recompiles it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numba import config, njit
from numba.core.caching import CompileResultCacheImpl, FunctionCache, UserWideCacheLocator
from numba.misc.appdirs import AppDirs

PACKAGE = __name__.partition(".")[0]  # cryptopythia


def numba_cache_folder() -> Path:
    """numba's user-wide cache folder, or ``NUMBA_CACHE_DIR`` when set: the package's
    kernels are cached in its ``cryptopythia/<subpackage>`` folders."""
    return Path(config.CACHE_DIR or AppDirs(appname="numba", appauthor=False).user_cache_dir)


class PackageCacheLocator(UserWideCacheLocator):
    """Locates a kernel's cache by its module's package name, not by its file's path."""

    def __init__(self, py_func: Callable, py_file: str) -> None:
        super().__init__(py_func, py_file)
        package = py_func.__module__.rpartition(".")[0].split(".")
        self._cache_path = str(numba_cache_folder().joinpath(*package))

    def get_source_stamp(self) -> str:
        """The content of every module beside the kernel: its helpers are inlined into it."""
        digest = hashlib.sha256()
        for module in sorted(Path(self._py_file).parent.glob("*.py")):
            digest.update(module.name.encode())
            digest.update(module.read_bytes())
        return digest.hexdigest()

    @classmethod
    def from_function(cls, py_func: Callable, py_file: str) -> PackageCacheLocator | None:
        if not py_func.__module__.startswith(f"{PACKAGE}."):
            return None
        return super().from_function(py_func, py_file)


class _PackageCacheImpl(CompileResultCacheImpl):
    # numba's own locators stay behind it: a read-only cache folder falls back to them
    _locator_classes = [PackageCacheLocator, *CompileResultCacheImpl._locator_classes]


class PackageFunctionCache(FunctionCache):
    _impl_class = _PackageCacheImpl


def cached_njit(**options: Any) -> Callable[[Callable], Any]:
    """``numba.njit(cache=True, **options)``, cached by ``PackageCacheLocator``."""

    def compile_cached(py_func: Callable) -> Any:
        dispatcher = njit(**options)(py_func)
        # what ``cache=True`` does (Dispatcher.enable_caching), with this package's cache:
        # numba has no public hook to pass a cache class per function
        dispatcher._cache = PackageFunctionCache(py_func)
        return dispatcher

    return compile_cached
