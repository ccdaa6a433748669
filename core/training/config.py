"""A training's configuration: every hyperparameter with the values the Train page offers, the presets, the
students to distil into, and how the digits are split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.i18n import N_, Text
from core.training.architectures import ARCHITECTURES

ACTIVATIONS = ("relu", "gelu", "elu", "tanh")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "one_cycle", "warmup_cosine")


MIN_TRAIN_SIZE, MAX_TRAIN_SIZE = 500, 60_000  # digits, stratified by class


def _stops(low: float, high: float, step: float) -> tuple[float, ...]:
    return tuple(round(low + index * step, 6) for index in range(round((high - low) / step) + 1))


# Every value each field may take: the Train page's stops, a link's allowed values and validate()'s
# rule are this one table, so a configuration from anywhere is one the page can show.
CHOICES: dict[str, tuple | range] = {
    "architecture": tuple(ARCHITECTURES),
    "conv_blocks": (1, 2, 3),
    "blocks": (1, 2, 3, 4, 6),
    "cell": ("lstm", "gru"),
    "patch_size": (2, 4, 7),
    "heads": (1, 2, 4, 8),
    "stem": (0, 8, 16, 32),
    "filters": (4, 8, 16, 32, 64),
    "dense_units": (16, 32, 64, 128, 256, 512),
    "dropout": _stops(0.0, 0.8, 0.05),
    "batch_norm": (False, True),
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "learning_rate": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0),
    "schedule": SCHEDULES,
    "weight_decay": (0.0, 1e-5, 1e-4, 1e-3, 1e-2),
    "label_smoothing": _stops(0.0, 0.3, 0.05),
    "batch_size": (32, 64, 128, 256, 512),
    "epochs": tuple(range(1, 21)),
    "train_size": (MIN_TRAIN_SIZE, 1_000, 5_000, 10_000, 30_000, MAX_TRAIN_SIZE),
    "augment": (False, True),
    "validation_share": _stops(0.05, 0.3, 0.05),
    "adversarial_eps": (0.0, 0.05, 0.1, 0.15, 0.2, 0.3),
    "drop_suspects": (0, 100, 300, 1_000, 3_000),
    "dp_epsilon": (0.0, 1.0, 2.0, 3.0, 4.0, 8.0),
    "dp_clip": (0.1, 0.3, 1.0, 3.0),
    "seed": range(2**31),
}


def nearest_choice(name: str, value: float) -> float:
    """The allowed value of a numeric field closest to `value` (on a log scale for rates and sizes)."""
    allowed = CHOICES[name]
    if isinstance(allowed, range):
        return min(max(round(value), allowed.start), allowed.stop - 1)
    if all(choice > 0 for choice in allowed) and value > 0 and max(allowed) / min(allowed) > 20:
        return min(allowed, key=lambda choice: abs(math.log(choice / value)))
    return min(allowed, key=lambda choice: abs(choice - value))


def _is_choice(name: str, value) -> bool:
    allowed = CHOICES[name]
    kind = type(allowed[0])
    if kind is float:  # 0 and 1 may come as ints; a bool is never a number here
        return type(value) in (int, float) and any(math.isclose(value, choice, abs_tol=1e-9) for choice in allowed)
    return type(value) is kind and value in allowed


@dataclass(frozen=True)
class TrainConfig:
    # "mlp": dense only; "cnn": one conv per block; "deep_cnn": two convs per block; "private_cnn": Papernot et al.'s
    # small CNN for private training (two strided convs of `filters` and 2x that, no batch norm, ~26k parameters);
    # "resnet": residual blocks; "rnn": an LSTM or GRU reading the 28 rows; "transformer": a ViT on patches
    architecture: str = "cnn"
    conv_blocks: int = 2  # CNNs: each block halves the resolution and doubles the filters (1-3); ResNet: its stages
    filters: int = 16  # CNNs and ResNet: filters in the first block
    dense_units: int = 128  # the hidden dense layer (the MLP's only one); RNN: its units; Transformer: its width
    blocks: int = 2  # ResNet: residual blocks per stage; RNN: stacked layers; Transformer: encoder blocks
    cell: str = "lstm"  # RNN: "lstm" or "gru"
    patch_size: int = 4  # Transformer: the digit cut into squares of this many pixels a side (2, 4 or 7)
    heads: int = 4  # Transformer: attention heads; they must divide its width
    stem: int = 0  # Transformer: filters of a 3x3 convolution before the patches (0: none, the plain ViT)
    dropout: float = 0.2  # share of units dropped while training, in [0, 0.8]
    batch_norm: bool = True  # normalise activations per batch: faster, steadier training at high rates
    activation: str = "relu"  # one of ACTIVATIONS
    optimizer: str = "adam"  # "sgd" (with Nesterov momentum 0.9), "adam", "adamw", "rmsprop"
    learning_rate: float = 3e-3  # peak rate; "one_cycle" and "warmup_cosine" rise to it, then decay
    schedule: str = "one_cycle"  # "constant"; "one_cycle": 30% linear rise, cosine fall; "warmup_cosine": 1 epoch rise
    weight_decay: float = 0.0  # decoupled weight decay (AdamW) or L2-style decay for the others
    label_smoothing: float = 0.0  # spread this much target probability over the wrong classes
    batch_size: int = 128  # digits per step: larger is faster per epoch on CPU, noisier gradients when small
    epochs: int = 2  # passes over the training subset
    train_size: int = 60_000  # training digits, a stratified subset of MNIST's 60,000
    augment: bool = False  # random rotation, scale, shear, shift and stroke width, like drawings
    validation_share: float = 0.1  # share of the training subset held out to validate each epoch
    adversarial_eps: float = 0.0  # > 0: train on FGSM attacks (random start) changing pixels by up to this; slower
    drop_suspects: int = 0  # leave out the training digits most suspected of a wrong label (core.data_quality)
    dp_epsilon: float = 0.0  # > 0: differentially private (DP-SGD) to this ε at δ = 1e-5, the noise solved for
    dp_clip: float = 1.0  # private runs: each digit's gradient clipped to this L2 norm
    seed: int = 0  # same config and seed, same curves

    @property
    def learning_digits(self) -> int:
        """Digits the run learns from: its subset less the share held out to validate."""
        return self.train_size - round(self.train_size * self.validation_share)

    def validate(self) -> None:
        """Raise ValueError with a message a person can act on if any field is not one of its CHOICES."""
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if _is_choice(name, value):
                continue
            label = name.replace("_", " ")
            if isinstance(allowed, range):
                raise ValueError(
                    Text(
                        "{label} must be a whole number from {start} to {value}",
                        label=label,
                        start=allowed.start,
                        value=allowed.stop - 1,
                    )
                )
            numbers = not isinstance(allowed[0], str)
            steps = {round(b - a, 9) for a, b in zip(allowed, allowed[1:], strict=False)} if numbers else set()
            if len(allowed) > 8 and len(steps) == 1:  # a fine, even scale: name its ends and step
                step = (
                    Text(" in steps of {step:g}", step=allowed[1] - allowed[0]) if isinstance(allowed[0], float) else ""
                )
                raise ValueError(
                    Text(
                        "{label} must be from {allowed:g} to {allowed2:g}{step}; got {value!r}",
                        label=label,
                        allowed=allowed[0],
                        allowed2=allowed[-1],
                        step=step,
                        value=value,
                    )
                )
            shown = ", ".join(f"{choice:g}" if isinstance(choice, float) else str(choice) for choice in allowed)
            raise ValueError(
                Text("{label} must be one of {shown}; got {value!r}", label=label, shown=shown, value=value)
            )
        learning = self.learning_digits
        if self.batch_size > learning:
            raise ValueError(
                Text(
                    "A batch of {batch_size} is more than the {learning:,} digits this run learns from (its "
                    "{train_size:,} less the {validation_share:.0%} held out to validate): choose a smaller batch or "
                    "more digits.",
                    batch_size=self.batch_size,
                    learning=learning,
                    train_size=self.train_size,
                    validation_share=self.validation_share,
                )
            )
        architecture = ARCHITECTURES[self.architecture]
        if self.dp_epsilon and self.batch_norm and architecture.normalises:
            raise ValueError(
                Text(
                    "A private run bounds what each digit does to a step; batch normalisation mixes the "
                    "digits of a batch. "
                    "Turn batch normalisation off for a private run."
                )
            )
        refusal = architecture.rule(self) if architecture.rule else None
        if refusal:
            raise ValueError(refusal)
        if self.dp_epsilon and not architecture.private:
            raise ValueError(
                Text("Private runs take the CNNs and the MLP here: this network's per-digit gradients are slow.")
            )
        if self.dp_epsilon and self.adversarial_eps:
            raise ValueError(
                Text("A private run clips each digit's own gradient; set adversarial training ε to 0 for it.")
            )


PRESETS = {
    # The default: >= 99.0% test accuracy as fast as possible on 2 CPU cores (bench/training.py measures it).
    N_("quick"): TrainConfig(batch_size=256, learning_rate=1e-2),
    # Deeper, with augmentation: as many epochs as finish inside the 10-minute run limit on 2 cores.
    N_("accurate"): TrainConfig(
        architecture="deep_cnn", filters=32, dense_units=256, dropout=0.3, epochs=4, augment=True, label_smoothing=0.05
    ),
    # Trained on FGSM attacks at ε = 0.1 (Wong et al. 2020): robust to PGD-20 at that ε where the default model
    # is not (bench/adversarial.py measures both).
    N_("robust"): TrainConfig(batch_size=256, learning_rate=1e-2, epochs=4, adversarial_eps=0.1),
    # Differentially private at ε = 3 (δ = 1e-5): DP-SGD on Papernot et al.'s tanh CNN (bench/privacy.py measures it).
    # A small clipping norm with a large rate, as they tune it: most digits' gradients are clipped, so the rate sets
    # the step and the noise stays small beside the sum of 512 clipped gradients.
    N_("private"): TrainConfig(
        architecture="private_cnn",
        dense_units=32,
        dropout=0.0,
        batch_norm=False,
        activation="tanh",
        optimizer="sgd",
        learning_rate=3.0,
        schedule="warmup_cosine",
        batch_size=512,
        epochs=15,
        dp_epsilon=3.0,
        dp_clip=0.1,
    ),
    # Other architectures (core/architectures.py), each set to train well within minutes on 2 cores
    # (bench/architectures.py measures their time to 98.5% and 99.0% against the quick CNN's)
    N_("resnet"): TrainConfig(
        architecture="resnet", conv_blocks=3, blocks=1, filters=16, dropout=0.1, batch_size=128, epochs=6
    ),
    N_("rnn"): TrainConfig(architecture="rnn", cell="lstm", dense_units=128, blocks=1, dropout=0.1, epochs=10),
    N_("transformer"): TrainConfig(
        architecture="transformer",
        patch_size=4,
        stem=16,  # without it (the plain ViT) 98.0% after 8 epochs in 6 min here; with it 98.6% after 5
        dense_units=64,
        blocks=2,
        heads=4,
        dropout=0.1,
        optimizer="adamw",
        weight_decay=1e-2,
        schedule="warmup_cosine",
        epochs=6,
    ),
    # Under-fits in seconds: a demo of what too small a model and too little data do.
    N_("tiny_mlp"): TrainConfig(
        architecture="mlp", dense_units=16, dropout=0.0, batch_norm=False, epochs=1, train_size=5_000, batch_size=64
    ),
}


# Students to distil into (core.distill), each with under 1/20 of the default model's 825,514 parameters. With few
# labelled digits the teacher's answers teach most (Hinton et al. 2015): bench/compress.py measures both.
STUDENTS = {
    N_("Small CNN · 5,000 digits"): TrainConfig(
        architecture="deep_cnn",
        conv_blocks=3,
        filters=8,
        dense_units=64,
        dropout=0.1,
        train_size=5_000,
        epochs=20,
        learning_rate=1e-2,
    ),
    N_("Small CNN · 60,000 digits"): TrainConfig(
        architecture="deep_cnn",
        conv_blocks=3,
        filters=8,
        dense_units=64,
        dropout=0.1,
        epochs=4,
        batch_size=256,
        learning_rate=1e-2,
    ),
    N_("Small MLP · 60,000 digits"): TrainConfig(
        architecture="mlp", dense_units=32, dropout=0.0, batch_norm=False, epochs=4
    ),
}


def stratified_subset(labels: np.ndarray, size: int, *, seed: int) -> np.ndarray:
    """Indices of `size` examples with every class in its original proportion, shuffled."""
    rng = np.random.default_rng(seed)
    if size >= len(labels):
        return rng.permutation(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    exact = size * counts / len(labels)
    quota = np.floor(exact).astype(int)
    quota[np.argsort(quota - exact)[: size - quota.sum()]] += 1  # largest remainders take the rest
    picked = [rng.choice(np.flatnonzero(labels == c), n, replace=False) for c, n in zip(classes, quota, strict=True)]
    return rng.permutation(np.concatenate(picked))


def split(config: TrainConfig, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) indices into MNIST's training digits for a config: the run never trains on the second."""
    subset = stratified_subset(labels, config.train_size, seed=config.seed)
    held_out = max(1, round(len(subset) * config.validation_share))
    return subset[held_out:], subset[:held_out]
