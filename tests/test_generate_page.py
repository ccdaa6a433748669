"""The Generate page under AppTest, with the shipped generators: each part, a visitor's drawing, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from harness.photos import paste_digit

pytestmark = pytest.mark.skipif(
    not (ROOT / "assets" / "generator.keras").exists(), reason="the generator is made by scripts/train_generator.py"
)


def generate_page(query: dict, drawing: np.ndarray | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    if drawing is not None:
        app.session_state["drawing"] = drawing
    app.switch_page("app_pages/generate.py")
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception and not app.error
    return app


def test_draw_me_a_digit_shows_sixteen_samples_the_denoising_and_what_the_model_reads():
    app = generate_page({"part": "draw"})
    galleries = app.get("image")
    readings = [image.caption for image in galleries[0].proto.imgs]
    assert len(readings) == 16 and all(text.startswith("reads ") for text in readings)
    assert sum(text == "reads 3" for text in readings) >= 12  # the default digit, read as asked
    assert len(galleries) >= 4  # the samples and three denoising strips
    app.selectbox(key="generate_digit").set_value(7)
    app.run()
    readings = [image.caption for image in app.get("image")[0].proto.imgs]
    assert sum(text == "reads 7" for text in readings) >= 12


def test_finish_keeps_half_of_the_draw_pages_drawing_and_draws_the_rest(mnist):
    index = int(np.flatnonzero(mnist.y_test == 2)[0])
    app = generate_page({"part": "finish"}, paste_digit(mnist.x_test[index], size=150, top=60, left=60))
    app.session_state["finish_source"] = "draw"
    app.run()
    assert not app.exception and not app.error
    completions = app.get("image")[-1].proto.imgs
    assert len(completions) == 4 and all(image.caption.startswith("reads ") for image in completions)


def test_finish_without_a_drawing_says_where_to_draw_and_computes_nothing():
    app = generate_page({"part": "finish"})
    app.session_state["finish_source"] = "draw"
    app.run()
    assert any("Draw a digit on the Draw page first" in info.value for info in app.info)
    assert not app.get("image")


def test_turn_carries_a_drawing_toward_another_digit(mnist):
    index = int(np.flatnonzero(mnist.y_test == 3)[0])
    app = generate_page({"part": "turn"}, paste_digit(mnist.x_test[index], size=150, top=60, left=60))
    app.session_state["turn_source"] = "draw"
    app.selectbox(key="generate_digit").set_value(8)
    app.run()
    assert not app.exception and not app.error
    shown = app.get("image")[-1].proto.imgs
    assert len(shown) == 6 and shown[0].caption == "yours"


def test_did_it_copy_and_the_map(mnist):
    app = generate_page({"part": "copy"})
    assert app.metric[0].label == "Near-copies among these samples" and app.metric[0].value.endswith("/ 16")
    app = generate_page({"part": "map"}, paste_digit(mnist.x_test[0], size=150, top=60, left=60))
    assert any("red ring" in caption.value for caption in app.main.get("caption"))
