"""What this server runs: package versions and the limits it enforces."""

from __future__ import annotations

import platform
from importlib import metadata

from core.i18n import _
from core.pictures.preprocess import MAX_IMAGE_MB, MAX_PIXELS
from core.registry import MAX_MODELS
from core.runs.child import IDLE_SECONDS
from core.runs.host import HOST
from core.runs.job import MAX_SECONDS
from core.runs.line import MAX_CONCURRENT
from core.training.budget import MAX_TRAIN_MB
from core.uploads import MAX_MODEL_MB

PACKAGES = (
    "streamlit",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "numpy",
    "plotly",
    "pillow",
    "streamlit-drawable-canvas",
)


def versions() -> dict[str, str]:
    """Python and every package the app depends on that is installed, by name."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # tensorflow or tensorflow-cpu, whichever the platform took
            continue
    return found


def host() -> list[dict]:
    """The host as the server read it at start, and the budget it derived: what every run must fit (in the language
    of the page that asks; the columns are named where shown)."""
    return [
        {"what": _("memory limit"), "value": f"{HOST.memory_mb / 1024:.2f} GB", "from": _(HOST.memory_from)},
        {"what": _("cores"), "value": f"{HOST.cpus:g}", "from": _(HOST.cpus_from)},
        {
            "what": _("budget for the server and all its runs"),
            "value": f"{HOST.budget_mb / 1024:.2f} GB",
            "from": _("80% of the memory limit"),
        },
        {
            "what": _("largest training"),
            "value": f"{MAX_TRAIN_MB / 1024:.2f} GB",
            "from": _("DIGITLAB_MAX_TRAIN_MB, else the budget less the server's own 1.25 GB"),
        },
        {
            "what": _("runs at once"),
            "value": f"{MAX_CONCURRENT}",
            "from": _("DIGITLAB_MAX_TRAININGS, else one per core"),
        },
        {
            "what": _("the process runs fork from"),
            "value": _("stopped after {seconds:.0f} s without a run").format(seconds=IDLE_SECONDS),
            "from": _("DIGITLAB_IDLE_SECONDS"),
        },
    ]


def limits() -> list[dict]:
    """The limits this server enforces, with the environment variable that sets each."""
    return [
        {"limit": _("trainings at once, server-wide"), "value": MAX_CONCURRENT, "variable": "DIGITLAB_MAX_TRAININGS"},
        {"limit": _("seconds one training may run"), "value": MAX_SECONDS, "variable": "DIGITLAB_MAX_TRAIN_SECONDS"},
        {
            "limit": _("models per visitor (the oldest goes first)"),
            "value": MAX_MODELS,
            "variable": "DIGITLAB_MAX_MODELS",
        },
        {"limit": _("MB per uploaded picture"), "value": MAX_IMAGE_MB, "variable": "DIGITLAB_MAX_IMAGE_MB"},
        {"limit": _("megapixels per uploaded picture"), "value": MAX_PIXELS / 1e6, "variable": _("(fixed)")},
        {"limit": _("MB per uploaded model"), "value": MAX_MODEL_MB, "variable": "DIGITLAB_MAX_MODEL_MB"},
    ]
