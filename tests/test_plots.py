"""The pictures and HTML the pages show, built from known numbers."""

import io
import re
from html.parser import HTMLParser

import numpy as np
from PIL import Image

from core.figures.bars import probability_list
from core.figures.curves import training_curves
from core.figures.pictures import pixel_picture, png_bytes
from core.figures.robustness import robustness_figure
from core.figures.style import CURVE_HEIGHT, CURVE_WIDTH, GRID_GREY


class Rows(HTMLParser):
    """Collects each list item's aria-label and the width of its bar."""

    def __init__(self) -> None:
        super().__init__()
        self.labels, self.widths, self.weights = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("role") == "listitem":
            self.labels.append(attrs["aria-label"])
            self.weights.append(int(re.search(r"font-weight:(\d+)", attrs["style"])[1]))
        elif "display:block" in attrs.get("style", ""):
            self.widths.append(float(re.search(r"width:([\d.]+)%", attrs["style"])[1]))


def test_probability_list_has_a_bar_per_digit_and_highlights_the_likeliest():
    probabilities = np.array([0.001, 0.02, 0.6, 0.3, 0.0, 0.079, 0, 0, 0, 0], np.float32)
    rows = Rows()
    rows.feed(probability_list(probabilities))
    small = [f"{digit}: <1%" for digit in range(6, 10)]
    assert rows.labels == ["0: <1%", "1: 2%", "2: 60%", "3: 30%", "4: <1%", "5: 8%", *small]
    assert rows.widths == [0.1, 2.0, 60.0, 30.0, 0.0, 7.9, 0.0, 0.0, 0.0, 0.0]
    assert [w > 400 for w in rows.weights] == [d == 2 for d in range(10)]


def test_pixel_picture_keeps_every_pixel_between_grid_lines():
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    picture = pixel_picture(image, factor=12, line=2)
    assert picture.shape == (336, 336) and picture.dtype == np.uint8
    assert (picture[::12, :] == GRID_GREY).all() and (picture[:, 1::12] == GRID_GREY).all()
    centres = picture[6::12, 6::12]
    assert np.array_equal(centres, np.clip(image * 255, 0, 255).astype(np.uint8))


class Curves(HTMLParser):
    """Collects the chart's aria-label, each polyline's points and each validation point's tooltip."""

    def __init__(self) -> None:
        super().__init__()
        self.label, self.lines, self.tooltips, self.in_title = None, [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("role") == "img":
            self.label = attrs["aria-label"]
        elif tag == "polyline":
            self.lines.append([tuple(map(float, point.split(","))) for point in attrs["points"].split()])
        self.in_title = tag == "title"

    def handle_data(self, data):
        if self.in_title:
            self.tooltips.append(data)


def curves(history):
    parser = Curves()
    parser.feed(training_curves(history))
    return parser


HISTORY = {
    "train": [(25, 1.2, 0.61), (50, 0.6, 0.82), (75, 0.4, 0.88), (100, 0.3, 0.91)],
    "validation": [(50, 0.5, 0.85), (100, 0.25, 0.93)],
}


def test_training_curves_draw_every_point_inside_the_panels_and_say_the_latest_values():
    chart = curves(HISTORY)
    # loss: training, validation; accuracy: training, validation
    assert [len(line) for line in chart.lines] == [4, 2, 4, 2]
    points = np.array([point for line in chart.lines for point in line])
    assert (points >= 0).all() and (points[:, 0] <= CURVE_WIDTH).all() and (points[:, 1] <= CURVE_HEIGHT).all()
    train_loss = np.array(chart.lines[0])
    assert (np.diff(train_loss[:, 0]) > 0).all() and (np.diff(train_loss[:, 1]) > 0).all()  # falling loss: y grows
    assert chart.lines[0][-1][0] == chart.lines[1][-1][0]  # step 100 sits at the same x in both splits
    assert chart.tooltips == [
        "validation loss at step 50: 0.500",
        "validation loss at step 100: 0.250",
        "validation accuracy at step 50: 85.00%",
        "validation accuracy at step 100: 93.00%",
    ]
    assert chart.label == (
        "Training curves: train loss 0.300, accuracy 91.0% at step 100; "
        "validation loss 0.250, accuracy 93.0% at step 100"
    )


def test_training_curves_leave_out_a_diverged_runs_values_and_wait_for_points():
    diverged = {"train": [(25, 2.3, 0.1), (50, float("nan"), 0.1), (75, float("inf"), 0.1)], "validation": []}
    chart = curves(diverged)
    assert [len(line) for line in chart.lines] == [1, 1]
    assert training_curves(diverged).count("<circle") == 2  # a lone point shows as a dot in each panel
    assert chart.label == "Training curves: train diverged at step 75"
    assert "nan" not in training_curves(diverged).lower() and "inf" not in training_curves(diverged).lower()
    empty = curves({"train": [], "validation": []})
    assert empty.lines == [] and empty.label == "Training curves: no points yet"


def test_training_curves_of_adversarial_training_add_the_check_under_attack():
    history = {**HISTORY, "robust": [(50, 1.2, 0.62), (100, 0.9, 0.71)]}
    chart = curves(history)
    assert [len(line) for line in chart.lines] == [4, 2, 2, 4, 2, 2]
    assert "under attack accuracy at step 100: 71.00%" in chart.tooltips
    assert "under attack" in training_curves(history) and "under attack" not in training_curves(HISTORY)


def test_robustness_figure_has_a_line_per_model_and_attack():
    accuracies = np.array([0.99, 0.8, 0.1])
    figure = robustness_figure(
        {"A": {"FGSM": accuracies, "PGD-10": accuracies / 2}, "B": {"PGD-10": accuracies}}, [0, 0.1, 0.2]
    )
    assert [trace.name for trace in figure.data] == ["A · FGSM", "A · PGD-10", "B · PGD-10"]
    assert [trace.line.dash for trace in figure.data] == ["solid", "solid", "dash"]
    assert list(figure.data[1].y) == [0.495, 0.4, 0.05]


def test_png_bytes_keep_every_pixel_as_a_square():
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    picture = np.asarray(Image.open(io.BytesIO(png_bytes(image, factor=10))))
    assert picture.shape == (280, 280)
    np.testing.assert_array_equal(picture[::10, ::10], (image * 255).astype(np.uint8))
