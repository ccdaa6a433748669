"""Results prepared ahead: every shipped model has them, they match a fresh computation, stale ones are not shown."""

import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from core import prepared
from core.models import SHIPPED_MODELS, kept_for_server, load_default_model, shipped_paths


@pytest.mark.parametrize("kind", list(prepared.KINDS))
@pytest.mark.parametrize("label", list(SHIPPED_MODELS))
def test_every_shipped_model_has_a_current_prepared_result(label, kind):
    result = prepared.load(kind, shipped_paths(label)[0])
    assert result is not None, f"run python -m scripts.prepare: {kind} of {label} is missing or stale"
    assert all(np.all((0 <= values) & (values <= 1)) for values in result.values())


def test_the_smallest_prepared_result_is_what_computing_it_now_gives(mnist):
    model_file = shipped_paths("Baseline MLP")[0]
    fresh = prepared.compute(kept_for_server(load_default_model(model_file)), "shift", *prepared.inputs("shift", mnist))
    shipped = prepared.load("shift", model_file)
    assert fresh.keys() == shipped.keys()
    for name in fresh:
        np.testing.assert_allclose(fresh[name], shipped[name], atol=0.002, err_msg=name)  # a digit in 1,000 at most


def test_prepared_test_answers_are_the_models_own_to_the_last_float(mnist):
    model_file = shipped_paths("Baseline MLP")[0]  # stored as compressed bytes, unlike the small results above
    fresh = prepared.compute(kept_for_server(load_default_model(model_file)), "test", *prepared.inputs("test", mnist))
    shipped = prepared.load("test", model_file)["probabilities"]
    assert shipped.shape == (10_000, 10) and shipped.dtype == np.float32 and not shipped.flags.writeable
    np.testing.assert_array_equal(shipped.argmax(axis=1), fresh["probabilities"].argmax(axis=1))
    np.testing.assert_allclose(shipped, fresh["probabilities"], atol=1e-5)


def test_a_result_whose_model_or_settings_changed_is_not_shown(tmp_path, monkeypatch):
    changed = tmp_path / "baseline_mlp.keras"  # the same name, other bytes: as after retraining
    shutil.copyfile(shipped_paths("Baseline MLP")[0], changed)
    with changed.open("ab") as file:
        file.write(b"\0")
    assert prepared.load("shift", changed) is None
    function, digits, settings = prepared.KINDS["robustness"]
    monkeypatch.setitem(prepared.KINDS, "robustness", (function, digits // 2, settings))
    assert prepared.load("robustness", shipped_paths("Baseline MLP")[0]) is None


def test_the_attack_page_shows_prepared_curves_at_once_and_runs_them_live_on_request():
    # Run live: 1,000 test digits attacked at every ε for two models, about 65 s alone and past 120 s beside the
    # other test process (a CI run): the run's limit is for a hang, not a measure of speed (bench/adversarial.py).
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    app.switch_page("app_pages/attack.py").run()
    assert not app.exception
    assert any("Prepared ahead" in caption.value for caption in app.caption)
    app.button(key="live_robustness").click().run()
    assert not app.exception
    assert not any("Prepared ahead" in caption.value for caption in app.caption)


def test_remember_opens_on_fine_tunings_forgetting_prepared_ahead_and_other_settings_are_not_prepared():
    from core.continual import METHODS, ContinualConfig, reference

    for method in METHODS:  # every method's defaults: the page answers at once whichever is chosen
        assert reference(ContinualConfig(method=method)) is not None, method
    forgetting = reference(ContinualConfig(method="finetune"))
    assert forgetting.tasks_done == 5 and forgetting.forgetting > 0.5  # the problem, before the remedy
    assert reference(ContinualConfig(method="replay", buffer_per_class=10)) is None  # not what was prepared
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.switch_page("app_pages/remember.py").run()
    assert not app.exception
    assert app.segmented_control(key="continual_method").value == "finetune"
    assert any("Prepared ahead" in caption.value for caption in app.caption)
    assert len(app.get("plotly_chart")) == 2  # the matrix and the curves, before any run


def test_the_train_page_shows_the_prepared_quick_run_before_a_visitors_first():
    from core.training import reference

    prepared = reference.load()
    assert prepared is not None, "run python -m scripts.prepare: the Quick preset's reference run is missing or stale"
    assert prepared.test_accuracy > 0.98 and len(prepared.history["validation"]) == reference.CONFIG.epochs
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("app_pages/train.py").run()
    shown = [m.value for m in app.markdown if m.value.startswith("**Prepared ahead")]
    assert len(shown) == 1 and f"{prepared.test_accuracy:.2%}" in shown[0]
    assert any("<svg" in m.value for m in app.markdown)  # its curves
