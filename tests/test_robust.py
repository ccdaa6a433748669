"""The robust CNN (ε 0.3) as shipped: attacked with our own PGD, and shown beside the default model on the pages."""

import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from core.attacks import pgd
from core.models import ROBUST_MODEL, kept_for_server, load_default_model, predict_proba, shipped_paths
from ui.text import as_text


@pytest.fixture(scope="module")
def robust():
    return kept_for_server(load_default_model(shipped_paths(ROBUST_MODEL)[0]))


def test_the_shipped_robust_model_holds_at_eps_0_3_under_our_own_pgd(robust, default_model, mnist):
    images, labels = mnist.x_test[:200] / np.float32(255), mnist.y_test[:200]
    assert (predict_proba(robust, images).argmax(axis=1) == labels).mean() >= 0.98
    attacked = pgd(robust, images, labels, 0.3, steps=40, step_size=0.01, seed=3)
    assert np.abs(attacked - images).max() <= 0.3 + 1e-6
    held = (predict_proba(robust, attacked).argmax(axis=1) == labels).mean()
    fooled = (
        predict_proba(
            kept_for_server(default_model), pgd(default_model, images, labels, 0.3, steps=40, step_size=0.01, seed=3)
        ).argmax(axis=1)
        == labels
    ).mean()
    assert held >= 0.85 and fooled <= 0.05, (held, fooled)  # the same attack: the default model falls, it holds


def test_its_card_says_what_the_file_does(robust, mnist):
    card = json.loads(shipped_paths(ROBUST_MODEL)[1].read_text())
    right = predict_proba(robust, mnist.x_test / np.float32(255)).argmax(axis=1) == mnist.y_test
    assert card["test_accuracy"] == pytest.approx(right.mean(), abs=1e-4)
    assert card["test_errors"] == int((~right).sum()) and card["parameters"] == robust.count_params()
    assert card["epsilon"] == 0.3 and len(card["recipe"]["stages"]) == 2


def test_attack_compares_with_it_by_default_and_it_needs_a_far_larger_change():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.switch_page("app_pages/attack.py").run()
    assert not app.exception
    assert app.selectbox(key="attack_compare").value == ROBUST_MODEL
    smallest = {
        m.label: float(re.sub(r"[^0-9.]", "", m.value)) for m in app.metric if m.value.startswith(("ε", "over"))
    }
    assert smallest[as_text(ROBUST_MODEL)] >= 2 * smallest["Default CNN"], smallest  # labels are escaped Markdown


def test_explain_shows_its_gradients_beside_the_models():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.switch_page("app_pages/explain.py").run()
    assert not app.exception
    assert any("Beside a network trained on attacks" in m.value for m in app.markdown)
    assert any(m.value == "**Gradient saliency, robust CNN**" for m in app.markdown)
