"""What more parameters, more data and more compute buy: one CNN trained at several widths on several numbers of
training digits, and the law error = a·x^(−α) + c fitted along each axis (Hestness et al. 2017; Kaplan et al.
2020). MNIST's error levels off, so the constant c matters (Rosenfeld et al. 2020).

The sweep is made by `scripts/scale_sweep.py` and shipped in assets/; each run keeps which of the 10,000 test
digits it read right and its loss on each, so an exponent's interval comes from resampling the test digits.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

import numpy as np

from core.i18n import Text
from core.pictures.data import ASSETS_DIR
from core.training.budget import estimate
from core.training.config import TrainConfig

WIDTHS = (4, 8, 16, 32, 64)  # filters of the CNN's first block; its dense layer has 8x as many units
SIZES = (500, 1_000, 5_000, 10_000, 30_000, 60_000)  # training subsets, stratified (a tenth held out to validate)
PRESENTATIONS = 120_000  # digits each run is shown: epochs = this / size, from 2 to 20
SWEEP_PATH = ASSETS_DIR / "scale_sweep.npz"  # per-digit results; its card is scale_sweep.json
CARD_PATH = SWEEP_PATH.with_suffix(".json")
ARCHITECTURES_PATH = ASSETS_DIR / "architectures.json"  # other architectures' presets (bench/architectures.py --write)
AXES = ("parameters", "digits", "flops")
BOOTSTRAP_DRAWS = 200
FLOOR_STEPS = 200  # values of c tried between 0 and just under the smallest error


def config(width: int, size: int, seed: int = 0) -> TrainConfig:
    """The sweep's run at `width` filters on `size` training digits: the Train page's CNN, small sets in batches of 32
    so they still take a few hundred steps."""
    if width not in WIDTHS or size not in SIZES:
        raise ValueError(Text("the sweep's widths are {WIDTHS} and its sizes {SIZES}", WIDTHS=WIDTHS, SIZES=SIZES))
    epochs = min(20, max(2, round(PRESENTATIONS / size)))
    return TrainConfig(
        filters=width,
        dense_units=8 * width,
        train_size=size,
        epochs=epochs,
        batch_size=32 if size <= 1_000 else 128,
        seed=seed,
    )


def training_digits(config: TrainConfig) -> int:
    """Digits a run learns from: its subset less the share held out to validate."""
    return config.learning_digits


def training_flops(config: TrainConfig) -> float:
    """Arithmetic of a whole run: each digit shown costs a forward pass and a backward pass of twice that."""
    return 3.0 * estimate(config).network.flops * training_digits(config) * config.epochs


def position(config: TrainConfig, axis: str) -> float:
    """Where a run of `config` sits along "parameters", "digits" or "flops"."""
    if axis == "parameters":
        return estimate(config).network.parameters
    if axis == "digits":
        return training_digits(config)
    if axis == "flops":
        return training_flops(config)
    raise ValueError(Text("no axis {axis!r}", axis=axis))


@dataclass(frozen=True)
class Law:
    """error = a · x^(−alpha) + c."""

    a: float
    alpha: float
    c: float

    def __call__(self, x) -> np.ndarray:
        return self.a * np.asarray(x, dtype=float) ** -self.alpha + self.c


def fit(x, error, *, floor: bool = True) -> Law:
    """The law through the points (x, error), least squares on log error. For each floor c on a grid below the
    smallest error, log(error − c) is a line in log x; the c whose line fits best is kept. `floor=False`: the pure
    power law, c = 0."""
    x, error = np.asarray(x, dtype=float), np.asarray(error, dtype=float)
    if len(x) < 3 or np.any(x <= 0) or np.any(error <= 0):
        raise ValueError(Text("a law needs at least 3 points with positive x and error"))
    floors = np.linspace(0.0, 0.98 * error.min(), FLOOR_STEPS) if floor else np.zeros(1)
    log_x = np.log(x)
    design = np.stack([np.ones_like(log_x), -log_x], axis=1)  # log(error - c) = log a - alpha log x
    targets = np.log(error[None, :] - floors[:, None]).T  # (points, floors)
    (log_a, alpha), *_ = np.linalg.lstsq(design, targets, rcond=None)
    predicted = np.exp(log_a)[None, :] * x[:, None] ** -alpha[None, :] + floors[None, :]
    residual = ((np.log(predicted) - np.log(error)[:, None]) ** 2).sum(axis=0)
    best = int(np.argmin(np.where(alpha > 0, residual, np.inf))) if np.any(alpha > 0) else int(np.argmin(residual))
    return Law(float(np.exp(log_a[best])), float(alpha[best]), float(floors[best]))


def exponent_interval(
    x, outcomes: np.ndarray, *, draws: int = BOOTSTRAP_DRAWS, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """The exponent's bootstrap interval: the same test digits resampled for every point, each resample refitted.
    `outcomes` is (points, test digits): 1 where a run erred, or its loss on each digit."""
    outcomes = np.asarray(outcomes, dtype=np.float64)
    generator = np.random.default_rng(seed)
    digits = outcomes.shape[1]
    alphas = []
    for _ in range(draws):
        sample = generator.integers(0, digits, digits)
        values = outcomes[:, sample].mean(axis=1)
        if np.all(values > 0):
            alphas.append(fit(x, values).alpha)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Trend:
    """One axis of the sweep: the points along it, the law through them and its exponent's interval."""

    axis: str  # "parameters", "digits" or "flops"
    metric: str  # "error" or "loss"
    x: tuple[float, ...]
    y: tuple[float, ...]
    law: Law
    interval: tuple[float, float]
    held: Text  # what stays fixed along it, in words


@dataclass
class Sweep:
    """The shipped sweep: one row per run, and per run which test digits it erred on and its loss on each."""

    runs: list[dict]  # width, size, parameters, digits, flops, seconds, error, loss, config
    wrong: np.ndarray  # (runs, 10000) bool
    losses: np.ndarray  # (runs, 10000) float16
    card: dict

    def index(self, width: int, size: int) -> int:
        return next(i for i, run in enumerate(self.runs) if run["width"] == width and run["size"] == size)

    def outcomes(self, metric: str) -> np.ndarray:
        return self.wrong if metric == "error" else self.losses

    def trend(self, axis: str, metric: str = "error") -> Trend:
        """Along parameters (every width, on the most digits), digits (every size, at the widest) or compute (the
        runs that reached the lowest error for their compute: the frontier)."""
        widest, most = max(run["width"] for run in self.runs), max(run["size"] for run in self.runs)
        if axis == "parameters":
            chosen = sorted((i for i, r in enumerate(self.runs) if r["size"] == most), key=self._x(axis))
            held = Text("each on {count:,} training digits", count=self.runs[chosen[-1]]["digits"])
        elif axis == "digits":
            chosen = sorted((i for i, r in enumerate(self.runs) if r["width"] == widest), key=self._x(axis))
            held = Text("the widest network, {count:,} parameters", count=self.runs[chosen[-1]]["parameters"])
        elif axis == "flops":
            chosen, best = [], math.inf
            for i in sorted(range(len(self.runs)), key=self._x(axis)):
                if self.runs[i][metric] < best:
                    chosen.append(i)
                    best = self.runs[i][metric]
            held = Text("the best run for its compute, of all widths and sizes")
        else:
            raise ValueError(Text("no axis {axis!r}", axis=axis))
        x = [self.runs[i][axis] for i in chosen]
        y = [self.runs[i][metric] for i in chosen]
        outcomes = self.outcomes(metric)[chosen]
        return Trend(axis, metric, tuple(x), tuple(y), fit(x, y), exponent_interval(x, outcomes), held)

    def _x(self, axis: str):
        return lambda i: self.runs[i][axis]


def outcome(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(erred on each test digit, cross-entropy on each), from a network's test probabilities."""
    chosen = probabilities[np.arange(len(labels)), labels]
    return probabilities.argmax(axis=1) != labels, -np.log(np.clip(chosen, 1e-12, 1.0))


def row(config: TrainConfig, wrong: np.ndarray, losses: np.ndarray, seconds: float) -> dict:
    """A run as the sweep records it."""
    return {
        "width": config.filters,
        "size": config.train_size,
        **{axis: position(config, axis) for axis in AXES},
        "seconds": round(seconds, 1),
        "error": float(wrong.mean()),
        "loss": float(losses.mean()),
        "config": dataclasses.asdict(config),
    }


def save(runs: list[dict], wrong: np.ndarray, losses: np.ndarray, card: dict) -> None:
    np.savez_compressed(SWEEP_PATH, wrong=np.packbits(wrong, axis=1), losses=losses.astype(np.float16))
    CARD_PATH.write_text(json.dumps({**card, "runs": runs}, indent=1) + "\n")


def shipped() -> Sweep | None:
    """The sweep scripts/scale_sweep.py made, or None where it is not shipped."""
    try:
        card = json.loads(CARD_PATH.read_text())
        with np.load(SWEEP_PATH) as arrays:
            digits = arrays["losses"].shape[1]
            wrong = np.unpackbits(arrays["wrong"], axis=1, count=digits).astype(bool)
            losses = arrays["losses"].astype(np.float32)
    except (OSError, ValueError, KeyError):
        return None
    runs = card.pop("runs")
    return Sweep(runs, wrong, losses, card)
