"""The Labels page under AppTest, with the shipped encoder: the curve, the map, and a visitor who labels digits and
trains on them through the runner."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, chart_traces

pytestmark = pytest.mark.skipif(
    not (ROOT / "assets" / "encoder.keras").exists(), reason="the encoder is made by scripts/pretrain.py"
)
SWEEP = pytest.mark.skipif(
    not (ROOT / "assets" / "labels_sweep.json").exists(), reason="made by scripts/labels_sweep.py"
)


def labels_page(query: dict) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.switch_page("app_pages/labels.py")
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception and not app.error
    return app


@SWEEP
def test_the_curve_shows_each_method_against_the_number_of_labels():
    app = labels_page({"part": "curve"})
    traces = chart_traces(app.get("plotly_chart")[0])
    assert {"From scratch, labelled digits only", "Encoder, linear read-out"} <= set(traces)
    spread = traces["Encoder, labels spread to the unlabelled digits"]
    assert spread["x"] == [10, 100, 1000] and all(0.1 < y <= 1 for y in spread["y"])
    assert traces["Encoder, then FixMatch on the unlabelled digits"]["x"] == [100, 1000]


@SWEEP
def test_the_map_colours_the_test_digits_by_the_digit_the_encoder_never_saw():
    app = labels_page({"part": "map"})
    traces = chart_traces(app.get("plotly_chart")[0])
    assert sorted(traces) == [str(digit) for digit in range(10)]
    assert sum(len(trace["x"]) for trace in traces.values()) == 2000


def test_a_visitor_labels_twenty_digits_trains_on_them_and_gets_a_model(mnist):
    app = labels_page({"part": "yourself"})
    boxes = [box for box in app.selectbox if box.key and box.key.startswith("label_typical_0_")]
    assert len(boxes) == 20
    train = next(button for button in app.button if button.label == "Train on my labels")
    assert train.disabled  # nothing labelled yet: nothing to train on
    for box in boxes:
        box.set_value(int(mnist.y_train[int(box.key.rsplit("_", 1)[1])]))
    app.selectbox(key="labels_method").set_value("linear")
    app.run()
    assert "20 of 20 labelled" in " ".join(caption.value for caption in app.caption)
    next(button for button in app.button if button.label == "Train on my labels").click().run()
    deadline = time.monotonic() + 180
    while app.session_state["labels_job"].running and time.monotonic() < deadline:
        time.sleep(1)
    app.run()
    assert not app.exception and not app.error
    labels, accuracy, method = app.session_state["labels_runs"][-1]
    assert (labels, method) == (20, "linear") and accuracy > 0.5  # 20 typical digits, named right, read well
    assert any("20 labels" in run.name for run in app.session_state["registry"].runs)


def test_phones_label_the_rooms_digits_together_and_only_the_presenter_may_train_on_them(mnist):
    import ui.labels

    phones = [labels_page({"part": "yourself", "with": "room"}) for _phone in range(3)]
    ui.labels.room_votes().clear()
    for number, app in enumerate(phones):
        boxes = [box for box in app.selectbox if box.key and box.key.startswith("room_label_")]
        assert len(boxes) == 20
        digit = int(boxes[0].key.rsplit("_", 1)[1])
        boxes[0].set_value(int(mnist.y_train[digit]) if number < 2 else (int(mnist.y_train[digit]) + 1) % 10)
        app.run()
        assert not app.exception and not app.error
    words = " ".join(markdown.value for markdown in phones[-1].markdown)
    assert "from 3 phones" in words and f"{int(mnist.y_train[digit])} · ?" in words  # two of three agree
    assert not any(button.label == "Train on the room's labels" for button in phones[-1].button)
    phones[0].session_state["presenter_proven"] = True
    phones[0].run()
    assert any(button.label == "Train on the room's labels" for button in phones[0].button)
