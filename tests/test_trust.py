"""Slices, calibration and shift against independent computations and hand-built cases."""

import numpy as np
import pytest

from core.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    reliability,
    with_temperature,
)
from core.models import predict_proba
from core.pictures.slices import slices, style_attributes, wilson_interval, worst
from core.shift import SHIFTS, shift_curves, shifted


def test_ece_of_hand_built_cases():
    # Two digits at 0.9 sure, one right: the bin (0.867, 0.933] has accuracy 0.5, confidence 0.9 -> ECE 0.4.
    probabilities = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert expected_calibration_error(probabilities, np.array([0, 1])) == pytest.approx(0.4)
    # Perfectly calibrated at 0.75: three of four right.
    quarter = np.tile([[0.75, 0.25]], (4, 1))
    assert expected_calibration_error(quarter, np.array([0, 0, 0, 1])) == pytest.approx(0.0)
    # Two bins, weighted by their share: 0.6 sure and right (gap 0.4, half) + 1.0 sure and wrong (gap 1, half).
    mixed = np.array([[0.6, 0.4], [1.0, 0.0]])
    assert expected_calibration_error(mixed, np.array([0, 1])) == pytest.approx(0.5 * 0.4 + 0.5 * 1.0)
    table = reliability(mixed, np.array([0, 1]))
    assert table.counts.sum() == 2 and len(table.edges) == 16


def test_ece_matches_a_loop_over_bins():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(3000, 10)) * 3
    probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 10, 3000)
    confidence, right = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    expected = 0.0
    for low, high in zip(np.linspace(0, 1, 16)[:-1], np.linspace(0, 1, 16)[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            expected += inside.mean() * abs(right[inside].mean() - confidence[inside].mean())
    assert expected_calibration_error(probabilities, labels) == pytest.approx(expected)


def test_the_fitted_temperature_recovers_a_known_one_and_changes_no_prediction():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(20000, 10)) * 2
    truth = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(10, p=p) for p in truth])  # labels drawn from the true probabilities
    overconfident = with_temperature(truth, 0.5)  # a network twice as sure as it should be
    assert fit_temperature(overconfident, labels) == pytest.approx(2.0, rel=0.05)
    assert (with_temperature(overconfident, 2.0).argmax(axis=1) == overconfident.argmax(axis=1)).all()


def test_temperature_scaling_lowers_the_default_models_test_ece(default_model, mnist):
    held = predict_proba(default_model, mnist.x_train[:5000] / np.float32(255))
    temperature = fit_temperature(held, mnist.y_train[:5000])
    test = predict_proba(default_model, mnist.x_test / np.float32(255))
    result = calibrate(temperature, test, mnist.y_test)
    assert result.ece_after < result.ece_before
    assert (with_temperature(test, temperature).argmax(axis=1) == test.argmax(axis=1)).all()


@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [(8, 10, 0.4902, 0.9433), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (50, 100, 0.4038, 0.5962)],
)
def test_wilson_intervals_match_published_values(successes, total, low, high):
    assert wilson_interval(successes, total) == pytest.approx((low, high), abs=1e-4)


def test_style_attributes_of_drawn_bars():
    upright = np.zeros((1, 28, 28), np.uint8)
    upright[0, 4:24, 12:15] = 255  # a bar 3 px wide, 20 tall
    leaning = np.zeros((1, 28, 28), np.uint8)
    for row in range(4, 24):
        column = 18 - (row - 4) // 2  # the top further right: leaning right
        leaning[0, row, column : column + 3] = 255
    attributes = {
        name: np.concatenate([style_attributes(upright)[name], style_attributes(leaning)[name]])
        for name in ("thickness", "slant", "width", "ink")
    }
    assert attributes["thickness"][0] == pytest.approx(2 * 60 / 42)  # 60 ink pixels, 18 of them inside
    assert abs(attributes["slant"][0]) < 1e-6 and 20 < attributes["slant"][1] < 35  # atan(1/2) = 26.6°
    assert attributes["width"][0] == 3 and attributes["ink"][0] == 60


def test_slices_partition_the_digits_and_count_right(mnist):
    attributes = style_attributes(mnist.x_test[:2000])
    right = np.random.default_rng(0).random(2000) < 0.9
    groups = slices(attributes, right)
    for group in groups.values():
        assert sum(s.count for s in group) == 2000
        assert sorted(np.concatenate([s.indices for s in group])) == list(range(2000))
        for s in group:
            assert s.correct == right[s.indices].sum() and s.interval[0] <= s.accuracy <= s.interval[1]
    lowest = worst(groups)
    assert lowest.accuracy == min(s.accuracy for group in groups.values() for s in group)


@pytest.mark.parametrize("shift", list(SHIFTS))
def test_each_shift_at_strength_zero_changes_nothing(shift, mnist):
    images = mnist.x_test[:50] / np.float32(255)
    neutral = 1.0 if shift == "scale" else 0
    np.testing.assert_allclose(shifted(images, shift, neutral), images, atol=1e-6)


def test_shift_curves_start_at_the_clean_accuracy_and_fall(default_model, mnist):
    images, labels = mnist.x_test[:300] / np.float32(255), mnist.y_test[:300]
    clean = float((predict_proba(default_model, images).argmax(axis=1) == labels).mean())
    curves = shift_curves(default_model, images, labels)
    assert set(curves) == set(SHIFTS)
    for name, accuracies in curves.items():
        assert accuracies[0] == clean and len(accuracies) == len(SHIFTS[name][0])
    assert curves["rotation"][-1] < clean - 0.3 and curves["noise"][-1] < 0.5
    with pytest.raises(ValueError, match="unknown shift"):
        shifted(images, "melt", 1)


def test_the_slice_chart_draws_errors_from_zero_so_bar_lengths_compare_honestly():
    from core.figures.trust import slice_figure
    from core.pictures.slices import Slice

    group = [
        Slice("thickness", "thin", np.arange(1000), 994, wilson_interval(994, 1000)),  # 0.6% misread
        Slice("thickness", "thick", np.arange(1000), 997, wilson_interval(997, 1000)),  # 0.3% misread
    ]
    figure = slice_figure(group, overall=0.9955, worst_label="thin")
    bars = figure.data[0]
    np.testing.assert_allclose(bars.y, [0.006, 0.003])
    assert figure.layout.yaxis.range[0] == 0  # twice the errors, twice the bar
    assert figure.layout.yaxis.range[1] >= 1 - group[0].interval[0]  # the worst whisker fits


def test_the_reliability_diagram_shows_how_many_digits_each_bin_holds():
    from core.calibration import reliability
    from core.figures.trust import reliability_figure

    generator = np.random.default_rng(0)
    top = np.concatenate([np.full(990, 0.99), np.full(10, 0.55)])  # a full bin and a nearly empty one
    probabilities = np.zeros((1000, 10))
    probabilities[:, 0] = top
    probabilities[:, 1:] = ((1 - top) / 9)[:, None]
    labels = np.where(generator.random(1000) < top, 0, 1)
    table = reliability(probabilities, labels)
    after = reliability_figure(table, table).data[2]
    assert list(after.text) == ["10", "990"]
    small, large = after.marker.size
    assert small < large / 3  # the nearly empty bin's point is drawn small, so its spike does not look like a finding
