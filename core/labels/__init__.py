"""How far a few labels go: an encoder learnt without labels (encoder), training from a few labelled digits
(few), and which digits to ask a person to label (choice)."""

from core.labels.few import BEST, METHODS, fit_few

__all__ = ["BEST", "METHODS", "fit_few"]
