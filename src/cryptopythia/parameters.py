"""The pipelines' parameters checked before a run starts, against the typed schemas of
``parameter_schemas``: a bad value is one clear error naming every wrong parameter, what
is wrong and how to set it, instead of a TensorFlow or pandas error deep inside a node."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from .parameter_schemas import SCHEMAS


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"<prefix>a.b": 1}``: dotted names, as ``--params`` and
    kedro-mlflow's logged params spell them."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        flat.update(flatten(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return flat


def check_parameters(parameters: dict[str, Any], sections: set[str], namespace: str = "") -> None:
    """Validate the ``sections`` of ``parameters`` (a pair's, under ``namespace``) that have
    a schema; raise one ValueError listing every wrong value."""
    problems = []
    for section in sorted(sections & SCHEMAS.keys()):
        try:
            SCHEMAS[section].model_validate(parameters.get(section) or {})
        except ValidationError as error:
            for detail in error.errors():
                parts = (
                    (namespace, section, *detail["loc"]) if namespace else (section, *detail["loc"])
                )
                name = ".".join(str(part) for part in parts)
                value = detail.get("input")
                shown = " missing" if detail["type"] == "missing" else f"={value!r}"
                message = detail["msg"].removeprefix("Value error, ")
                problems.append(f"{name}{shown}: {message}")
    if problems:
        raise ValueError(
            f"{len(problems)} parameter(s) are wrong: " + "; ".join(problems) + ". Set them in "
            "conf/base/parameters_<pipeline>.yml or with --params <name>=<value>."
        )
