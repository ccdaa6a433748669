"""A TrainConfig in a URL's query string, so a speaker can bookmark or share an exact setup."""

from __future__ import annotations

import dataclasses
import math

from core.i18n import Text
from core.training.architectures import ARCHITECTURES
from core.training.budget import fit_to_budget
from core.training.config import CHOICES, PRESETS, TrainConfig, nearest_choice

MAX_NOTICE_VALUE = 40  # characters of a link's value quoted back in a notice


def config_to_params(config: TrainConfig) -> dict[str, str]:
    """Every field as text, e.g. {"architecture": "cnn", "epochs": "2", "augment": "false", ...}."""
    return {f.name: str(getattr(config, f.name)).lower() for f in dataclasses.fields(TrainConfig)}


def _quoted(text: str) -> str:
    return repr(text if len(text) <= MAX_NOTICE_VALUE else text[:MAX_NOTICE_VALUE] + "…")


def _parse(name: str, text: str, current) -> tuple[object, str | None]:
    """(the value a link's text gives the field `name`, a notice if it was changed or ignored)."""
    allowed = CHOICES[name]
    kind = type(current)
    if kind is str:
        if text in allowed:
            return text, None
        return current, Text(
            "Ignored {name}={text} from the link: it must be one of {allowed}.",
            name=name,
            text=_quoted(text),
            allowed=", ".join(allowed),
        )
    if kind is bool:
        if text in ("true", "false"):
            return text == "true", None
        return current, Text(
            "Ignored {name}={text} from the link: it must be true or false.", name=name, text=_quoted(text)
        )
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        return current, Text("Ignored {name}={text} from the link: it is not a number.", name=name, text=_quoted(text))
    snapped = nearest_choice(name, number)
    value = int(snapped) if kind is int else float(snapped)
    if math.isclose(value, number, rel_tol=1e-9, abs_tol=1e-12):
        return value, None
    return value, Text(
        "The link's {name}={text} is not one of the choices; using the nearest, {value:g}.",
        name=name,
        text=_quoted(text),
        value=value,
    )


def config_from_params(params: dict[str, str]) -> tuple[TrainConfig, list[str]]:
    """The config a query string describes, over the `quick` preset, and a notice per value changed or ignored.

    Never raises: every value is one of CHOICES, so the Train page can show what this returns, and the
    configuration fits the server's memory budget for a training.
    """
    config, notices = PRESETS["quick"], []
    for field in dataclasses.fields(TrainConfig):
        text = params.get(field.name)
        if not isinstance(text, str):
            continue
        value, notice = _parse(field.name, text.strip(), getattr(config, field.name))
        notices += [notice] if notice else []
        config = dataclasses.replace(config, **{field.name: value})
    config, conflicts = _without_conflicts(config)
    config, notice = fit_to_budget(config)
    return config, notices + conflicts + ([notice] if notice else [])


def _without_conflicts(config: TrainConfig) -> tuple[TrainConfig, list[str]]:
    """A private run asked for with what privacy cannot combine with: privacy kept, the other turned off, and said.
    A batch larger than the digits the run learns from: the largest that fits."""
    notices = []
    learning = config.learning_digits
    if config.batch_size > learning:
        batch = max(size for size in CHOICES["batch_size"] if size <= learning)
        config = dataclasses.replace(config, batch_size=batch)
        notices.append(
            Text(
                "The link's batch is larger than the {learning:,} digits its run learns from: using {batch}.",
                learning=learning,
                batch=batch,
            )
        )
    architecture = ARCHITECTURES[config.architecture]
    if config.dp_epsilon and not architecture.private:
        config = dataclasses.replace(config, dp_epsilon=0.0)
        notices.append(Text("Private runs take the CNNs and the MLP here: this link's run is not private."))
    if config.dp_epsilon and config.batch_norm and architecture.normalises:
        config = dataclasses.replace(config, batch_norm=False)
        notices.append(
            Text("The link asks for a private run: batch normalisation, which mixes a batch's digits, is off.")
        )
    if config.dp_epsilon and config.adversarial_eps:
        config = dataclasses.replace(config, adversarial_eps=0.0)
        notices.append(Text("The link asks for a private run: adversarial training is off."))
    return config, notices
