"""Generation: digits drawn by a network (sampling.py: what the Generate page asks for), the networks that draw them
(networks.py), the flow they follow (flow.py), and whether what they draw copies their training digits (copies.py).
"""

from core.generation.flow import noised, velocity
from core.generation.networks import NULL, TIME_FEATURES, build_unet, build_vae, time_features, vae_file_model
from core.generation.sampling import (
    GUIDANCE,
    NAMES,
    STEPS,
    Generator,
    complete,
    generator_paths,
    load_generator,
    map_grid,
    place_on_map,
    sample,
    trajectory,
    transform,
)

__all__ = [
    "GUIDANCE",
    "NAMES",
    "NULL",
    "STEPS",
    "TIME_FEATURES",
    "Generator",
    "build_unet",
    "build_vae",
    "complete",
    "generator_paths",
    "load_generator",
    "map_grid",
    "noised",
    "place_on_map",
    "sample",
    "time_features",
    "trajectory",
    "transform",
    "vae_file_model",
    "velocity",
]
