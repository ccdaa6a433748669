"""What the long training scripts share: a checkpoint after every epoch, resumed when the script runs again, and a
warmed-up cosine learning rate."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def load_weights(path: Path) -> list[np.ndarray]:
    with np.load(path) as saved:
        return [saved[f"arr_{index}"] for index in range(len(saved.files))]


def save_state(folder: Path, models: dict, optimizer, state: dict) -> None:
    """Each model's weights, the optimizer's, then `state` (a JSON dict with "epochs_done" and "seconds"), last."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, model in models.items():
        np.savez(folder / f"{name}.npz", *model.get_weights())
    np.savez(folder / "optimizer.npz", *[variable.numpy() for variable in optimizer.variables])
    (folder / "state.tmp").write_text(json.dumps(state, indent=2))
    os.replace(folder / "state.tmp", folder / "state.json")  # the state names only weights already written


def resume(folder: Path, models: dict, optimizer, state: dict) -> dict:
    """The state saved in `folder` with the weights put back (the optimizer built), or `state` if none was saved."""
    if not (folder / "state.json").exists():
        return state
    state = json.loads((folder / "state.json").read_text())
    for name, model in models.items():
        model.set_weights(load_weights(folder / f"{name}.npz"))
    for variable, value in zip(optimizer.variables, load_weights(folder / "optimizer.npz"), strict=True):
        variable.assign(value)
    print(f"resuming after epoch {state['epochs_done']} ({state['seconds'] / 60:.1f} min so far)", flush=True)
    return state


def learning_rate(step: int, total: int, recipe: dict) -> float:
    """Warmed up linearly over recipe["warmup_steps"], then a cosine from recipe["learning_rate"] down to a share
    recipe["final_learning_rate_share"] of it at `total` steps."""
    peak, warmup = recipe["learning_rate"], recipe["warmup_steps"]
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    floor = recipe["final_learning_rate_share"]
    return peak * (floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * min(1.0, progress))))
