"""Magnitude pruning (Zhu & Gupta 2017), written here since Keras 3 has none: the smallest weights go to zero a
little at a time while the network fine-tunes, then the mask is held.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from core.i18n import Text
from core.models import model_bytes, model_from_bytes, predict_proba
from core.pictures.data import Mnist
from core.runs.child import preload
from core.training.loop import training_dataset

MEMORY_MB = 900.0  # a pruning process: the model and its fine-tune on MNIST, above the process it forks from
PRUNABLE = (layers.Dense, layers.Conv2D)  # their kernels hold nearly all the weights; biases and norms stay
SMALL_LAYER = 0.01  # layers with less than this share of the kernel weights are not pruned
MAX_LAYER_SPARSITY = 0.995  # a pruned layer keeps at least this share of its weights
SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)  # the Compress page's choices


def magnitude_masks(model: keras.Model, sparsity: float) -> list[tuple[keras.Variable, np.ndarray]]:
    """(kernel, mask) for the Dense and Conv2D kernels: 0 for the smallest |weights|, 1 for the rest.

    Every pruned layer loses the same share of its weights (as TensorFlow Model Optimization's
    prune_low_magnitude does), so no layer is emptied by another's many small weights. Layers holding
    under SMALL_LAYER of all kernel weights (a first convolution, a last layer) stay whole: they cost
    little size and each of their few weights matters; the others lose a little more so that
    `sparsity` is the share over all kernels.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(Text("sparsity must be at least 0 and below 1; got {sparsity}", sparsity=sparsity))
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, PRUNABLE)]
    total = sum(int(np.prod(kernel.shape)) for kernel in kernels)
    pruned = [kernel for kernel in kernels if np.prod(kernel.shape) >= SMALL_LAYER * total]
    share = min(sparsity * total / sum(int(np.prod(kernel.shape)) for kernel in pruned), MAX_LAYER_SPARSITY)
    masks = []
    for kernel in pruned:
        weights = np.abs(kernel.numpy()).ravel()
        mask = np.ones(weights.size, np.float32)
        mask[np.argsort(weights, kind="stable")[: round(share * weights.size)]] = 0.0
        masks.append((kernel, mask.reshape(kernel.shape)))
    return masks


def apply_masks(masks: list[tuple[keras.Variable, np.ndarray]]) -> None:
    for kernel, mask in masks:
        kernel.assign(kernel.numpy() * mask)


def sparsity(model: keras.Model) -> float:
    """Share of the Dense and Conv2D kernels' weights that are exactly zero."""
    kernels = [layer.kernel.numpy() for layer in model.layers if isinstance(layer, PRUNABLE)]
    total = sum(kernel.size for kernel in kernels)
    return float(sum(np.count_nonzero(kernel == 0) for kernel in kernels) / max(total, 1))


class MagnitudePruning(keras.callbacks.Callback):
    """Prunes gradually while fine-tuning, then holds the mask (Zhu & Gupta 2017).

    Sparsity rises as s (1 - (1 - t / T)^3) over the first RAMP share of the steps, re-pruned every
    EVERY steps from the weights' current magnitudes; after every step the pruned weights are set back
    to zero, since the optimiser's momentum would otherwise revive them.
    """

    RAMP = 0.5  # share of the steps over which sparsity rises to its target
    EVERY = 10  # steps between re-prunings while it rises

    def __init__(self, target: float, steps: int, on_step: Callable[[int, float], None] | None = None) -> None:
        super().__init__()
        self.target, self.ramp_steps, self.on_step = target, max(1, int(self.RAMP * steps)), on_step
        self.step, self.masks = 0, []

    def current(self) -> float:
        """The sparsity the schedule asks for at this step."""
        done = min(self.step / self.ramp_steps, 1.0)
        return self.target * (1.0 - (1.0 - done) ** 3)

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.step += 1
        if self.step <= self.ramp_steps and (self.step % self.EVERY == 0 or self.step == self.ramp_steps):
            self.masks = magnitude_masks(self.model, self.current())
        apply_masks(self.masks)
        if self.on_step is not None:
            self.on_step(self.step, self.current())


@dataclass(frozen=True)
class Pruned:
    model: bytes  # the pruned network, as a .keras file
    accuracy: float  # on the 10,000 test digits
    sparsity: float  # reached, over the Dense and Conv2D kernels
    seconds: float  # fine-tuning time
    steps: int  # fine-tuning steps done
    stopped: bool


@dataclass(frozen=True)
class PruneProgress:
    step: int
    steps: int
    sparsity: float  # the schedule's, at this step
    seconds: float


PRUNE_STEPS = 300  # fine-tuning steps (batches of 128): enough to recover from 80% (bench/compress.py)
PRUNE_LEARNING_RATE = 3e-4
PRUNE_BATCH = 128
BATCH_NORM_MOMENTUM = 0.9  # while fine-tuning; the shipped models train with 0.99


def prune(
    model_data: bytes,
    target: float,
    data: Mnist,
    *,
    steps: int = PRUNE_STEPS,
    seed: int = 0,
    on_progress=None,
    should_stop=None,
    keep=None,
) -> Pruned:
    """A copy of the model (a .keras file's bytes) pruned to `target` sparsity while fine-tuning on MNIST.

    A Job task: reports PruneProgress, stops at the next step when asked, and returns the pruned model.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(Text("sparsity must be between 0 and 1; got {target}", target=target))
    keras.utils.set_random_seed(seed)
    model = model_from_bytes(model_data)
    for layer in model.layers:  # pruning shifts every activation: running statistics must follow within the run
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = BATCH_NORM_MOMENTUM
    model.compile(optimizer=keras.optimizers.Adam(PRUNE_LEARNING_RATE), loss="sparse_categorical_crossentropy")
    started = time.perf_counter()

    def on_step(step: int, current: float) -> None:
        if on_progress is not None and (step % 10 == 0 or step == steps):
            on_progress(PruneProgress(step, steps, current, time.perf_counter() - started))
        if should_stop is not None and should_stop():
            model.stop_training = True

    pruning = MagnitudePruning(target, steps, on_step)
    epochs = math.ceil(steps * PRUNE_BATCH / len(data.x_train))
    batches = training_dataset(
        data.x_train, data.y_train, batch_size=PRUNE_BATCH, epochs=epochs, seed=seed, augment=False
    )
    model.fit(batches.take(steps), epochs=1, callbacks=[pruning], verbose=0)
    stopped = pruning.step < steps
    apply_masks(magnitude_masks(model, target))  # a stopped run is still pruned to its target
    seconds = time.perf_counter() - started
    accuracy = float((predict_proba(model, data.x_test / np.float32(255)).argmax(axis=1) == data.y_test).mean())
    return Pruned(model_bytes(model), accuracy, sparsity(model), seconds, pruning.step, stopped)


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
