"""The pictures and HTML the pages show, built from known numbers."""

import re
from html.parser import HTMLParser

import numpy as np

from core.plots import GRID_GREY, pixel_picture, probability_list


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
