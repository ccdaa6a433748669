"""Time of each Explain view for one digit on the default model, against one plain prediction.

Run from the repository root: `python -m bench.explain` (under a minute). Medians of --repeats.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.timing import median_seconds
from core import explain
from core.models import kept_for_server, load_default_model, predict_proba
from core.pictures.data import load_mnist


def main(repeats: int) -> None:
    model = kept_for_server(load_default_model())
    data = load_mnist()
    image, label = data.x_test[0] / np.float32(255), int(data.y_test[0])
    views = {
        "gradient saliency": lambda: explain.saliency(model, image, label),
        "SmoothGrad (32 samples)": lambda: explain.smoothgrad(model, image, label),
        "integrated gradients (64 steps)": lambda: explain.integrated_gradients(model, image, label),
        "Grad-CAM": lambda: explain.grad_cam(model, image, label),
        "occlusion (6x6 patch, stride 2)": lambda: explain.occlusion(model, image, label),
        "filters and feature maps": lambda: (explain.first_layer_weights(model), explain.feature_maps(model, image)),
        "all five attributions (the page)": lambda: explain.explain(model, image, label),
    }
    baseline = median_seconds(lambda: predict_proba(model, image[None]), repeats)
    print(f"Explain views on the default model, one digit, medians of {repeats} (target <= 1 s each):")
    for name, function in views.items():
        seconds = median_seconds(function, repeats)
        print(f"  {name:34s} {seconds * 1000:7.1f} ms  = {seconds / baseline:6.1f}x one prediction")
    print(f"  baseline: one prediction (predict_proba) {baseline * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    main(parser.parse_args().repeats)
