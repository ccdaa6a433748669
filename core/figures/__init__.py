"""Figures: a module per kind of picture (bars, pictures, curves, matrices) or per concept (robustness, trust, ...)."""
