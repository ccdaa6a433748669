"""Training figures of the Train page, each against a baseline measured in the same run.

Run from the repository root: `python -m bench.training` (about 5 minutes on 2 cores).
1. Time for the `quick` preset to reach its test accuracy, against Keras' "Simple MNIST convnet"
   recipe (batch 128, Adam, validation split 0.1) trained epoch by epoch until 99.0% on test.
2. Overhead of the app's loop (progress, curves, stop checks) against bare model.fit on the same
   model, data and pipeline.
3. Peak memory (max RSS) of a process that loads what the app loads and trains the `quick` preset.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.models import predict_proba
from core.pictures.data import NUM_CLASSES, load_mnist
from core.training.config import PRESETS
from core.training.loop import compiled_model, train, training_dataset

ROOT = Path(__file__).resolve().parent.parent

TARGET = 0.99


def keras_simple_convnet_seconds(data, max_epochs: int) -> tuple[float, int, float]:
    """(training seconds, epochs, test accuracy) for keras-io's mnist_convnet to reach 99.0% on test."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    x_train = data.x_train[..., None].astype("float32") / 255
    y_train = keras.utils.to_categorical(data.y_train, NUM_CLASSES)
    x_test = data.x_test[..., None].astype("float32") / 255
    seconds, accuracy = 0.0, 0.0
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=128, epochs=1, validation_split=0.1, verbose=0)
        seconds += time.perf_counter() - start
        accuracy = float((model.predict(x_test, verbose=0).argmax(1) == data.y_test).mean())
        print(f"    keras recipe epoch {epoch}: {accuracy:.2%} after {seconds:.0f} s", flush=True)
        if accuracy >= TARGET:
            break
    return seconds, epoch, accuracy


def loop_overhead(data, train_size: int) -> tuple[float, float]:
    """(seconds of train(), seconds of bare model.fit) for one epoch of the same model and data."""
    config = dataclasses.replace(PRESETS["quick"], epochs=1, train_size=train_size, validation_share=0.1)
    app_seconds = train(config, data).seconds
    keras.utils.set_random_seed(config.seed)
    held = round(train_size * 0.1)
    model = compiled_model(config, math.ceil((train_size - held) / config.batch_size))
    x, y = data.x_train[:train_size], data.y_train[:train_size]
    batches = training_dataset(x[held:], y[held:], batch_size=config.batch_size, epochs=1, seed=0, augment=False)
    batches = batches.map(lambda a, b: (a, tf.one_hot(b, NUM_CLASSES)))
    validation = (x[:held].astype(np.float32) / 255, keras.utils.to_categorical(y[:held], NUM_CLASSES))
    start = time.perf_counter()
    model.fit(batches, epochs=1, validation_data=validation, validation_batch_size=1000, verbose=0)
    bare_seconds = time.perf_counter() - start
    predict_proba(model, data.x_test / np.float32(255))  # train() evaluates outside its timing too
    return app_seconds, bare_seconds


PEAK_MEMORY_SCRIPT = """
import resource, sys
from core.runs.runtime import cap_malloc_arenas
cap_malloc_arenas()  # as app.py does
from core.pictures.data import load_mnist
from core.models import load_default_model, predict_proba
from core.training.config import PRESETS
from core.training.loop import train
data = load_mnist()
predict_proba(load_default_model(), data.x_test[:10] / 255.0)  # what the app holds: data, default model
train(PRESETS["quick"], data)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def main(max_epochs: int) -> None:
    data = load_mnist()
    print("1. time to 99.0% test accuracy")
    result = train(PRESETS["quick"], data)
    print(f"    quick preset: {result.test_accuracy:.2%} after {result.seconds:.0f} s", flush=True)
    keras_seconds, keras_epochs, keras_accuracy = keras_simple_convnet_seconds(data, max_epochs)
    reached = "reached" if result.test_accuracy >= TARGET else "did NOT reach"
    print(f"  quick preset {reached} 99.0% ({result.test_accuracy:.2%}) in {result.seconds:.1f} s")
    print(f"  keras simple convnet: {keras_accuracy:.2%} after {keras_epochs} epochs, {keras_seconds:.1f} s")
    print(f"  ratio quick / keras recipe: {result.seconds / keras_seconds:.2f}  (target <= 0.35)")

    print("2. overhead of the app's training loop, one epoch on 20,000 digits")
    app_seconds, bare_seconds = loop_overhead(data, 20_000)
    ratio = app_seconds / bare_seconds
    print(f"  train(): {app_seconds:.1f} s  bare model.fit: {bare_seconds:.1f} s  ratio {ratio:.3f}  (target <= 1.05)")

    peak_memory()


def peak_memory() -> None:
    print("3. peak memory of a process holding the app's data and model while training `quick`")
    output = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY_SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    peak_mb = int(output.strip().splitlines()[-1]) / 1024
    print(
        f"  max RSS {peak_mb:.0f} MB  (target <= 1536 MB); this benchmark's own process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=15, help="cap on the Keras recipe's epochs")
    parser.add_argument("--overhead-only", action="store_true", help="measure only the loop overhead")
    parser.add_argument("--memory-only", action="store_true", help="measure only the peak memory")
    arguments = parser.parse_args()
    if arguments.memory_only:
        peak_memory()
    elif arguments.overhead_only:
        app, bare = loop_overhead(load_mnist(), 20_000)
        print(f"train(): {app:.1f} s  bare model.fit: {bare:.1f} s  ratio {app / bare:.3f}  (target <= 1.05)")
    else:
        main(arguments.max_epochs)
