"""Uploaded models: hostile files are refused quickly, cheaply and cleanly; fitting ones work on every page."""

import asyncio
import gc
import io
import math
import os
import pathlib
import tempfile
import threading
import time
import weakref
import zipfile

import keras
import numpy as np
import pytest
from keras import layers
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from core.attacks import robustness_curves
from core.explain import explain, feature_maps, first_layer_weights
from core.models import SHIPPED_MODELS, load_default_model, predict_proba, shipped_paths
from core.presenter import COOKIE as TOKEN_COOKIE
from core.presenter import token
from core.registry import Registry
from core.runs.child import IsolatedRunError, run_isolated, warm_forkserver
from core.runs.host import memory_mb, tree_memory_mb
from core.symbols import learn_symbols
from core.uploads import MAX_COST, MAX_MODEL_MB, load_uploaded_model
from harness import hostile
from harness.browser import NO_READING, serving_app
from harness.photos import paste_digit
from harness.visitor import Visitor


@pytest.fixture(scope="module")
def test_images(mnist):
    warm_forkserver()  # the process uploads are checked in is forked from; the app starts it with the first page
    load_uploaded_model(hostile.keras_file(hostile.small_mlp()), mnist.x_test)  # warm: the first fork imports
    return mnist.x_test


@pytest.fixture
def app_test():
    """A new visitor's session of the app, run headless (AppTest)."""

    def new() -> AppTest:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        app.run()
        assert not app.exception
        return app

    return new


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


OTHERS = ("__autograph_generated_file", "org.chromium.", ".org.chromium.", "playwright")


def temporary_entries() -> set[str]:
    """The temporary folder's entries, less what other processes on the machine put there meanwhile: TensorFlow's
    autograph files whenever any process traces a function, and the profiles and artifacts of Chromium and
    Playwright (the browser tests in the other test worker)."""
    return {name for name in os.listdir(tempfile.gettempdir()) if not name.startswith(OTHERS)}


@pytest.mark.parametrize("name", list(hostile.REFUSED))
def test_a_hostile_file_is_refused_fast_in_one_plain_line_costing_nothing(name, test_images):
    data = hostile.REFUSED[name]()
    before_files, before_memory = temporary_entries(), resident_mb()
    started = time.monotonic()
    with pytest.raises(ValueError) as refusal:
        load_uploaded_model(data, test_images)
    seconds = time.monotonic() - started
    message = str(refusal.value)
    assert seconds <= 2.0, f"{name}: refused after {seconds:.1f} s"
    assert resident_mb() - before_memory <= 200
    assert temporary_entries() <= before_files, "a temporary file was left behind"
    assert "\n" not in message and len(message) < 200 and message.endswith(".")
    for library_text in ("keras.src", "function_node", "OOM", "Traceback", "<class"):
        assert library_text not in message


def test_the_refusals_name_the_reason(test_images):
    reasons = {
        "config bomb": "795,000,010 weights",
        "shape bomb": "159,000,010 weights",
        "disk leak": "more files",
        "bad checksum": "checksum",
        "3,000 layers": "3,004 layers",
        "100,000 x 100,000 input": "28×28",
        "100,000 members": "more files",
    }
    for name, reason in reasons.items():
        with pytest.raises(ValueError, match=reason):
            load_uploaded_model(hostile.REFUSED[name](), test_images)


@pytest.mark.parametrize("name", list(hostile.UNUSUAL))
def test_an_unusual_but_valid_model_works_on_every_page(name, test_images):
    uploaded = load_uploaded_model(hostile.UNUSUAL[name](), test_images)
    image = test_images[0] / np.float32(255)
    assert uploaded.test_probabilities.shape == (10_000, 10)
    np.testing.assert_allclose(
        predict_proba(uploaded.model, test_images[:8] / np.float32(255)), uploaded.test_probabilities[:8], atol=1e-5
    )
    explanation = explain(uploaded.model, image, 3)
    assert explanation.saliency.shape == (28, 28) and explanation.grad_cam is None  # no 2-D conv to look through
    assert first_layer_weights(uploaded.model) is None and feature_maps(uploaded.model, image) == []


def test_an_uploaded_model_reads_like_the_original(mnist, test_images):
    uploaded = load_uploaded_model(shipped_paths("Baseline MLP")[0].read_bytes(), test_images)
    original = keras.models.load_model(shipped_paths("Baseline MLP")[0], compile=False)
    images = mnist.x_test[:50] / np.float32(255)
    np.testing.assert_allclose(predict_proba(uploaded.model, images), predict_proba(original, images), atol=1e-6)
    accuracy = (uploaded.test_probabilities.argmax(1) == mnist.y_test).mean()
    assert accuracy == pytest.approx(0.9815, abs=0.002)  # the baseline MLP's card


def wrong_models() -> dict[str, tuple[keras.Model, str]]:
    channels = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    five = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(5, activation="softmax")])
    logits = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10)])
    code = keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Flatten(),
            layers.Lambda(lambda x: x * 2),
            layers.Dense(10, activation="softmax"),
        ]
    )
    wide = keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(2048, 3),
            layers.GlobalMaxPooling2D(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return {
        "wants channels": (channels, "28×28 image"),
        "five classes": (five, r"output of shape \(5,\)"),
        "logits": (logits, "softmax"),
        "python code": (code, "Python code"),
        "too many activations": (wide, "values per digit"),
    }


@pytest.mark.parametrize("name", list(wrong_models()))
def test_a_model_that_does_not_fit_is_refused_with_a_reason(name, test_images):
    model, reason = wrong_models()[name]
    with pytest.raises(ValueError, match=reason):
        load_uploaded_model(hostile.keras_file(model), test_images)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"not a model at all", "not a .keras file"),
        (shipped_paths("Baseline MLP")[1].read_bytes(), "not a .keras file"),  # the model card, a JSON file
        (hostile.archive_of({"hello.txt": b"hi"}), "does not have"),
        (hostile.archive_of({"config.json": b"{not json", "model.weights.h5": b"\0" * 100}), "not HDF5"),
        (hostile.archive_of({"model.weights.h5": b"\0" * (100 * 2**20)}), "missing"),
        (b"PK" + b"\0" * int(MAX_MODEL_MB * 2**20), "MB"),
    ],
    ids=["empty", "text", "json", "zip without a model", "damaged config", "zip bomb", "too large"],
)
def test_files_that_are_not_models_are_refused_with_a_reason(data, reason, test_images):
    with pytest.raises(ValueError, match=reason):
        load_uploaded_model(data, test_images)


def test_a_check_that_runs_out_of_memory_or_time_costs_the_server_nothing():
    before = resident_mb()
    with pytest.raises(IsolatedRunError, match="memory"):
        run_isolated(np.ones, (4096, 4096, 64), memory_mb=500, seconds=30)  # 8 GB
    with pytest.raises(IsolatedRunError, match="longer"):
        run_isolated(time.sleep, 30, memory_mb=100, seconds=1)
    assert resident_mb() - before < 50


def test_a_check_leaves_no_temporary_files_even_when_killed(test_images):
    def checks() -> set[str]:  # a check's own folders: the other test process's browsers write beside them
        return {name for name in temporary_entries() if name.startswith("digitlab-check-")}

    before, everything = checks(), temporary_entries()
    with pytest.raises(IsolatedRunError):
        run_isolated(hostile.write_then_hang, memory_mb=100, seconds=1)
    assert checks() <= before
    new = temporary_entries() - everything  # and the file it unpacked went with its own folder, nowhere else
    assert not any((pathlib.Path(tempfile.gettempdir()) / name / "unpacked.bin").exists() for name in new)


def test_hostile_builders_make_what_they_say():
    with zipfile.ZipFile(io.BytesIO(hostile.many_members())) as archive:
        assert len(archive.infolist()) > 100_000
    with zipfile.ZipFile(io.BytesIO(hostile.bad_checksum())) as archive:
        assert archive.testzip() == "model.weights.h5"


# -- A hostile visitor against the real server, through Streamlit's own protocol (harness/visitor.py) --------


class Sampler:
    """The server's whole process tree (PSS), sampled every 50 ms while a `with` block runs: its peak above the
    start, and what it holds afterwards."""

    def __init__(self, pid: int) -> None:
        self.pid, self.samples, self._running = pid, [], False

    def __enter__(self) -> "Sampler":
        self.start = tree_memory_mb(self.pid)
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.samples.append(tree_memory_mb(self.pid))
            time.sleep(0.05)

    def __exit__(self, *_) -> None:
        self._running = False
        self._thread.join()
        self.peak = max(self.samples + [self.start]) - self.start
        self.held = tree_memory_mb(self.pid) - self.start


KEY = "hostile-suite-presenter-key"


@pytest.fixture(scope="module")
def server():
    with serving_app(env={"DIGITLAB_PRESENTER_KEY": KEY}) as (url, process):
        yield url, process


def test_a_canvas_value_that_is_no_canvas_is_refused_from_its_header_costing_no_memory(server):
    url, process = server

    async def visit():
        async with Visitor(url) as visitor:
            drawn = await visitor.draw("7")
            assert drawn.metrics["Prediction"] == "7"
            bomb = hostile.canvas_value_with(hostile.picture_bomb())  # 0.16 MB holding 11,000 x 11,000 pixels
            with Sampler(process.pid) as memory:
                refused = await visitor.rerun(
                    widgets=[WidgetState(id=visitor.canvas[0], json_value=bomb)], fragment=visitor.canvas[1]
                )
            assert any("did not come from this page's canvas" in text for text in refused.texts)
            assert refused.metrics["Prediction"] == NO_READING and not refused.errors
            assert memory.peak <= 50 and memory.held <= 20, (memory.peak, memory.held)
            scribble = hostile.canvas_value_with(b"\x89PNG", objects=5_000)  # thousands of strokes
            refused = await visitor.rerun(
                widgets=[WidgetState(id=visitor.canvas[0], json_value=scribble)], fragment=visitor.canvas[1]
            )
            assert any("far more strokes" in text for text in refused.texts) and not refused.errors
            again = await visitor.draw("3")  # and the canvas still reads
            assert again.metrics["Prediction"] == "3"

    asyncio.run(visit())


def test_the_room_page_draws_nothing_while_the_wall_is_unchanged_and_follows_a_share(server):
    url, _ = server

    async def visit():
        async with Visitor(url, path="room") as watcher, Visitor(url) as sharer:
            assert watcher.ticking, "the Room page checks the wall on a timer"
            quiet = await watcher.watch(3.5)
            assert len(quiet) >= 3 and not any(run.metrics or run.texts for run in quiet)  # checks, no redraws
            await sharer.draw("7")
            shared = await sharer.press("Share with the room")
            assert any("Shared with the room" in text for text in shared.texts), shared.texts  # not refused
            runs = await watcher.watch(10.0)  # the next check sees the change; a loaded machine draws it later
            assert any(run.metrics.get("Drawings shared") for run in runs), runs  # the page was drawn again

    asyncio.run(visit())


def test_one_client_address_shares_a_burst_then_one_a_second_and_another_still_gets_on(server):
    url, _ = server

    async def share(address: str) -> bool:
        async with Visitor(url, address=address) as visitor:  # a fresh session each time: free for a client
            await visitor.draw("1")
            run = await visitor.press("Share with the room")
            return any("Shared with the room" in text for text in run.texts)

    async def flood(seconds: float) -> tuple[int, int]:
        shared, until = 0, time.monotonic() + seconds
        while time.monotonic() < until:
            shared += sum(await asyncio.gather(*(share("203.0.113.7") for _ in range(8))))
        return shared, await share("198.51.100.20")  # an honest sharer from another address, during the flood

    started = time.monotonic()
    shared, honest = asyncio.run(flood(12.0))
    assert 0 < shared <= 20 + (time.monotonic() - started) * 1.0, shared  # the burst, then one a second
    assert honest


async def _share_drawings(url: str, count: int) -> None:
    """`count` drawings on the wall, one each from as many addresses, at once."""

    async def one(number: int) -> None:
        async with Visitor(url, address=f"192.0.2.{number + 1}") as visitor:
            await visitor.draw("7")
            run = await visitor.press("Share with the room")
            assert any("Shared with the room" in text for text in run.texts), run.texts

    await asyncio.gather(*(one(number) for number in range(count)))


def test_engines_asked_at_once_run_in_turn_in_their_own_processes_each_told_its_place(server):
    url, process = server

    async def engine(address: str, delay: float) -> tuple[list[str], tuple[list[str], list[str]]]:
        async with Visitor(url, path="data", query="part=engine", address=address) as visitor:
            await asyncio.sleep(delay)
            pressed = await visitor.press("Run the engine")
            waited = [text for text in pressed.texts if "in line" in text]
            after = await visitor.rerun(page_name="data", query="part=engine")
            added = [text for text in after.texts if "Added engine" in text]
            return waited, (added, after.errors + ([] if added else pressed.errors + pressed.texts[-3:]))

    async def storm():
        return await asyncio.gather(*(engine("203.0.113.9", 0.0) for _ in range(3)), engine("198.51.100.4", 1.5))

    asyncio.run(_share_drawings(url, 10))
    asyncio.run(engine("192.0.2.200", 0.0))  # the process runs fork from is up, as on a server that has had visitors
    server_before = memory_mb([process.pid])
    with Sampler(process.pid) as memory:
        results = asyncio.run(storm())
    for _, (added, errors) in results:
        assert added and not errors, (added, errors)  # every one finishes (its page may be drawn twice meanwhile)
    assert sum(bool(waited) for waited, _ in results[:3]) == 2  # one at a time: two of the three waited
    assert "number 1 in line" in results[3][0][0]  # the other address goes before the first's second and third
    assert memory.peak <= 900, memory.peak  # one engine's process at a time
    assert memory_mb([process.pid]) - server_before <= 150  # the server itself did none of the work


def test_the_presenter_key_works_during_a_guessing_storm_and_a_token_keeps_the_presenter(server):
    url, _ = server

    async def guesser(number: int) -> list[str]:
        async with Visitor(url, path="room", address="203.0.113.66") as visitor:
            said = []
            for guess in range(5):
                run = await visitor.type("Presenter key", f"guess {number}-{guess}")
                said += run.errors
            return said

    async def visit():
        said = await asyncio.gather(*(guesser(number) for number in range(7)))  # 35 wrong keys in a few seconds
        assert all("not the presenter key" in words[0] for words in said)
        assert any("Wait" in text for words in said for text in words[1:])  # each guesser slowed down
        async with Visitor(url, path="room", address="203.0.113.66") as speaker:  # the hall's address too
            run = await speaker.type("Presenter key", KEY)
            assert not run.errors and "Clear the wall" in speaker.buttons
            assert any(f"{TOKEN_COOKIE}=" in text and KEY not in text for text in run.texts)  # the token, not the key
        async with Visitor(url, path="room") as stranger:
            assert "Clear the wall" not in stranger.buttons
        for key, leads in ((KEY, True), ("a key of the forger's own", False)):
            reloaded = Visitor(url, path="room")  # the presenter's browser after a reload, and a forger's
            reloaded.cookies[TOKEN_COOKIE] = token(key)
            async with reloaded:
                assert ("Clear the wall" in reloaded.buttons) == leads

    asyncio.run(visit())


def test_a_number_box_sent_nan_or_a_select_box_an_unknown_choice_falls_back_to_its_default(server):
    url, _ = server

    async def visit():
        async with Visitor(url, path="train") as visitor:
            for value in (math.nan, math.inf, -math.inf):
                run = await visitor.type("Seed", value)
                assert not run.errors, run.errors
                assert any("value it does not offer" in text for text in run.texts), run.texts
            assert "Train" in visitor.buttons  # the page is whole
        async with Visitor(url) as visitor:
            await visitor.draw("7")
            run = await visitor.press("Share with the room", inputs={"I meant": "![x](//ev.il) 12"})
            assert not run.errors and any("Shared with the room" in text for text in run.texts), run.texts
            assert any("value it does not offer" in text for text in run.texts), run.texts

    asyncio.run(visit())


def test_a_chapter_list_of_markdown_is_shown_as_text(server):
    url, _ = server

    async def visit():
        visitor = Visitor(url, query="talk=1&chapters=![](//0x7f000001/x),[click me](//ev.il)")
        try:
            run = await visitor.open()
        finally:
            await visitor.close()
        warning = next(text for text in run.texts if "chapter list" in text)
        assert "click me" in warning and "![](" not in warning and "[click me](" not in warning, warning

    asyncio.run(visit())


def test_the_shipped_models_are_the_same_after_every_page_a_visitor_uses(app_test, mnist):
    from ui.models import shipped_model

    def snapshot() -> dict:
        models = {label: shipped_model(label) for label in SHIPPED_MODELS}
        return {
            label: ([w.copy() for w in model.get_weights()], [layer.trainable for layer in model.layers])
            for label, model in models.items()
        }

    before = snapshot()
    app = app_test()
    app.session_state["drawing"] = paste_digit(mnist.x_test[0], size=150, top=60, left=40)
    app.switch_page("app_pages/teach.py").run()
    examples = app.session_state["symbol_examples"]
    for index in range(6):
        examples.add(["✓", "✗", "★"][index % 3], mnist.x_test[index] / np.float32(255))
    app.run()
    next(b for b in app.button if b.label == "Learn").click().run()
    handwriting = app.session_state["handwriting"]
    for index in range(5):
        handwriting.add(str(mnist.y_test[index]), mnist.x_test[index] / np.float32(255))
    app.run()
    next(b for b in app.button if b.label == "Fine-tune on my drawings").click().run()
    for page in ("explain", "attack", "evaluate", "trust"):
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception
    after = snapshot()
    for label in SHIPPED_MODELS:
        assert before[label][1] == after[label][1], f"{label}: trainable flags changed"
        for old, new in zip(before[label][0], after[label][0], strict=True):
            np.testing.assert_array_equal(old, new)


def test_a_dropped_model_is_not_kept_alive_by_the_caches(mnist):
    uploaded = load_uploaded_model(hostile.keras_file(hostile.small_mlp()), mnist.x_test)
    images = mnist.x_test[:16] / np.float32(255)
    predict_proba(uploaded.model, images)  # the prediction graph
    robustness_curves(uploaded.model, images, mnist.y_test[:16])  # the attacks' gradient graph
    explain(uploaded.model, images[0], 3)  # the attributions
    learn_symbols(uploaded.model, images[:6], ["a", "b", "c"] * 2)  # the features model
    alive = weakref.ref(uploaded.model)
    del uploaded
    gc.collect()
    assert alive() is None


def test_a_model_many_times_the_default_cnns_cost_is_refused_quickly(test_images):
    started = time.monotonic()
    with pytest.raises(ValueError, match="× the default CNN's time per digit"):
        load_uploaded_model(hostile.keras_file(hostile.compute_heavy()), test_images)
    assert time.monotonic() - started < 30  # measured before the 10,000 test digits, not after


def test_a_memory_heavy_model_is_accepted_and_its_heavy_views_run_outside_the_server(app_test, mnist, test_images):
    from core.runs.host import memory_mb

    uploaded = load_uploaded_model(hostile.keras_file(hostile.memory_heavy()), test_images)
    assert uploaded.cost <= MAX_COST
    app = app_test()
    registry = Registry()
    registry.add_upload("heavy.keras", uploaded.model, uploaded.test_probabilities, 0.5)
    app.session_state["registry"] = registry
    app.run()
    app.sidebar.selectbox(key="model_choice").set_value(registry.runs[-1].name)
    before = memory_mb([os.getpid()])
    app.switch_page("app_pages/attack.py").run()
    assert not app.exception and len(app.get("plotly_chart")) == 1  # the curves, computed in a child
    assert memory_mb([os.getpid()]) - before < 300  # here only the single picture's attack ran


def test_attack_compares_only_with_models_it_can_attack_and_odd_files_are_refused_in_a_sentence(app_test):
    from core.quantize import LiteModel, to_tflite

    app = app_test()
    registry = Registry()
    baseline = load_default_model(shipped_paths("Baseline MLP")[0])
    lite = LiteModel(to_tflite(baseline, quantization="float16"), parameters=baseline.count_params())
    registry.add_model("tflite float16", "Baseline MLP", lite, None, 0.98)
    app.session_state["registry"] = registry
    app.switch_page("app_pages/attack.py").run()
    assert not app.exception
    assert registry.runs[-1].name in app.sidebar.selectbox(key="model_choice").options  # the page could pick it
    assert registry.runs[-1].name not in app.selectbox(key="attack_compare").options  # but cannot attack it
    uploader = next(u for u in app.get("file_uploader") if u.label.startswith("A .keras file"))
    uploader.upload("x.tflite", b"TFL3" + b"\0" * 64, "application/octet-stream").run()
    assert not app.exception
    assert any("saved with model.save('name.keras')" in error.value for error in app.sidebar.error)
