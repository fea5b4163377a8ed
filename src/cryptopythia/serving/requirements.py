"""Pinned pip requirements of every model this project logs to MLflow."""

from __future__ import annotations

import importlib.metadata


def pinned(*distributions: str) -> list[str]:
    """``name==version`` for the installed distributions among ``distributions``."""
    pins = []
    for name in distributions:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins
