"""What the whole server shares (ui/shared.py): answers computed once however many phones ask, kept within bounds,
handed out read-only; charts serialised once and sent as plotly would send them."""

import json
import threading
import time

import numpy as np
import plotly.io
import pytest

from core.figures.robustness import robustness_figure
from ui.shared import SharedFigure, shared


def test_fifty_phones_asking_at_once_compute_an_answer_once_and_all_get_it_read_only():
    calls = []

    @shared(max_entries=8)
    def slow_square(values: np.ndarray, *, offset: int = 0) -> np.ndarray:
        calls.append(1)
        time.sleep(0.2)  # long enough for every asker to arrive while it computes
        return values**2 + offset

    answers = [None] * 50
    start = threading.Barrier(50)

    def ask(index: int) -> None:
        start.wait()
        answers[index] = slow_square(np.arange(4), offset=1)

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(answer is answers[0] for answer in answers)
    assert answers[0].tolist() == [1, 2, 5, 10]
    with pytest.raises(ValueError, match="read-only"):
        answers[0][0] = 99  # one visitor cannot change what the others are shown
    assert slow_square(np.arange(4), offset=2).tolist() == [2, 3, 6, 11] and len(calls) == 2  # a keyword is key
    assert slow_square(np.arange(4.0), offset=1) is not answers[0]  # so is an array's type, not only its values


def test_the_least_recently_used_answer_leaves_first_and_a_failure_is_not_kept():
    calls = []

    @shared(max_entries=2)
    def double(value: int) -> int:
        calls.append(value)
        if value < 0:
            raise ValueError("negative")
        return 2 * value

    assert [double(1), double(2), double(1), double(3)] == [2, 4, 2, 6]  # 2 is now the least recently used
    assert calls == [1, 2, 3]
    double(1)
    double(2)
    assert calls == [1, 2, 3, 2]  # 1 was kept, 2 had left
    for _ in range(2):
        with pytest.raises(ValueError):
            double(-1)
    assert calls.count(-1) == 2


def test_a_builder_function_is_part_of_the_key_by_its_name():
    @shared(max_entries=8)
    def apply(function, value):
        return function(value)

    assert apply(np.sqrt, 16.0) == 4.0 and apply(np.negative, 16.0) == -16.0


def test_a_shared_chart_is_sent_as_plotly_sends_the_figure_without_copying_it_each_time():
    curves = {"Baseline MLP": {"FGSM": np.array([0.98, 0.6, 0.1]), "PGD-20": np.array([0.98, 0.4, 0.0])}}
    figure = robustness_figure(curves, [0.0, 0.1, 0.2])
    shared_figure = SharedFigure(figure)
    sent, plain = (json.loads(plotly.io.to_json(f, validate=False)) for f in (shared_figure, figure))
    assert sent == plain and "bdata" in json.dumps(sent["data"][0]["y"])  # its arrays typed, as plotly sends them
    assert shared_figure.to_dict() is shared_figure.to_dict()  # what st.plotly_chart asks for in every run
