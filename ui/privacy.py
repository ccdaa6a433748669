"""The Privacy page's glue: a visitor's private runs on the chart, their result, the twins' scores, the canary."""

from __future__ import annotations

import math

import streamlit as st

from core.i18n import _
from core.membership import CANARY_COPIES
from core.runs.line import ServerBusyError
from ui.canvas import drawing_canvas, show_refusal
from ui.models import mnist, registry
from ui.pictures import your_input
from ui.runs import follow_run
from ui.session import job_owner

COPIES = CANARY_COPIES


def your_private_runs() -> list[tuple[float, float]]:
    """(ε, test accuracy) of this visitor's private runs."""
    return [
        (run.result.privacy.epsilon, run.test_accuracy)
        for run in registry().runs
        if run.result is not None and run.result.privacy is not None
    ]


def private_result() -> None:
    """The last private run's accuracy and what it spent, with everything another accountant needs to check it."""
    result = st.session_state.get("privacy_job_result")
    if result is None or result.privacy is None:
        return
    spend = result.privacy
    accuracy, spent, noise = st.columns(3)
    accuracy.metric(_("Test accuracy"), f"{result.test_accuracy:.2%}", border=True)
    spent.metric(
        _("ε spent"), f"{spend.epsilon:.2f}", f"δ = {spend.delta:g}", delta_color="off", delta_arrow="off", border=True
    )
    noise.metric(
        _("Noise multiplier"),
        f"{spend.noise_multiplier:.3f}",
        _("clip {clip:g}").format(clip=spend.clip),
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    st.caption(
        _(
            "{steps:,} steps, each a batch of {sample_rate:.4%} of the training digits; ε by Rényi DP "
            "(dp-accounting) from the noise, that rate, the steps and δ. It joined your models."
        ).format(steps=spend.steps, sample_rate=spend.sample_rate)
    )


def twins_metrics(twins: dict[str, dict]) -> None:
    left, right = st.columns(2)
    for column, key, name in ((left, "overfit", _("Without privacy")), (right, "private", _("Private twin"))):
        twin = twins[key]
        epsilon = "" if math.isinf(twin["epsilon"]) else f" · ε {twin['epsilon']:.1f}"
        column.metric(
            _("{name}: the attack's AUC").format(name=name),
            f"{twin['auc']:.2f}",
            _("test accuracy {accuracy:.1%}").format(accuracy=twin["test_accuracy"]) + epsilon,
            delta_color="off",
            delta_arrow="off",
            border=True,
        )


def canary_controls(job_kind) -> None:
    """The canvas, the label, the run, and what each network remembers of the drawing."""
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        drawn = drawing_canvas("canary_canvas")
        show_refusal(drawn)
    drawing = drawn.image if drawn.image is not None else your_input()  # else the Draw page's
    with right:
        if drawn.image is None and drawing is not None:
            st.caption(_("Draw here, or plant the drawing you made on the Draw page."))
        label = st.segmented_control(_("Its label"), list(range(10)), default=7, required=True, key="canary_label")
        job = st.session_state.get("canary_job")
        busy = job is not None and job.running
        if st.button(
            _("Plant it and train both"), type="primary", icon=":material/science:", disabled=drawing is None or busy
        ):
            try:
                job = job_kind(drawing, label, mnist(), **job_owner())
                job.start()
                st.session_state.canary_job = job
            except (ValueError, ServerBusyError) as error:
                st.error(str(error))
    job = st.session_state.get("canary_job")  # perhaps started just now: then the outcome refreshes every second
    st.fragment(run_every=1.0 if job is not None and job.running else None)(_canary_outcome)()


def _canary_outcome() -> None:
    job = st.session_state.get("canary_job")
    if job is None or follow_run(job, key="canary"):
        return
    if job.error:
        st.error(job.error)
        return
    for column, canary in zip(st.columns(2), job.result, strict=True):
        name = _("Private (ε {epsilon:.1f})").format(epsilon=canary.epsilon) if canary.private else _("Without privacy")
        verdict = _("the attack says: a member") if canary.member else _("the attack says: not a member")
        column.metric(
            _("{name}: your drawing's rank").format(name=name),
            _("#{rank} of {copies}").format(rank=canary.rank, copies=canary.copies),
            verdict,
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
    st.caption(
        _(
            "Rank 1: of your drawing and its never-planted copies, the network is surest of the one it learnt. "
            "The verdict: the attack's call, from the drawing's loss against the network's average on its "
            "training digits."
        )
    )
