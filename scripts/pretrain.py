"""Learn the Labels page's encoder from the 60,000 training digits without their labels (SimCLR, Chen et al. 2020).

Run from the repository root (it lowers its own priority, and resumes from its last finished epoch when run again):
  python -m scripts.pretrain            # about 40 minutes on 2 cores
  python -m scripts.pretrain --fresh    # start again
  python -m scripts.pretrain --export   # write the encoder from its last checkpoint, not waiting
Writes assets/encoder.keras and its card assets/encoder.json; keeps its checkpoints in .pretrain_run/ (ignored by
git). It reads the training pictures alone: `unlabelled_digits` opens the data file's "x_train" and nothing else,
and a test holds it to that. What the features are worth with labels is bench/labels.py's to measure.

The recipe: the encoder of core.labels.encoder (3 widths, two 3x3 convolutions each, 128 features, 0.30 M
parameters) under a 2-layer projection head, batch 256 (510 negatives per pair), temperature 0.2, Adam at 2e-3
warmed up over 200 steps and decayed by a cosine to 5%. Views: core.pictures.augment's distortions, stronger
than training's, and a cut-out square.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core.labels.encoder import ENCODER_PATH, build_encoder, build_projector, contrastive_loss, view
from core.pictures.data import IMAGE_SIZE, MNIST_PATH, file_sha256
from scripts.checkpoints import learning_rate, resume, save_state

RUN_DIR = Path(__file__).resolve().parent.parent / ".pretrain_run"
RECIPE = {
    "method": "SimCLR (Chen et al. 2020): NT-Xent on two distorted views, projection head dropped after",
    "widths": [32, 64, 128],
    "batch_size": 256,
    "temperature": 0.2,
    "epochs": 12,
    "learning_rate": 2e-3,
    "warmup_steps": 200,
    "final_learning_rate_share": 0.05,
    "seed": 4801,
}


def unlabelled_digits(path: Path = MNIST_PATH) -> np.ndarray:
    """The training pictures, (60000, 28, 28) uint8, read alone from the data file: no label is loaded."""
    with np.load(path) as data:
        return data["x_train"]


def contrastive_step(encoder, projector, optimizer, temperature: float):
    variables = encoder.trainable_variables + projector.trainable_variables

    @tf.function(
        input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.uint8), tf.TensorSpec((2,), tf.int32)]
    )
    def step(images, seed):
        seeds = tf.random.experimental.stateless_split(seed, 2)
        with tf.GradientTape() as tape:
            a = projector(encoder(view(images, seeds[0]), training=True), training=True)
            b = projector(encoder(view(images, seeds[1]), training=True), training=True)
            loss = contrastive_loss(a, b, temperature)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    return step


def pretrain(
    pictures: np.ndarray, folder: Path, recipe: dict, *, fresh: bool = False, export: bool = False, max_steps=None
) -> tuple[keras.Model, dict]:
    """SimCLR on `pictures` by `recipe`, a checkpoint in `folder` after every epoch: (the encoder, the run's state).
    `max_steps` ends each epoch early (a test's tiny run)."""
    if fresh and folder.exists():
        shutil.rmtree(folder)
    keras.utils.set_random_seed(recipe["seed"])
    encoder, projector = build_encoder(tuple(recipe["widths"])), build_projector()
    optimizer = keras.optimizers.Adam(recipe["learning_rate"])
    optimizer.build(encoder.trainable_variables + projector.trainable_variables)
    models = {"encoder": encoder, "projector": projector}
    state = resume(folder, models, optimizer, {"epochs_done": 0, "seconds": 0.0, "steps": 0, "history": []})
    step = contrastive_step(encoder, projector, optimizer, recipe["temperature"])
    batch = recipe["batch_size"]
    per_epoch = min(len(pictures) // batch, max_steps or len(pictures))
    total = recipe["epochs"] * per_epoch
    while not export and state["epochs_done"] < recipe["epochs"]:
        epoch, began, losses = state["epochs_done"], time.perf_counter(), []
        order = np.random.default_rng(recipe["seed"] + epoch).permutation(len(pictures))
        for index in range(per_epoch):
            optimizer.learning_rate.assign(learning_rate(state["steps"], total, recipe))
            rows = np.sort(order[index * batch : (index + 1) * batch])
            seed = tf.constant([recipe["seed"], state["steps"]], tf.int32)
            losses.append(float(step(tf.constant(pictures[rows]), seed)))
            state["steps"] += 1
            if index % 50 == 0:
                print(f"epoch {epoch + 1} step {index}/{per_epoch} loss {np.mean(losses[-50:]):.4f}", flush=True)
        state["epochs_done"], state["seconds"] = epoch + 1, state["seconds"] + time.perf_counter() - began
        state["history"].append({"epoch": epoch + 1, "loss": float(np.mean(losses))})
        save_state(folder, models, optimizer, state)
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.4f}, {state['seconds'] / 60:.1f} min", flush=True)
    return encoder, state


def write(encoder: keras.Model, state: dict, recipe: dict, path: Path = ENCODER_PATH) -> None:
    """The encoder and its card: the recipe, the run's length and the data it read."""
    encoder.save(path)
    card = {
        "name": "encoder",
        "recipe": recipe,
        "parameters": int(encoder.count_params()),
        "epochs": state["epochs_done"],
        "steps": state["steps"],
        "training_minutes": round(state["seconds"] / 60, 1),
        "history": state["history"],
        "data": {"file": MNIST_PATH.name, "sha256": file_sha256(MNIST_PATH), "read": "x_train only, no labels"},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__},
    }
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {path.name} ({card['parameters']:,} parameters) and {path.with_suffix('.json').name}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="forget the checkpoints and start again")
    parser.add_argument("--export", action="store_true", help="write the encoder from its last checkpoint")
    args = parser.parse_args()
    os.nice(19)  # a background job: the machine's other work comes first
    encoder, state = pretrain(unlabelled_digits(), RUN_DIR, RECIPE, fresh=args.fresh, export=args.export)
    write(encoder, state, RECIPE)


if __name__ == "__main__":
    main()
