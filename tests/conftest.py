import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mnist():
    from core.pictures.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def default_model():
    from core.models import load_default_model

    return load_default_model()


def chart_traces(chart) -> dict[str, dict]:
    """A plotly chart element's traces by name, decoded from its spec (not matched as text: JSON escapes vary)."""
    return {trace.get("name"): trace for trace in json.loads(chart.proto.spec)["data"]}
