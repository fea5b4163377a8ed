"""The configuration of the Kedro session being run, for the parts Kedro builds outside a
context: the pipeline registry (which pairs to namespace) and the runners (which cluster).

``ProjectConfigHook.after_context_created`` records the session's config loader; without a
session (a plain import, a tool), the project's conf/base + conf/local are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_session: dict[str, Any] = {}


def remember_config_loader(config_loader: Any) -> None:
    """Record the config loader of the session that is starting."""
    _session["loader"] = config_loader


def forget_config_loader() -> None:
    """The session is over: later look-ups outside a session read ./conf again."""
    _session.pop("loader", None)


def session_config_loader() -> Any:
    """The current session's config loader, else one on ./conf (base + local)."""
    loader = _session.get("loader")
    if loader is None:
        from kedro.framework.project import settings

        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=str(Path.cwd() / settings.CONF_SOURCE), **settings.CONFIG_LOADER_ARGS
        )
    return loader


def session_config(key: str) -> dict[str, Any]:
    """One kind of configuration (``parameters``, ``dask`` ...), {} when there is none."""
    from kedro.config import MissingConfigException

    try:
        return session_config_loader()[key] or {}
    except (MissingConfigException, KeyError, FileNotFoundError):  # a bad value is raised
        return {}
