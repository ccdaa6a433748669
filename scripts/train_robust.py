"""Train the robust CNN that holds at ε = 0.3, from the bundled MNIST, with a fixed seed.

Two stages. First, fast adversarial training (Wong, Rice & Kolter 2020): each step attacks the batch with one FGSM
step of 1.25 ε from a uniform random start in the ε-box and trains on the result, with ε ramping up and Wong et
al.'s cyclic learning rate. On this network its PGD check stalls near 60% while its training loss keeps falling
(FGSM's examples get easy, PGD's do not), so the second stage trains on PGD's own examples (Madry et al. 2018,
with 7 steps instead of their 40) from the first stage's weights. After every epoch PGD attacks 1,000 training
digits held out from the training; the best epoch by that check is the one kept, and a collapse of the check
(FGSM training's "catastrophic overfitting") stops the first stage.

Run from the repository root (it lowers its own priority, and resumes from its last finished epoch when run again):
  python -m scripts.train_robust                  # about 1.5 hours on 2 cores
  python -m scripts.train_robust --fresh          # start again
Writes assets/robust_model.keras and its model card assets/robust_model.json; keeps its checkpoints in
.robust_run/ (ignored by git).
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
from keras import layers

from core.attacks import pgd
from core.models import kept_for_server, logits, predict_proba
from core.pictures.data import ASSETS_DIR, IMAGE_SIZE, MNIST_PATH, NUM_CLASSES, file_sha256, load_mnist

RUN_DIR = Path(__file__).resolve().parent.parent / ".robust_run"
NAME = "robust_model"
RECIPE = {
    # Madry et al.'s MNIST challenge network: robustness at ε 0.3 needs its capacity (their Figure 4)
    "architecture": {"conv1": [32, 5], "conv2": [64, 5], "dense_units": 1024},
    "epsilon": 0.3,
    "optimizer": "Adam",
    "batch_size": 100,
    "stages": [
        {
            "attack": "FGSM from a uniform random start, step 1.25 ε (Wong, Rice & Kolter 2020)",
            "attack_steps": 1,
            "step": 1.25,  # in units of ε
            "epochs": 14,
            "epsilon_ramp_epochs": 5,  # ε grows linearly from 0 over these epochs, then stays
            # cyclic: linear from 0 to the peak at 40% of a 30-epoch cycle, then down; stopped after 14 epochs,
            # where the PGD check had stalled
            "learning_rate": {"cycle_epochs": 30, "peak": 1e-3},
        },
        {
            "attack": "PGD from a uniform random start, 7 steps of 2.5 ε / 7 (Madry et al. 2018)",
            "attack_steps": 7,
            "step": 2.5 / 7,
            "epochs": 8,
            "epsilon_ramp_epochs": 0,
            "learning_rate": {"start": 5e-4},  # linear to 0 over the stage
        },
    ],
    "check": "PGD-20 (step 2.5 ε / 20, random start) on 1,000 training digits held out from the training",
    "collapse": 0.2,  # the check falling this far below its best is catastrophic overfitting: stop the stage
    "held_out": 1000,
    "seed": 20201,
}


def build(architecture: dict) -> keras.Model:
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")  # (B, 28, 28) in [0, 1]
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)
    for index, key in enumerate(("conv1", "conv2")):
        filters, kernel = architecture[key]
        x = layers.Conv2D(filters, kernel, padding="same", activation="relu", name=f"conv{index + 1}")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(architecture["dense_units"], activation="relu", name="dense")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=NAME)


def stage_of(epoch: int, recipe: dict) -> tuple[int, dict, int]:
    """(stage index, stage, epochs of it done before `epoch`) for the run's `epoch` (from 0)."""
    for index, stage in enumerate(recipe["stages"]):
        if epoch < stage["epochs"]:
            return index, stage, epoch
        epoch -= stage["epochs"]
    raise ValueError("past the last stage")


def learning_rate(progress: float, stage: dict) -> float:
    """`progress` in epochs of this stage done (fractional)."""
    schedule = stage["learning_rate"]
    if "cycle_epochs" in schedule:  # Wong et al.'s cycle
        cycle = schedule["cycle_epochs"]
        return float(np.interp(progress, [0, cycle * 0.4, cycle], [0, schedule["peak"], 0]))
    return schedule["start"] * max(0.0, 1 - progress / stage["epochs"])


def epsilon(progress: float, stage: dict, recipe: dict) -> float:
    ramp = stage["epsilon_ramp_epochs"]
    return recipe["epsilon"] * min(1.0, progress / ramp) if ramp else recipe["epsilon"]


def training_step(model: keras.Model, optimizer: keras.optimizers.Optimizer, attack_steps: int, step: float):
    """One step on the batch's adversarial examples: `attack_steps` signed-gradient steps of `step` ε from a
    random start in the ε-box (1 step of 1.25: Wong et al.'s FGSM; 7 of 2.5 / 7: PGD-7)."""
    scores = logits(model)

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32),
            tf.TensorSpec((), tf.float32),
        ]
    )
    def train(images, labels, noise, eps):
        delta = tf.clip_by_value(images + noise * eps, 0.0, 1.0) - images  # noise uniform in [-1, 1]
        for _ in range(attack_steps):
            with tf.GradientTape() as tape:
                tape.watch(delta)
                loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, scores(images + delta, training=True))
            delta = tf.clip_by_value(delta + step * eps * tf.sign(tape.gradient(loss, delta)), -eps, eps)
            delta = tf.clip_by_value(images + delta, 0.0, 1.0) - images
        adversarial = tf.stop_gradient(images + delta)
        with tf.GradientTape() as tape:
            values = scores(adversarial, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, values))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(values, axis=1, output_type=tf.int32), labels), tf.int32))
        return loss, correct

    return train


def robust_accuracy(model, images, labels, eps: float, *, steps: int, seed: int = 0, step_size=None) -> float:
    attacked = pgd(model, images, labels, eps, steps=steps, seed=seed, step_size=step_size)
    return float((predict_proba(model, attacked).argmax(axis=1) == labels).mean())


def save_state(model, optimizer, state: dict, *, best: bool) -> None:
    RUN_DIR.mkdir(exist_ok=True)
    np.savez(RUN_DIR / "last.npz", *model.get_weights())
    np.savez(RUN_DIR / "optimizer.npz", *[variable.numpy() for variable in optimizer.variables])
    if best:
        shutil.copyfile(RUN_DIR / "last.npz", RUN_DIR / "best.npz")
    (RUN_DIR / "state.tmp").write_text(json.dumps(state, indent=2))
    os.replace(RUN_DIR / "state.tmp", RUN_DIR / "state.json")  # the state names only weights already written


def load_weights(path: Path) -> list[np.ndarray]:
    with np.load(path) as saved:
        return [saved[f"arr_{index}"] for index in range(len(saved.files))]


def main(fresh: bool) -> None:
    os.nice(19)  # a background job: the machine's other work comes first
    recipe = RECIPE
    if fresh and RUN_DIR.exists():
        shutil.rmtree(RUN_DIR)
    keras.utils.set_random_seed(recipe["seed"])
    data = load_mnist()
    held = recipe["held_out"]
    pixels = data.x_train.astype(np.float32) / 255  # the files hold bytes; the network and ε work in [0, 1]
    x_train, y_train = pixels[:-held], data.y_train[:-held].astype(np.int32)
    x_check, y_check = pixels[-held:], data.y_train[-held:].astype(np.int32)
    model = kept_for_server(build(recipe["architecture"]))  # traced once: the PGD check is a hundred thousand gradients
    optimizer = keras.optimizers.Adam(0.0)
    optimizer.build(model.trainable_variables)
    state = {"epochs_done": 0, "seconds": 0.0, "history": [], "best_epoch": None, "best_check": -1.0}
    if (RUN_DIR / "state.json").exists():
        state = json.loads((RUN_DIR / "state.json").read_text())
        model.set_weights(load_weights(RUN_DIR / "last.npz"))
        for variable, value in zip(optimizer.variables, load_weights(RUN_DIR / "optimizer.npz"), strict=True):
            variable.assign(value)
        print(f"resuming after epoch {state['epochs_done']} ({state['seconds'] / 60:.1f} min so far)", flush=True)
    steps = {}  # stage -> its traced training step
    batch = recipe["batch_size"]
    batches = len(x_train) // batch
    total = sum(stage["epochs"] for stage in recipe["stages"])
    while state["epochs_done"] < total:
        epoch = state["epochs_done"]
        number, stage, within = stage_of(epoch, recipe)
        if state.get("stage", 0) != number:  # a new stage: from the best weights so far, with a fresh optimizer
            model.set_weights(load_weights(RUN_DIR / "best.npz"))
            for variable in optimizer.variables:
                variable.assign(tf.zeros_like(variable))
            state["stage"] = number
        if number not in steps:
            steps[number] = training_step(model, optimizer, stage["attack_steps"], stage["step"])
        started = time.perf_counter()
        rng = np.random.default_rng([recipe["seed"], epoch])  # per epoch: a resumed run draws what it would have
        order = rng.permutation(len(x_train))
        loss_sum, correct = 0.0, 0
        for index in range(batches):
            progress = within + (index + 1) / batches
            optimizer.learning_rate.assign(learning_rate(progress, stage))
            chosen = order[index * batch : (index + 1) * batch]
            noise = rng.uniform(-1, 1, (len(chosen), IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
            eps = np.float32(epsilon(progress, stage, recipe))
            loss, right = steps[number](x_train[chosen], y_train[chosen], noise, eps)
            loss_sum += float(loss)
            correct += int(right)
        check = robust_accuracy(model, x_check, y_check, recipe["epsilon"], steps=20, seed=epoch)
        clean = float((predict_proba(model, x_check).argmax(axis=1) == y_check).mean())
        state["epochs_done"] = epoch + 1
        state["seconds"] += time.perf_counter() - started
        eps_now = epsilon(within + 1, stage, recipe)
        state["history"].append(
            {
                "epoch": epoch + 1,
                "stage": number + 1,
                "epsilon": eps_now,
                "train_loss": loss_sum / batches,
                "train_adversarial_accuracy": correct / (batches * batch),
                "check_clean": clean,
                "check_pgd20": check,
            }
        )
        best = check > state["best_check"]
        note = ""
        if best:
            state["best_epoch"], state["best_check"] = epoch + 1, check
        elif eps_now == recipe["epsilon"] and check < state["best_check"] - recipe["collapse"]:
            note = f"; stage stopped: the PGD check fell from {state['best_check']:.3f} to {check:.3f}"
            state.setdefault("stopped", []).append(f"stage {number + 1} after epoch {epoch + 1}{note[15:]}")
            state["epochs_done"] = epoch + 1 - within + stage["epochs"]  # on to the next stage
        save_state(model, optimizer, state, best=best)
        print(
            f"epoch {epoch + 1}/{total} (stage {number + 1}): {time.perf_counter() - started:.0f} s"
            f", ε {eps_now}, train loss {loss_sum / batches:.3f}"
            f", check clean {clean:.3f}, PGD-20 {check:.3f}" + (" (best)" if best else "") + note,
            flush=True,
        )
    model.set_weights(load_weights(RUN_DIR / "best.npz"))
    finish(model, data, state, recipe)


def finish(model: keras.Model, data, state: dict, recipe: dict) -> None:
    """Evaluate the best epoch on the test digits; write the model and its card."""
    started = time.perf_counter()
    x_test, y_test = data.x_test.astype(np.float32) / 255, data.y_test.astype(np.int32)
    right = predict_proba(model, x_test).argmax(axis=1) == y_test
    clean = float(right.mean())
    eps = recipe["epsilon"]
    pgd20 = robust_accuracy(model, x_test, y_test, eps, steps=20)
    first = slice(0, 1000)
    pgd100 = robust_accuracy(model, x_test[first], y_test[first], eps, steps=100, step_size=0.01)
    model.save(ASSETS_DIR / f"{NAME}.keras")
    card = {
        "name": NAME,
        "test_accuracy": clean,
        "test_errors": int((~right).sum()),
        "epsilon": eps,
        "robust_accuracy": {
            "PGD-20, random start, step 2.5 ε / 20, 10,000 test digits": pgd20,
            "PGD-100, random start, step 0.01, first 1,000 test digits": pgd100,
        },
        "attacks_measured_by": "python -m bench.robust (restarts, margin loss, transfer, black box)",
        "parameters": int(model.count_params()),
        "recipe": recipe,
        "best_epoch": state["best_epoch"],
        "history": state["history"],
        "stopped_early": state.get("stopped"),
        "training_seconds": round(state["seconds"], 1),
        "evaluation_seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, at nice 19 beside other work",
        "trained_on": f"MNIST train less its last {recipe['held_out']:,} digits (the PGD check)",
        "evaluated_on": "MNIST test (10,000 digits)",
        "data_sha256": file_sha256(MNIST_PATH),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
    }
    (ASSETS_DIR / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"clean {clean:.4f}, PGD-20 {pgd20:.4f} (10,000), PGD-100 {pgd100:.4f} (1,000)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="forget the checkpoints and start again")
    main(parser.parse_args().fresh)
