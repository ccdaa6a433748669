"""Scale: the law's fit, its exponent's interval, the shipped sweep's trends, one shipped point re-run for real, and
a Transformer's attention rollout."""

import numpy as np
import pytest

from core import scale
from core.architectures import build_transformer
from core.explain import attention_rollout, explain
from core.models import model_bytes, model_from_bytes, predict_proba
from core.training.loop import train

SIZES = np.array([450, 900, 4_500, 9_000, 27_000, 54_000], dtype=float)


def test_fit_recovers_a_law_with_a_floor():
    law = scale.fit(SIZES, 2.0 * SIZES**-0.6 + 0.006)
    assert law.alpha == pytest.approx(0.6, abs=0.01)
    assert law.c == pytest.approx(0.006, abs=3e-4) and law.a == pytest.approx(2.0, rel=0.05)


def test_without_a_floor_the_fit_is_a_pure_power_law():
    law = scale.fit(SIZES, 3.0 * SIZES**-0.4, floor=False)
    assert law.c == 0 and law.alpha == pytest.approx(0.4) and law.a == pytest.approx(3.0)


def test_fit_refuses_too_few_or_non_positive_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        scale.fit([1, 2], [0.1, 0.05])
    with pytest.raises(ValueError):
        scale.fit([1, 2, 3], [0.1, 0.0, 0.05])


def test_the_exponents_interval_covers_the_law_the_test_digits_were_drawn_from():
    error = 1.5 * SIZES**-0.5 + 0.008
    generator = np.random.default_rng(0)
    wrong = generator.random((len(SIZES), 10_000)) < error[:, None]  # each test digit erred at the law's rate
    low, high = scale.exponent_interval(SIZES, wrong, draws=100)
    assert low < 0.5 < high and high - low < 0.6


def test_configs_and_positions():
    config = scale.config(8, 500)
    assert config.epochs == 20 and config.batch_size == 32 and config.dense_units == 64
    assert scale.config(64, 60_000).epochs == 2
    assert scale.training_digits(config) == 450
    assert scale.position(config, "flops") == pytest.approx(3 * 20 * 450 * scale.estimate(config).network.flops)
    with pytest.raises(ValueError):
        scale.config(12, 500)


@pytest.fixture(scope="module")
def sweep():
    shipped = scale.shipped()
    assert shipped is not None, "assets/scale_sweep.npz is shipped: python -m scripts.scale_sweep"
    return shipped


def test_the_shipped_sweep_is_the_whole_grid_and_its_laws_fall(sweep):
    assert {(run["width"], run["size"]) for run in sweep.runs} == {(w, s) for w in scale.WIDTHS for s in scale.SIZES}
    assert sweep.wrong.shape == (len(sweep.runs), 10_000)
    for run, wrong in zip(sweep.runs, sweep.wrong, strict=True):
        assert run["error"] == pytest.approx(wrong.mean())
    for axis in scale.AXES:
        for metric in ("error", "loss"):
            trend = sweep.trend(axis, metric)
            assert trend.law.alpha > 0 and trend.interval[0] <= trend.law.alpha <= trend.interval[1]
            assert len(trend.x) >= 3 and list(trend.x) == sorted(trend.x)
    assert len(sweep.trend("parameters").x) == len(scale.WIDTHS) and len(sweep.trend("digits").x) == len(scale.SIZES)


def test_the_smallest_shipped_point_is_reproduced_within_a_third_of_a_point(sweep, mnist):
    """Any point of the sweep can be re-run; the cheapest one is, here, for real."""
    width, size = min(scale.WIDTHS), min(scale.SIZES)
    shipped = sweep.runs[sweep.index(width, size)]
    result = train(scale.config(width, size), mnist)
    assert abs((1 - result.test_accuracy) - shipped["error"]) <= 0.003


def test_attention_rollout_is_a_map_over_the_digit_and_survives_a_round_trip(mnist):
    model = build_transformer(patch_size=7, width=32, blocks=2, heads=2)
    image = mnist.x_test[0] / np.float32(255)
    rollout = attention_rollout(model, image)
    assert rollout.shape == (28, 28) and rollout.max() == pytest.approx(1.0) and rollout.min() == 0
    assert np.all(rollout[:7, :7] == rollout[0, 0])  # one value per 7x7 patch
    reloaded = model_from_bytes(model_bytes(model))  # as a run hands its model to the page
    np.testing.assert_allclose(attention_rollout(reloaded, image), rollout, atol=1e-5)
    explanation = explain(reloaded, image, int(predict_proba(reloaded, image[None])[0].argmax()))
    assert explanation.attention is not None and explanation.grad_cam is None


def test_a_cnn_has_no_attention_to_roll_out(default_model, mnist):
    assert attention_rollout(default_model, mnist.x_test[0] / np.float32(255)) is None
