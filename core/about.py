"""What this server runs: package versions and the limits it enforces."""

from __future__ import annotations

import platform
from importlib import metadata

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
    """The host as the server read it at start, and the budget it derived: what every run must fit."""
    return [
        {"what": "memory limit", "value": f"{HOST.memory_mb / 1024:.2f} GB", "from": HOST.memory_from},
        {"what": "cores", "value": f"{HOST.cpus:g}", "from": HOST.cpus_from},
        {
            "what": "budget for the server and all its runs",
            "value": f"{HOST.budget_mb / 1024:.2f} GB",
            "from": "80% of the memory limit",
        },
        {
            "what": "largest training",
            "value": f"{MAX_TRAIN_MB / 1024:.2f} GB",
            "from": "DIGITLAB_MAX_TRAIN_MB, else the budget less the server's own 1.25 GB",
        },
        {"what": "runs at once", "value": f"{MAX_CONCURRENT}", "from": "DIGITLAB_MAX_TRAININGS, else one per core"},
        {
            "what": "the process runs fork from",
            "value": f"stopped after {IDLE_SECONDS:.0f} s without a run",
            "from": "DIGITLAB_IDLE_SECONDS",
        },
    ]


def limits() -> list[dict]:
    """The limits this server enforces, with the environment variable that sets each."""
    return [
        {"limit": "trainings at once, server-wide", "value": MAX_CONCURRENT, "variable": "DIGITLAB_MAX_TRAININGS"},
        {"limit": "seconds one training may run", "value": MAX_SECONDS, "variable": "DIGITLAB_MAX_TRAIN_SECONDS"},
        {"limit": "models per visitor (the oldest goes first)", "value": MAX_MODELS, "variable": "DIGITLAB_MAX_MODELS"},
        {"limit": "MB per uploaded picture", "value": MAX_IMAGE_MB, "variable": "DIGITLAB_MAX_IMAGE_MB"},
        {"limit": "megapixels per uploaded picture", "value": MAX_PIXELS / 1e6, "variable": "(fixed)"},
        {"limit": "MB per uploaded model", "value": MAX_MODEL_MB, "variable": "DIGITLAB_MAX_MODEL_MB"},
    ]
