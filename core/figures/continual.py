"""Forgetting: the accuracy matrix of tasks learnt in turn, each task's curve, and runs compared."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import MUTED, accuracy_layout
from core.i18n import _


def continual_matrix(accuracy: np.ndarray, test_counts, task_names: list[str]) -> go.Figure:
    """The (5, 5) accuracy matrix: row = after learning task j, column = task i; blank where not yet learnt."""
    text = np.array([["" if np.isnan(v) else f"{v:.0%}" for v in row] for row in accuracy])
    counts = np.broadcast_to(np.asarray(test_counts), accuracy.shape) if len(test_counts) else np.zeros(accuracy.shape)
    figure = go.Figure(
        go.Heatmap(
            z=accuracy,
            x=task_names,
            y=[_("after {task}").format(task=name) for name in task_names],
            text=text,
            texttemplate="%{text}",
            customdata=counts,
            zmin=0,
            zmax=1,
            colorscale=[[0, "#3b1e22"], [0.5, "#b5452f"], [1, "#2f9e6f"]],
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate=_("%{y}, on %{x}: %{z:.1%} of %{customdata:,} test digits<extra></extra>"),
        )
    )
    figure.update_layout(
        xaxis={"title": _("tested on"), "side": "top", "fixedrange": True},
        yaxis={"autorange": "reversed", "fixedrange": True},
        height=330,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )
    return figure


def continual_curves(curves: list, task_names: list[str], steps_per_task: int) -> go.Figure:
    """Each task's test accuracy over the whole run (from the step it is first learnt), tasks marked."""
    figure = go.Figure()
    steps = [step for step, __ in curves]
    for index, name in enumerate(task_names):
        values = [None if np.isnan(point[index]) else point[index] for __, point in curves]
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=values,
                mode="lines",
                name=name,
                hovertemplate=_("{name}, step %{{x}}: %{{y:.0%}}<extra></extra>").format(name=name),
            )
        )
    for index in range(1, len(task_names)):
        figure.add_vline(x=index * steps_per_task, line={"color": MUTED, "dash": "dot", "width": 1})
    return accuracy_layout(figure, _("training step (a new task at each dotted line)"), _("test accuracy"))


def continual_runs(runs: dict[str, np.ndarray], task_names: list[str]) -> go.Figure:
    """Average accuracy over the tasks learnt so far, after each task: one line per run."""
    figure = go.Figure()
    for name, averages in runs.items():
        figure.add_trace(
            go.Scatter(
                x=task_names[: len(averages)],
                y=averages,
                mode="lines+markers",
                name=name,
                hovertemplate=_("after %{x}: %{y:.1%}<extra>%{fullData.name}</extra>"),
            )
        )
    return accuracy_layout(figure, _("tasks learnt"), _("average accuracy so far"))
