"""Pages run headless under AppTest (the canvas itself is tested in test_browser.py)."""

import io
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT, chart_traces
from core.models import SHIPPED_MODELS, shipped_paths
from core.pictures.preprocess import to_mnist
from harness.photos import paste_digit

TIMEOUT = 60  # seconds per run: the first one loads TensorFlow and the model


@pytest.fixture
def app():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def test_draw_page_with_a_blank_canvas_shows_a_hint(app):
    assert app.title[0].value == "Draw a digit"
    assert "Draw a digit on the black square" in app.info[0].value
    assert app.metric[0].value == "–" and app.toggle[0].disabled  # the reading's layout, empty


def test_draw_page_reads_an_injected_drawing(app, mnist):
    index = int(np.flatnonzero(mnist.y_test == 7)[0])
    app.session_state["drawing"] = paste_digit(mnist.x_test[index], size=120, top=10, left=150)
    app.run()
    assert not app.exception
    assert app.metric[0].label == "Prediction"
    assert app.metric[0].value == "7"
    assert any('aria-label="Probability of each digit"' in html.proto.body for html in app.get("html"))


def test_draw_page_says_not_sure_for_a_cross(app):
    rows, cols = np.indices((280, 280))
    cross = ((abs(rows - cols) < 10) | (abs(rows + cols - 280) < 10)).astype(np.uint8) * 255  # an X is no digit
    app.session_state["drawing"] = cross
    app.run()
    assert not app.exception
    assert app.metric[0].label == "Prediction"
    assert app.warning[0].value.startswith("Not sure")


def test_draw_page_clears_the_reading_when_the_canvas_is_cleared(app, mnist):
    app.session_state["drawing"] = np.repeat(mnist.x_test[0][..., None], 4, axis=2)
    app.run()
    assert app.metric[0].value != "–"
    app.session_state["drawing"] = np.zeros((280, 280, 4), np.uint8)  # what a cleared canvas sends
    app.run()
    assert not app.exception and app.metric[0].value == "–"
    assert "Draw a digit" in app.info[0].value


def test_sidebar_names_the_active_model(app):
    assert app.sidebar.selectbox[0].label == "Model"
    assert any("parameters" in caption.value for caption in app.sidebar.caption)
    sections = ["Play", "Learn", "Inspect", "Stage"]
    assert [caption.value for caption in app.sidebar.caption if caption.value in sections] == sections


@pytest.fixture
def evaluate_page(app):
    app.switch_page("app_pages/evaluate.py")
    app.run()
    assert not app.exception
    return app


def test_evaluate_page_shows_the_matrix_and_the_most_confused_cell(evaluate_page, mnist, default_model):
    from core.metrics import cell_indices
    from core.models import predict_proba

    at = evaluate_page
    probabilities = predict_proba(default_model, mnist.x_test / np.float32(255))
    errors = int((probabilities.argmax(1) != mnist.y_test).sum())
    assert at.metric[0].label == "Test accuracy" and at.metric[1].value == f"{errors:,} of 10,000"
    true_digit, predicted_digit = at.selectbox(key="cell_true").value, at.selectbox(key="cell_predicted").value
    expected = cell_indices(mnist.y_test, probabilities, true_digit, predicted_digit)
    assert len(expected) > 0 and true_digit != predicted_digit  # starts on the worst confusion
    assert at.subheader[0].value.startswith(f"{len(expected):,} test digits that are {true_digit}")


def test_evaluate_page_gallery_follows_the_cell_selectors(evaluate_page, mnist, default_model):
    from core.metrics import cell_indices
    from core.models import predict_proba

    at = evaluate_page
    probabilities = predict_proba(default_model, mnist.x_test / np.float32(255))
    at.selectbox(key="cell_true").set_value(4)
    at.selectbox(key="cell_predicted").set_value(4)
    at.run()
    assert not at.exception
    expected = cell_indices(mnist.y_test, probabilities, 4, 4)
    assert at.subheader[0].value == f"{len(expected):,} test digits that are 4 and were read correctly"
    closer = at.selectbox(key="closer")
    assert closer.options[0].startswith(f"#{expected[0]} ")  # most confident first
    assert len(closer.options) == min(24, len(expected))


def test_evaluate_page_compares_two_models(evaluate_page):
    at = evaluate_page
    at.toggle(key="comparing").set_value(True)
    at.run()
    assert not at.exception
    compare = at.selectbox(key="compare")
    assert compare.value == "Baseline MLP"
    assert any("right, Baseline MLP wrong" in m.value for m in at.markdown)


def test_evaluate_page_for_the_baseline_model(app):
    app.sidebar.selectbox(key="model_choice").set_value("Baseline MLP")
    app.switch_page("app_pages/evaluate.py")
    app.run()
    assert not app.exception
    from core.models import load_model_card, shipped_paths

    assert app.metric[0].value == f"{load_model_card(shipped_paths('Baseline MLP')[1])['test_accuracy']:.2%}"


def test_explain_page_with_a_test_digit(app, mnist):
    app.switch_page("app_pages/explain.py")
    app.run()
    assert not app.exception
    assert app.title[0].value == "Explain"
    app.number_input(key="explain_index").set_value(1)
    app.run()
    assert not app.exception
    assert app.metric[0].value == str(mnist.y_test[1])
    titles = [m.value for m in app.markdown]
    for view in ("Gradient saliency", "SmoothGrad", "Integrated gradients", "Grad-CAM", "Occlusion"):
        assert f"**{view}**" in titles
    assert any("learned 3×3 filters" in t for t in titles)


def test_explain_page_with_an_injected_drawing_and_a_why_not_class(app, mnist):
    index = int(np.flatnonzero(mnist.y_test == 4)[0])
    app.session_state["drawing"] = paste_digit(mnist.x_test[index], size=150, top=60, left=40)
    app.switch_page("app_pages/explain.py")
    app.run()
    assert not app.exception
    assert app.metric[0].value == "4"
    app.selectbox(key="explain_class").set_value(9)  # "9: why not?"
    app.run()
    assert not app.exception


def test_explain_page_without_a_drawing_says_where_to_draw(app):
    app.switch_page("app_pages/explain.py")
    app.run()
    app.session_state["explain_source"] = "Your drawing"
    app.run()
    assert not app.exception
    assert "Draw a digit on the Draw page first" in app.info[0].value


def test_explain_page_for_an_mlp_offers_no_grad_cam(app):
    app.sidebar.selectbox(key="model_choice").set_value("Baseline MLP")
    app.switch_page("app_pages/explain.py")
    app.run()
    assert not app.exception
    assert any("Needs a conv layer" in i.value for i in app.info)
    assert any("each hidden unit's weights" in m.value for m in app.markdown)


def test_draw_page_why_toggle_shows_the_heatmap(app, mnist):
    app.session_state["drawing"] = paste_digit(mnist.x_test[0], size=200, top=40, left=40)
    app.run()
    app.toggle[0].set_value(True)
    app.run()
    assert not app.exception
    assert any("Red pixels pushed towards" in caption.value for caption in app.caption)


def test_evaluate_gallery_sends_a_digit_to_the_explain_page(evaluate_page):
    at = evaluate_page
    picked = at.selectbox(key="closer").value
    next(b for b in at.button if b.label.startswith("Why?")).click()
    at.run()
    assert not at.exception
    assert at.title[0].value == "Explain"
    assert at.number_input(key="explain_index").value == picked


def test_attack_page_fools_the_network_finds_the_smallest_change_and_explains_it(app):
    app.switch_page("app_pages/attack.py").run()
    assert not app.exception
    assert app.segmented_control(key="attack_source").value == "A test digit"  # nothing drawn yet
    assert "Fooled" in app.success[0].value  # test digit 0, a 7, at ε = 0.1 under PGD-20
    assert len(app.get("plotly_chart")) == 1  # the robustness curves
    next(b for b in app.button if b.label == "Smallest change that fools it").click().run()
    assert not app.exception
    assert 0 < app.slider(key="attack_eps").value < 0.1
    assert any("The smallest ε that fools it" in c.value for c in app.caption)
    assert "Fooled" in app.success[0].value
    app.selectbox(key="attack_target").set_value(3)
    app.slider(key="attack_eps").set_value(0.3).run()
    assert "into a 3" in app.success[0].value
    assert any(m.value.startswith("**The attacked picture: reads 3,") for m in app.markdown)  # beside the pictures
    next(b for b in app.button if b.label == "Explain the attacked picture").click().run()
    assert not app.exception
    assert app.title[0].value == "Explain"
    assert app.segmented_control(key="explain_source").value == "The attacked picture"
    assert app.metric[0].value == "3"


def test_attack_page_attacks_the_visitors_drawing_and_compares_two_models(app, mnist):
    index = int(np.flatnonzero(mnist.y_test == 4)[0])
    app.session_state["drawing"] = paste_digit(mnist.x_test[index], size=150, top=60, left=40)
    app.switch_page("app_pages/attack.py").run()
    assert not app.exception
    assert app.segmented_control(key="attack_source").value == "Your drawing"
    assert any(m.value.startswith("**Before: reads 4") for m in app.markdown)
    app.segmented_control(key="attack_method").set_value("FGSM")
    app.slider(key="attack_eps").set_value(0.0).run()
    assert "Not fooled" in app.info[0].value
    app.selectbox(key="attack_compare").set_value("Baseline MLP").run()
    assert not app.exception
    assert {"Default CNN · PGD-10", "Baseline MLP · PGD-10"} <= set(chart_traces(app.get("plotly_chart")[0]))


def test_teach_page_learns_injected_symbols_and_reads_a_new_one(app):
    from core.pictures.preprocess import to_mnist
    from core.symbols import Examples
    from harness.symbols import drawings

    canvases, names = drawings(["+", "×", "○"], 4, seed=5)
    examples = Examples()
    for canvas, name in zip(canvases, names, strict=True):
        examples.add(name, to_mnist(canvas))
    app.session_state["symbol_examples"] = examples
    app.switch_page("app_pages/teach.py").run()
    assert not app.exception
    app.text_input(key="symbol_names").set_value("+, ×, ○").run()
    learn = next(b for b in app.button if b.label == "Learn")
    assert not learn.disabled
    learn.click().run()
    assert not app.exception
    assert any("Learnt in" in c.value for c in app.caption)
    assert app.session_state["symbol_classifier"].classes == ["+", "×", "○"]
    app.text_input(key="symbol_names").set_value("+, +").run()
    assert "same name" in app.warning[0].value
    assert next(b for b in app.button if b.label == "Learn").disabled


def test_teach_page_fine_tunes_on_injected_handwriting(app, mnist):
    from core.symbols import Examples

    mine = Examples()
    for index in range(6):
        mine.add(str(mnist.y_test[index]), mnist.x_test[index] / np.float32(255))
    app.session_state["handwriting"] = mine
    app.switch_page("app_pages/teach.py").run()
    assert not app.exception
    next(b for b in app.button if b.label == "Fine-tune on my drawings").click().run()
    assert not app.exception
    assert "Added personal 1" in app.success[0].value
    assert any(m.label == "MNIST test digits read right" for m in app.metric)
    assert app.sidebar.selectbox(key="model_choice").options[-1].startswith("personal 1 · Default CNN")


def test_remember_page_runs_a_method_to_the_end_and_lists_it(app):
    import time

    app.switch_page("app_pages/remember.py").run()
    assert not app.exception
    assert "Run a method" in app.info[0].value
    app.segmented_control(key="continual_method").set_value("ewc").run()
    assert any("Fisher information" in c.value for c in app.caption)
    next(b for b in app.button if b.label == "Run").click().run()
    job = app.session_state["continual_job"]
    deadline = time.monotonic() + 120
    while job.running and time.monotonic() < deadline:
        time.sleep(0.5)
    app.run()
    assert not app.exception and job.error is None
    assert job.result.tasks_done == 5
    rows = app.dataframe[0].value
    assert list(rows["run"]) == ["EWC λ 1e+05 · Which digit?"] and rows["average accuracy"][0] < 0.3
    assert len(app.get("plotly_chart")) == 3  # the matrix, the tasks' curves, the runs compared


def test_trust_page_slices_calibration_and_stress_test(app):
    at = app
    at.switch_page("app_pages/trust.py").run()
    assert not at.exception
    assert any("The worst slice" in m.value for m in at.markdown)
    labels = [m.label for m in at.metric]
    assert "Calibration error (ECE)" in labels and "Temperature" in labels
    before = next(m for m in at.metric if m.label == "Calibration error (ECE)").value
    after = next(m for m in at.metric if m.label == "After temperature scaling").value
    assert float(after.rstrip("%")) < float(before.rstrip("%"))
    at.segmented_control(key="slice_attribute").set_value("thickness").run()
    assert not at.exception
    gallery = next(m.value for m in at.markdown if m.value.endswith(" read wrong**"))
    assert gallery.startswith(("**thinnest", "**thin", "**thick"))  # one of thickness's quarters
    assert not any("Baseline MLP" in str(name) for chart in at.get("plotly_chart") for name in chart_traces(chart))
    assert not any(b.label == "Run the stress test" for b in at.button)  # prepared ahead: shown at once
    assert any("Prepared ahead" in caption.value for caption in at.caption)
    at.selectbox(key="stress_compare").set_value("Baseline MLP").run()
    assert not at.exception
    assert any("Baseline MLP" in str(name) for chart in at.get("plotly_chart") for name in chart_traces(chart))


def test_draw_page_says_how_sure_after_temperature_scaling(app, mnist, default_model):
    import ui
    from core.calibration import with_temperature
    from core.models import predict_proba
    from core.pictures.preprocess import to_mnist

    test = predict_proba(default_model, mnist.x_test[:2000] / np.float32(255)).max(axis=1)
    unsure = int(np.flatnonzero((test > 0.55) & (test < 0.9))[0])  # a digit the network hesitates over
    drawing = paste_digit(mnist.x_test[unsure], size=200, top=40, left=40)
    app.session_state["drawing"] = drawing
    app.run()
    raw = predict_proba(default_model, to_mnist(drawing)[None])
    calibrated = with_temperature(raw, ui.temperature("Default CNN"))
    assert app.metric[0].proto.delta == f"{calibrated.max():.0%} sure"
    assert ui.temperature("Default CNN") < 1  # the default model is under-confident: its temperature sharpens


def test_train_page_trains_a_tiny_config_into_the_registry_and_sidebar(app, mnist):
    import time

    app.query_params.update({"architecture": "mlp", "dense_units": "32", "epochs": "2", "train_size": "5000"})
    app.switch_page("app_pages/train.py")
    app.run()
    assert not app.exception
    next(b for b in app.button if b.label == "Train").click()
    app.run()
    deadline = time.monotonic() + 90
    while app.session_state["job"].running and time.monotonic() < deadline:
        time.sleep(0.5)
    app.run()  # the live fragment sees the finished run and files it
    app.run()
    assert not app.exception
    runs = app.session_state["registry"].runs
    assert len(runs) == 1 and runs[0].name.startswith("run 1 · mlp · adam")
    assert runs[0].result.test_accuracy > 0.7  # chance is 0.1
    assert runs[0].name in app.sidebar.selectbox(key="model_choice").options
    assert app.dataframe[0].value["name"].tolist() == [runs[0].name]  # the runs table
    app.sidebar.selectbox(key="model_choice").set_value(runs[0].name)
    app.switch_page("app_pages/draw.py")
    app.session_state["drawing"] = paste_digit(
        mnist.x_test[int(np.flatnonzero(mnist.y_test == 7)[0])], size=200, top=40, left=40
    )
    app.run()
    assert not app.exception and app.metric[0].label == "Prediction"


HOSTILE_LINKS = {
    "markdown injection": {
        "architecture": "x'). **Your session expired.** [Log in again](https://evil.example/login)"
        " ![](http://127.0.0.1:9/track.png) :red[alert] $x^2$ <b>bold</b>"
    },
    "infinite epochs": {"epochs": "inf"},
    "seed beyond a float": {"seed": "1e400"},
    "rate between stops": {"learning_rate": "0.005"},
    "maximal network": {
        "architecture": "deep_cnn",
        "conv_blocks": "3",
        "filters": "128",
        "dense_units": "1024",
        "batch_size": "2048",
        "epochs": "50",
        "augment": "true",
    },
}


@pytest.mark.parametrize("name", list(HOSTILE_LINKS))
def test_a_hostile_link_gives_a_working_train_page_with_plain_notices(app, name):
    app.query_params.update(HOSTILE_LINKS[name])
    app.switch_page("app_pages/train.py")
    app.run()
    assert not app.exception and not app.error  # no apology
    assert app.warning, "the link's change is explained"
    for warning in app.warning:
        unescaped = re.sub(r"\\.", "", warning.value)  # what Markdown would still read as markup
        for markup in ("*", "](", "![", "[", "<", "$", ":red"):
            assert markup not in unescaped
    app.run()  # and it stays usable: a second run (any widget change) works too
    assert not app.exception and not app.error
    assert next(b for b in app.button if b.label == "Train").disabled is False


def test_a_link_between_stops_shows_the_nearest_stop(app):
    app.query_params.update({"learning_rate": "0.005"})
    app.switch_page("app_pages/train.py").run()
    assert app.session_state["train_config"].learning_rate == 0.003
    assert "nearest, 0.003" in re.sub(r"\\(.)", r"\1", app.warning[0].value)  # as the visitor reads it


def test_renaming_trims_once_and_keeps_the_model_in_use_selected(app):
    upload_model(app, "mine.keras", shipped_paths("Baseline MLP")[0].read_bytes())
    app.switch_page("app_pages/train.py").run()
    field = app.text_input(key="name_1")
    field.input("  my model  ").run()
    assert not app.exception
    assert app.text_input(key="name_1").value == "my model"
    assert app.session_state["registry"].runs[0].name == "my model"
    assert app.sidebar.selectbox(key="model_choice").value == "my model"  # still the model in use
    app.run()
    assert app.text_input(key="name_1").value == "my model"


def photo_of(digit: np.ndarray) -> bytes:
    """A JPEG of a dark digit on grey, grainy paper."""
    rng = np.random.default_rng(0)
    ink = paste_digit(digit, size=200, top=50, left=60, canvas=320)[..., 0] / 255.0
    paper = np.clip((200 + rng.normal(0, 5, ink.shape)) * (1 - 0.8 * ink), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(paper).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def test_draw_page_reads_an_uploaded_photo_and_explain_uses_it(app, mnist):
    index = int(np.flatnonzero(mnist.y_test == 4)[0])
    app.segmented_control(key="input").set_value("Upload a photo").run()
    assert "Upload a picture" in app.info[0].value
    app.get("file_uploader")[0].upload("four.jpg", photo_of(mnist.x_test[index]), "image/jpeg")
    app.run()
    assert not app.exception and not app.error
    assert app.metric[0].value == "4"
    app.switch_page("app_pages/explain.py").run()
    assert not app.exception
    assert app.segmented_control(key="explain_source").value == "Your drawing"
    assert app.metric[0].value == "4"


def test_draw_page_refuses_a_renamed_pdf_with_a_reason(app):
    app.segmented_control(key="input").set_value("Upload a photo").run()
    app.get("file_uploader")[0].upload("digit.png", b"%PDF-1.7\n1 0 obj", "image/png")
    app.run()
    assert not app.exception
    assert "PDF" in app.error[0].value
    assert app.metric[0].value == "–"


def new_session() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    return at


def finish(app: AppTest, key: str, *, seconds: float = 180) -> None:
    """Wait for the run a page started (st.session_state[key]) to end, then let its page file the result."""
    import time

    deadline = time.monotonic() + seconds
    while app.session_state[key].running and time.monotonic() < deadline:
        time.sleep(0.5)
    app.run()  # the run's fragment sees it has ended and files it
    app.run()
    assert not app.exception


def upload_model(at: AppTest, name: str, data: bytes) -> None:
    uploader = next(u for u in at.get("file_uploader") if u.label.startswith("A .keras file"))  # its key changes
    uploader.upload(name, data, "application/octet-stream")
    at.run()


def test_an_uploaded_model_joins_this_visitors_models_and_becomes_active(app):
    upload_model(app, "my_mlp.keras", shipped_paths("Baseline MLP")[0].read_bytes())
    assert not app.exception
    picker = app.sidebar.selectbox(key="model_choice")
    assert picker.value == "upload 1 · my_mlp · 98.2%" and picker.value in picker.options
    assert "Added upload 1" in app.sidebar.success[0].value
    assert any("98.15% on the 10,000 MNIST test digits" in caption.value for caption in app.sidebar.caption)
    app.switch_page("app_pages/train.py").run()
    assert app.dataframe[0].value["name"].tolist() == ["upload 1 · my_mlp · 98.2%"]


def test_a_file_that_is_not_a_model_is_refused_in_the_sidebar(app):
    upload_model(app, "notes.keras", b"these are my notes")
    assert not app.exception
    assert "not a .keras file" in app.sidebar.error[0].value
    assert app.sidebar.selectbox(key="model_choice").options == list(SHIPPED_MODELS)


def test_two_visitors_at_once_never_see_each_others_models_drawings_or_training(mnist):
    import time

    alice, bob = new_session(), new_session()
    alice.session_state["drawing"] = paste_digit(mnist.x_test[0], size=200, top=40, left=40)  # a 7
    upload_model(alice, "alice.keras", shipped_paths("Baseline MLP")[0].read_bytes())
    alice.query_params.update({"architecture": "mlp", "dense_units": "32", "epochs": "2", "train_size": "5000"})
    alice.switch_page("app_pages/train.py").run()
    next(b for b in alice.button if b.label == "Train").click()
    alice.run()
    assert alice.session_state["job"].running

    for page in ("app_pages/draw.py", "app_pages/train.py", "app_pages/explain.py"):  # while Alice trains
        bob.switch_page(page).run()
        assert not bob.exception
        assert bob.sidebar.selectbox(key="model_choice").options == list(SHIPPED_MODELS)
    assert "job" not in bob.session_state and not bob.get("progress")
    bob.switch_page("app_pages/draw.py").run()
    assert bob.metric[0].value == "–" and "Draw a digit on the black square" in bob.info[0].value

    deadline = time.monotonic() + 90
    while alice.session_state["job"].running and time.monotonic() < deadline:
        time.sleep(0.5)
    alice.run()
    alice.run()
    assert len(alice.session_state["registry"].runs) == 2  # her upload and her run
    bob.switch_page("app_pages/train.py").run()
    assert bob.sidebar.selectbox(key="model_choice").options == list(SHIPPED_MODELS)
    assert "registry" not in bob.session_state or not bob.session_state["registry"].runs


def test_an_error_in_a_page_shows_a_friendly_message_not_a_traceback(app):
    app.session_state["drawing"] = np.zeros(7, np.uint8)  # no picture has this shape
    app.run()
    assert not app.exception
    assert app.error[0].value.startswith("Sorry, something went wrong here")
    assert app.sidebar.selectbox(key="model_choice").value == "Default CNN"  # the frame still works


def test_without_data_the_pages_say_how_to_fix_it(app, monkeypatch, tmp_path):
    import keras

    import core.pictures.data
    import ui

    def offline():
        raise OSError("no network")  # what a download on this machine meets

    monkeypatch.setattr(core.pictures.data.load_mnist, "__defaults__", (tmp_path / "missing.npz",))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    ui.mnist.clear()
    try:
        for page in ("app_pages/evaluate.py", "app_pages/explain.py"):
            app.switch_page(page).run()
            assert not app.exception
            assert "Copy mnist.npz into the assets/ folder" in app.error[0].value
    finally:
        ui.mnist.clear()


def test_about_page_shows_versions_model_cards_credit_and_limits(app):
    app.switch_page("app_pages/about.py").run()
    assert not app.exception
    versions = app.dataframe[0].value
    assert {"python", "streamlit", "keras", "numpy"} <= set(versions["package"])
    assert [e.label.split(":")[0] for e in app.main.expander] == ["Default CNN", "Baseline MLP", "Robust CNN, ε 0.3"]
    assert "99.59%" in app.main.expander[0].label
    assert any("CC BY-SA 3.0" in m.value for m in app.markdown)
    assert "DIGITLAB_MAX_MODELS" in app.dataframe[1].value["variable"].tolist()


def test_a_script_run_leaves_keras_alone(app):
    """Streamlit would call keras.backend.clear_session() after every run; app.py turns that off."""
    from keras.src.backend.common import global_state

    tracker = global_state.GLOBAL_STATE_TRACKER
    app.run()
    assert not app.exception
    assert global_state.GLOBAL_STATE_TRACKER is tracker


def finish_compression(at: AppTest, seconds: float = 240) -> None:
    """Wait for this visitor's compression run (and the measuring it starts) to end, rerunning like the fragment."""
    import time

    deadline = time.monotonic() + seconds
    while pending := at.session_state["compress_pending"] if "compress_pending" in at.session_state else None:
        assert time.monotonic() < deadline, "the compression run did not end"
        while pending.job.running:
            time.sleep(0.5)
        at.run()
        assert not at.exception


def test_compress_page_quantizes_and_the_int8_model_reads_a_drawing_on_the_draw_page(app, mnist):
    app.switch_page("app_pages/compress.py").run()
    assert not app.exception
    assert "Quantize, prune or distil" in app.info[0].value
    next(b for b in app.button if b.label == "Quantize").click().run()
    finish_compression(app)
    rows = app.dataframe[0].value
    assert list(rows["format"]) == ["float32", "float16", "dynamic", "int8"]
    assert rows["size (KB)"][3] < 0.3 * rows["size (KB)"][0]
    assert abs(rows["test accuracy (%)"][3] - rows["test accuracy (%)"][0]) <= 0.1
    next(b for b in app.button if b.label == "Draw with it").click().run()
    assert not app.exception and app.title[0].value == "Draw a digit"
    assert app.session_state["model_choice"].startswith("tflite int8")
    index = int(np.flatnonzero(mnist.y_test == 3)[0])
    app.session_state["drawing"] = paste_digit(mnist.x_test[index], size=120, top=40, left=60)
    app.switch_page("app_pages/draw.py").run()  # AppTest reruns the page it last switched to
    assert app.metric[0].value == "3" and app.toggle[0].disabled  # no gradients for "Why?" in a .tflite file
    app.switch_page("app_pages/explain.py").run()
    assert not app.exception and "TensorFlow Lite file" in app.info[0].value
    for page in ("evaluate", "trust", "attack", "teach", "train", "remember", "compress", "room", "about"):
        app.switch_page(f"app_pages/{page}.py").run()  # every page works, or says why not, with the .tflite model
        assert not app.exception and not [e for e in app.error if "went wrong" in e.value], page


def test_compress_page_prunes_and_distils_into_new_sidebar_models(app):
    app.switch_page("app_pages/compress.py").run()
    app.selectbox(key="compress_source").set_value("Baseline MLP").run()
    app.select_slider[0].set_value(0.5).run()
    next(b for b in app.button if b.label == "Prune").click().run()
    finish_compression(app)
    app.selectbox[1].set_value("Small MLP · 60,000 digits").run()
    next(b for b in app.button if b.label.startswith("Distil from Baseline MLP")).click().run()
    finish_compression(app)
    runs = [run.name for run in app.session_state["registry"].runs]
    assert runs[0].startswith("pruned 1 · Baseline MLP 50%") and "distilled from Baseline MLP" in runs[1]
    rows = app.dataframe[0].value
    assert list(rows["model"]) == [runs[0], runs[0], runs[1], runs[1]]
    assert list(rows["format"]) == ["float32", "int8"] * 2
    assert abs(rows["zero weights (%)"][0] - 50) < 1 and rows["test accuracy (%)"][0] > 95
    assert rows["test accuracy (%)"][2] > 90  # the distilled student
    assert any(b.label.startswith("Download") and ".keras" in b.label for b in app.get("download_button"))


def test_a_shared_drawing_reaches_the_room_page_and_its_owner_can_take_it_back(app, mnist, monkeypatch):
    import ui.stage

    ui.stage.room().clear()
    index = int(np.flatnonzero(mnist.y_test == 4)[0])
    app.session_state["drawing"] = paste_digit(mnist.x_test[index], size=120, top=40, left=60)
    app.run()
    assert app.selectbox(key="room_meant").value == 4
    next(b for b in app.button if b.label == "Share with the room").click().run()
    assert not app.exception
    next(b for b in app.button if b.label == "Share with the room").click().run()  # too soon: a note, not a share
    assert any("wait" in toast.value for toast in app.toast)
    app.switch_page("app_pages/room.py").run()
    assert not app.exception
    assert app.metric[0].value == "1" and app.metric[1].value == "100%"
    assert "read 4, meant 4" in app.get("html")[0].proto.body
    assert not app.get("plotly_chart")  # one drawing: no grid of zeros, a sentence instead
    assert any("fills in once 10 drawings" in caption.value for caption in app.caption)
    other = new_session()
    other.switch_page("app_pages/room.py").run()
    assert other.metric[0].value == "1" and not [b for b in other.button if b.label.startswith("Take back")]
    monkeypatch.setattr(ui.stage, "PRESENTER_KEY", "")
    other.text_input[0].set_value("anything").run()  # no key set on this server: nobody is the presenter
    assert "not the presenter key" in other.error[0].value
    next(b for b in app.button if b.label.startswith("Take back #")).click().run()
    assert app.metric[0].value == "0"


def test_a_run_past_the_servers_cap_waits_in_line_and_can_leave_it(app, monkeypatch):
    from core.runs import line as line_module
    from core.runs.job import Job
    from core.runs.line import Line

    line = Line(1)
    line._running.append(Job(print, (), memory_mb=0, expected_seconds=120))  # a server busy for 2 minutes
    monkeypatch.setattr(line_module, "LINE", line)
    app.query_params.update({"architecture": "mlp", "dense_units": "32", "epochs": "1", "train_size": "1000"})
    app.switch_page("app_pages/train.py").run()
    next(b for b in app.button if b.label == "Train").click().run()
    assert not app.exception and app.session_state["job"].waiting
    place = next(i.value for i in app.info if "in line" in i.value)
    assert "number 1 in line" in place and "start in about 2 min" in place
    next(b for b in app.button if b.label == "Leave the line").click().run()
    app.run()
    assert not app.session_state["job"].running
    assert any("left the line" in e.value for e in app.error)


def test_data_page_votes_on_suspects_and_trains_on_the_cleaned_digits(app, mnist):

    from core import data_quality

    app.switch_page("app_pages/data.py").run()
    assert not app.exception and app.title[0].value == "The data is the program"
    first = data_quality.suspects("test")[0]
    vote = app.segmented_control(key=f"vote_test_{first}")
    assert str(mnist.y_test[first]) in vote.options
    vote.set_value("network").run()
    assert "You judged 1: 1 labels wrong" in app.success[0].value
    app.segmented_control[1].set_value("train").run()  # the training digits: a vote there is a correction
    second = data_quality.suspects("train")[1]
    app.segmented_control(key=f"vote_train_{second}").set_value("Neither").run()
    app.segmented_control[0].set_value("cleaning").run()
    assert not app.exception
    assert app.metric[0].label == "Test accuracy, digits as they are"  # prepared ahead
    assert app.toggle[0].label.startswith("With my 1 corrections") and app.toggle[0].value
    app.select_slider[0].set_value(100).run()
    next(b for b in app.button if b.label == "Train on the cleaned digits").click().run()
    assert not app.exception
    finish(app, "data_job")
    run = app.session_state["registry"].runs[-1]
    assert "100 suspects left out · 1 labels corrected" in run.name
    assert app.metric[1].label == "Cleaned" and run.name in app.sidebar.selectbox(key="model_choice").options


def test_data_page_engine_tunes_on_the_rooms_drawings_and_a_visitors_correction(app):
    import ui.stage
    from harness.symbols import LEFT_LEANING, drawings

    ui.stage.room().clear()
    canvases, names = drawings([str(digit) for digit in range(10)], 2, seed=31, style=LEFT_LEANING)
    for number, (canvas, name) in enumerate(zip(canvases, names, strict=True)):
        image = (to_mnist(canvas) * 255).astype(np.uint8)
        ui.stage.room().share(f"visitor {number}", image, meant=int(name), read=0, confidence=0.5)
    app.query_params["part"] = "engine"
    app.switch_page("app_pages/data.py").run()
    assert not app.exception
    assert any("20 drawings" in caption.value for caption in app.caption)
    next(b for b in app.button if b.label == "Run the engine").click().run()
    assert not app.exception
    assert "Added engine 1 · Default CNN" in app.success[0].value
    assert app.metric[0].label == "MNIST test digits read right" and "the digit that lost most" in app.metric[1].label
    senders = app.dataframe[0].value  # by sender: half of what was not flagged is held out
    assert senders["drawings"].sum() == 20 and senders["held out"].sum() == (20 - senders["flagged"].sum()) // 2
    ui.stage.room().clear()
    app.switch_page("app_pages/data.py").run()  # an empty wall: the engine says where drawings come from
    assert any("needs 10 drawings or more" in info.value for info in app.info)


def test_draw_page_keeps_a_misread_drawing_for_the_data_engine(app, mnist):
    index = int(np.flatnonzero(mnist.y_test == 4)[0])
    app.session_state["drawing"] = paste_digit(mnist.x_test[index], size=120, top=40, left=60)
    app.run()
    app.selectbox(key="room_meant").set_value(9).run()
    next(b for b in app.button if b.label.startswith("No, it's a 9")).click().run()
    assert not app.exception
    kept = app.session_state["corrected_drawings"]
    assert len(kept) == 1 and kept[0][1] == 9 and kept[0][0].shape == (28, 28)


def test_privacy_page_trains_privately_and_shows_what_it_spent(app, monkeypatch):
    import dataclasses

    from core.training import config as training_config

    tiny = dataclasses.replace(training_config.PRESETS["private"], epochs=1, train_size=5_000)
    monkeypatch.setitem(training_config.PRESETS, "private", tiny)  # the page's run, made short for the test
    app.switch_page("app_pages/privacy.py").run()
    assert not app.exception and app.title[0].value == "Privacy"
    assert app.get("plotly_chart")  # accuracy against ε, shipped
    app.select_slider[0].set_value(8.0).run()
    next(b for b in app.button if b.label == "Train privately").click().run()
    finish(app, "privacy_job")
    run = app.session_state["registry"].runs[-1]
    assert "private ε 8" in run.name and run.result.privacy.epsilon <= 8.0
    assert [m.label for m in app.metric] == ["Test accuracy", "ε spent", "Noise multiplier"]
    assert app.metric[1].value == f"{run.result.privacy.epsilon:.2f}"
    stars = chart_traces(app.get("plotly_chart")[0])["your private runs"]
    assert stars["x"] == [pytest.approx(run.result.privacy.epsilon)]


def test_privacy_page_shows_the_attack_on_the_twins_and_plants_a_canary(app, mnist, monkeypatch):

    from core import membership

    monkeypatch.setattr(membership, "PASSES", 40)  # enough to learn 1,001 digits by heart; a quarter of the page's

    app.query_params["part"] = "leak"
    app.switch_page("app_pages/privacy.py").run()
    assert not app.exception
    traces = chart_traces(app.get("plotly_chart")[0])
    assert any(name.startswith("without privacy: AUC") for name in traces)
    assert app.metric[0].label == "Without privacy: the attack's AUC"
    app.segmented_control[0].set_value("canary").run()
    app.session_state["drawing"] = paste_digit(mnist.x_test[0], size=120, top=40, left=60)  # a 7 from Draw
    app.run()
    app.segmented_control(key="canary_label").set_value(3).run()  # planted with a wrong label: easy to remember
    next(b for b in app.button if b.label == "Plant it and train both").click().run()
    assert not app.exception
    finish(app, "canary_job", seconds=300)
    without, private = app.session_state["canary_job"].result
    assert without.rank == 1 and without.loss < private.loss  # it knows the planted drawing best of its copies
    assert private.rank > 1 and private.epsilon < 10
    assert app.metric[0].value == "#1 of 100"


@pytest.mark.parametrize("architecture", ["resnet", "rnn", "transformer"])
def test_train_page_trains_each_new_architecture_briefly(app, architecture):

    app.query_params.update(
        {"architecture": architecture, "epochs": "1", "train_size": "1000", "dense_units": "32", "blocks": "1"}
    )
    app.switch_page("app_pages/train.py").run()
    assert not app.exception
    next(b for b in app.button if b.label == "Train").click().run()
    finish(app, "job")
    run = app.session_state["registry"].runs[-1]
    assert run.name.startswith(f"run 1 · {architecture}") and 0 <= run.test_accuracy <= 1  # 4 steps: barely begun
    app.sidebar.selectbox[0].set_value(run.name).run()  # the new network is the one every page now uses
    for page in ARCHITECTURE_PAGES:
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        assert not [e.value for e in app.error], page
    app.switch_page("app_pages/explain.py").run()
    titles = [m.value for m in app.markdown]
    assert ("**Attention rollout**" in titles) == (architecture == "transformer")
    assert ("**Grad-CAM**" in titles) == (architecture != "transformer")
    no_conv = any(i.value.startswith("Needs a conv layer") for i in app.info)  # said where Grad-CAM cannot be
    assert no_conv == (architecture == "rnn")


ARCHITECTURE_PAGES = [
    f"app_pages/{name}.py"
    for name in ("draw", "evaluate", "explain", "attack", "trust", "compress", "teach", "remember", "privacy", "scale")
]


def test_scale_page_shows_the_shipped_laws_and_places_a_live_point(app):
    from core import scale

    app.switch_page("app_pages/scale.py").run()
    assert not app.exception and app.title[0].value == "Scale"
    traces = chart_traces(app.get("plotly_chart")[0])
    fitted = next(name for name in traces if name.startswith("fitted: α"))
    assert app.metric[0].label == "Exponent α" and app.metric[0].value in fitted
    assert {"ResNet", "RNN", "Transformer"} <= set(traces["other architectures"]["text"])
    for part in ("digits", "flops"):
        app.segmented_control[0].set_value(part).run()
        assert not app.exception and any(n.startswith("fitted") for n in chart_traces(app.get("plotly_chart")[0]))
    app.segmented_control[1].set_value("loss").run()
    assert not app.exception
    app.segmented_control[0].set_value("parameters").run()
    app.select_slider[0].set_value(4)
    app.select_slider[1].set_value(500).run()
    next(b for b in app.button if b.label == "Train this point").click().run()
    finish(app, "scale_job")
    run = app.session_state["registry"].runs[-1]
    assert run.config == scale.config(4, 500)
    stars = chart_traces(app.get("plotly_chart")[0])["yours"]
    assert stars["x"] == [scale.position(run.config, "parameters")] and stars["text"] == [f"run {run.number}"]


def test_a_visitors_pages_are_made_once_and_still_lead_everywhere(app):
    pages = app.session_state["digitlab_once_pages_en"]  # st.Page objects: each resolves its file when made
    app.switch_page("app_pages/about.py").run()
    assert not app.exception and app.title[0].value == "About Digit Lab"
    assert app.session_state["digitlab_once_pages_en"] is pages  # not made again in this visitor's next run
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception and app.title[0].value == "Draw a digit"
