"""Evaluate page server time: first view of a model, then a cell selection; against model.predict.

Run from the repository root: `python -m bench.evaluate` (about two minutes; needs Debian's chromium).
Server time comes from script runs under AppTest, less AppTest's own cost (about 200 ms a run here),
measured in the same run as a rerun of the Draw page with a blank canvas:
- first view: a run of the Evaluate page with every cache cleared (load the model, read 10,000 digits);
- cell selection: a rerun after choosing another cell, with predictions cached.
What a visitor waits for a cell in Chromium (server, websocket and drawing the gallery) is reported
too: from the app reporting its script running to reporting it finished. Medians of --repeats.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.models import kept_for_server, load_default_model
from core.pictures.data import load_mnist

ROOT = Path(__file__).resolve().parent.parent


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# Records when the app reports its script running and finished, in browser milliseconds.
RECORD_SCRIPT_STATE = """
window.scriptStates = [];
new MutationObserver(() => {
  const state = document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state');
  window.scriptStates.push([state, performance.now()]);
}).observe(document.querySelector('[data-testid=stApp]'), {attributes: true});
"""


def cell_selection_seconds(repeats: int) -> list[float]:
    """Script run time of choosing another true digit on the Evaluate page, in a real server."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from harness.browser import IDLE, browser_page, running_app

    seconds = []
    with running_app() as url, browser_page() as page:
        page.goto(f"{url}/evaluate")
        page.get_by_text("Most confused pairs").wait_for(timeout=90_000)
        page.wait_for_selector(IDLE)
        page.evaluate(RECORD_SCRIPT_STATE)
        for repeat in range(repeats + 1):  # the first selection warms up; it is not counted
            digit = str((repeat + 1) % 10)
            page.evaluate("window.scriptStates = []")
            page.get_by_label("True digit").click()
            page.keyboard.type(digit)
            page.keyboard.press("Enter")
            page.get_by_text(f"test digits that are {digit} and").wait_for()
            try:  # the text can already be there (the same digit again): wait for the run itself
                page.wait_for_function("window.scriptStates.some(s => s[0] === 'running')", timeout=10_000)
            except PlaywrightTimeout:
                continue
            page.wait_for_selector(IDLE)
            states = page.evaluate("window.scriptStates")
            start = next(t for state, t in states if state == "running")
            end = next(t for state, t in states if state == "notRunning" and t >= start)
            if repeat:
                seconds.append((end - start) / 1000)
    return seconds


def section_seconds(repeats: int) -> dict[str, float]:
    """First view of each new section for a model seen for the first time: the core work behind it."""
    from core.calibration import calibrate, fit_temperature
    from core.models import model_bytes, model_from_bytes, predict_proba
    from core.pictures.slices import slices, style_attributes
    from core.shift import DIGITS, shift_curves

    data = load_mnist()
    tests = data.x_test / np.float32(255)
    held = np.random.default_rng(0).choice(len(data.y_train), 5000, replace=False)
    times = {"styles (once per server)": [], "Slices": [], "Trust": [], "Stress test": []}
    for _ in range(repeats):
        model = model_from_bytes(model_bytes(load_default_model()))  # a model never seen: nothing traced or cached
        probabilities = predict_proba(model, tests)  # the Mistakes tab's, already there when the others open
        times["styles (once per server)"].append(timed(lambda: style_attributes(data.x_test)))
        styles = style_attributes(data.x_test)
        right = probabilities.argmax(axis=1) == data.y_test
        times["Slices"].append(timed(lambda right=right, styles=styles: slices(styles, right)))

        def trust(model=model, probabilities=probabilities):
            held_out = predict_proba(model, data.x_train[held] / np.float32(255))
            return calibrate(fit_temperature(held_out, data.y_train[held]), probabilities, data.y_test)

        times["Trust"].append(timed(trust))
        times["Stress test"].append(
            timed(lambda model=model: shift_curves(model, tests[:DIGITS], data.y_test[:DIGITS]))
        )
    return {name: statistics.median(values) for name, values in times.items()}


def main(repeats: int) -> None:
    images = load_mnist().x_test / np.float32(255)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()  # imports TensorFlow and loads the model once, as a running server already has

    first_views, selections, blank_runs, baselines = [], [], [], []
    for repeat in range(repeats):
        app.switch_page("app_pages/draw.py")
        app.run()
        blank_runs.append(timed(app.run))  # AppTest's own cost of a run, with almost no page work
        st.cache_resource.clear()  # forget the model and its test-set predictions: a first view
        app.switch_page("app_pages/evaluate.py")
        first_views.append(timed(app.run))
        app.selectbox(key="cell_true").set_value(repeat % 10)
        selections.append(timed(app.run))
        assert not app.exception, app.exception
        model = kept_for_server(load_default_model())
        baselines.append(timed(lambda model=model: model.predict(images, verbose=0)))  # noqa: B023

    sections = section_seconds(repeats)
    browser_waits = cell_selection_seconds(repeats)
    first, select, blank, base, wait = (
        statistics.median(x) for x in (first_views, selections, blank_runs, baselines, browser_waits)
    )
    print(f"Evaluate page, default model, medians of {repeats}; AppTest costs {blank * 1000:.0f} ms a run:")
    print(f"  first view, server time (model, 10,000 predictions, page): {first - blank:.2f} s  (target <= 3 s)")
    print(f"  cell selection, server time: {(select - blank) * 1000:.0f} ms  (target <= 300 ms)")
    print(f"  cell selection, what a visitor waits in Chromium:          {wait * 1000:.0f} ms")
    print(f"  baseline: model.predict on the 10,000 test digits:         {base:.2f} s")
    print(f"  ratio first view / model.predict: {(first - blank) / base:.2f}")
    print("  (the Trust page's sections are timed below; its Stress test runs when asked)")
    print("Trust page sections, first view for a model never seen, core work (target <= 5 s each):")
    for name, seconds in sections.items():
        print(f"  {name:26s} {seconds:6.2f} s = {seconds / base:5.2f}x model.predict on the test digits")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
