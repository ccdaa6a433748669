"""A TrainConfig in a URL's query string, so a speaker can bookmark or share an exact setup."""

from __future__ import annotations

import dataclasses

from core.training import PRESETS, TrainConfig


def config_to_params(config: TrainConfig) -> dict[str, str]:
    """Every field as text, e.g. {"architecture": "cnn", "epochs": "2", "augment": "false", ...}."""
    return {f.name: str(getattr(config, f.name)).lower() for f in dataclasses.fields(TrainConfig)}


def config_from_params(params: dict[str, str]) -> tuple[TrainConfig, list[str]]:
    """The config a query string describes, over the `quick` preset, and a notice per value it ignored."""
    config, notices = PRESETS["quick"], []
    for field in dataclasses.fields(TrainConfig):
        if field.name not in params:
            continue
        text = params[field.name]
        try:
            kind = type(getattr(config, field.name))
            if kind is bool:
                if text not in ("true", "false"):
                    raise ValueError(f"expected true or false, got {text!r}")
                value = text == "true"
            else:
                value = kind(float(text)) if kind is int else kind(text)
            candidate = dataclasses.replace(config, **{field.name: value})
            candidate.validate()
            config = candidate
        except ValueError as error:
            notices.append(
                f"Ignored {field.name}={text!r} from the link ({error}); using {getattr(config, field.name)}."
            )
    return config, notices
