"""Train a shipped model from the bundled MNIST with a fixed seed.

Run from the repository root:
  python -m scripts.train_default                     # the default CNN, about 20 minutes on 2 cores
  python -m scripts.train_default --model baseline_mlp  # the baseline MLP, about a minute
Writes assets/<model>.keras and its model card assets/<model>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time

import keras
import numpy as np
import tensorflow as tf

from core.models import build_model, predict_proba
from core.pictures.data import ASSETS_DIR, MNIST_PATH, file_sha256, load_mnist
from core.training.loop import training_dataset

AUGMENTATION = "rotation ±12°, scale ±12%, shear ±0.15, shift ±2 px, stroke thinning/thickening"
RECIPES = {
    "default_model": {
        "architecture": {
            "kind": "cnn",
            "conv_blocks": 2,
            "convs_per_block": 1,
            "filters": 32,
            "dense_units": 256,
            "dropout": 0.3,
        },
        "optimizer": "Adam",
        "peak_learning_rate": 3e-3,  # reached after one epoch of linear warm-up, then cosine decay to 0
        "batch_size": 128,
        "epochs": 20,
        "label_smoothing": 0.05,
        "augmentation": AUGMENTATION,
        "seed": 1234,
    },
    "baseline_mlp": {
        "architecture": {"kind": "mlp", "hidden_units": [128], "dropout": 0.1},
        "optimizer": "Adam",
        "peak_learning_rate": 3e-3,
        "batch_size": 128,
        "epochs": 6,
        "label_smoothing": 0.05,
        "augmentation": AUGMENTATION,
        "seed": 1234,
    },
}


def main(name: str) -> None:
    recipe = RECIPES[name]
    keras.utils.set_random_seed(recipe["seed"])
    data = load_mnist()
    model = build_model(recipe["architecture"], name=name)
    steps_per_epoch = math.ceil(len(data.x_train) / recipe["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe["peak_learning_rate"] / 30,
        decay_steps=steps_per_epoch * (recipe["epochs"] - 1),
        warmup_target=recipe["peak_learning_rate"],
        warmup_steps=steps_per_epoch,
    )
    # Label smoothing needs one-hot targets.
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe["label_smoothing"]),
        metrics=["accuracy"],
    )
    train = training_dataset(
        data.x_train,
        data.y_train,
        batch_size=recipe["batch_size"],
        epochs=recipe["epochs"],
        seed=recipe["seed"],
        augment=True,
    ).map(lambda x, y: (x, tf.one_hot(y, 10)))
    test = (data.x_test.astype(np.float32) / 255.0, keras.utils.to_categorical(data.y_test, 10))
    start = time.time()
    model.fit(train, epochs=recipe["epochs"], steps_per_epoch=steps_per_epoch, validation_data=test, verbose=2)
    seconds = time.time() - start

    accuracy = float((predict_proba(model, test[0]).argmax(1) == data.y_test).mean())
    # The same layers in an uncompiled model: the file then leaves out the optimizer's state.
    keras.Model(model.inputs, model.outputs, name=model.name).save(ASSETS_DIR / f"{name}.keras")
    card = {
        "name": model.name,
        "test_accuracy": accuracy,
        "test_errors": int(round((1 - accuracy) * len(data.y_test))),
        "parameters": model.count_params(),
        "recipe": recipe,
        "training_seconds": round(seconds, 1),
        "trained_on": "MNIST train (60,000 digits); evaluated on MNIST test (10,000 digits)",
        "data_sha256": file_sha256(MNIST_PATH),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
    }
    (ASSETS_DIR / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Train a shipped model from the bundled MNIST.")
    parser.add_argument("--model", choices=sorted(RECIPES), default="default_model")
    main(parser.parse_args().model)
