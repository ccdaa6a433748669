"""The Remember page's runs: the accuracy matrix filling in as a run learns, the run prepared ahead before a
visitor's first, and the visitor's runs compared."""

from __future__ import annotations

import streamlit as st

from core.continual import TASK_NAMES, ContinualConfig, reference
from core.figures.continual import continual_curves, continual_matrix, continual_runs
from core.i18n import _
from core.jobs.continual import ContinualJob
from ui.runs import follow_run, in_line
from ui.shared import chart
from ui.text import error_boundary

MAX_RUNS = 8  # runs of this visitor kept side by side


def show(result) -> None:
    matrix, curves = st.columns(2)
    matrix.plotly_chart(
        chart(continual_matrix, result.accuracy, result.test_counts, TASK_NAMES),
        width="stretch",
        key="continual_matrix",
    )
    curves.plotly_chart(
        chart(continual_curves, result.curves, TASK_NAMES, result.config.steps_per_task),
        width="stretch",
        key="continual_curves",
    )


def prepared_run(config: ContinualConfig) -> None:
    """Before a visitor's first run: this method's run prepared ahead, at once (a talk's chapter cannot wait)."""
    result = reference(config)
    if result is None:
        return
    st.caption(
        _(
            ":material/inventory_2: Prepared ahead with these settings (`python -m scripts.prepare`): "
            "average accuracy {average_accuracy:.0%}, forgetting {forgetting:.0%}. Run reproduces it live "
            "(same seed)."
        ).format(average_accuracy=result.average_accuracy, forgetting=result.forgetting)
    )
    show(result)


def live(config: ContinualConfig) -> None:
    """The matrix filling in and each task's curve, every second while this visitor's run learns."""
    job: ContinualJob | None = st.session_state.get("continual_job")
    st.fragment(run_every=1.0 if job is not None and job.running else None)(_live)(config)


@error_boundary("continual learning progress")  # a fragment's rerun is outside the page's boundary
def _live(config: ContinualConfig) -> None:
    job: ContinualJob | None = st.session_state.get("continual_job")
    if job is None:
        prepared_run(config)
        return
    if job.waiting and in_line(job):
        return
    progress = job.progress
    result = job.result or (progress.result if progress else None)
    follow_run(job, key="continual")
    if job.error:
        st.error(job.error)
    if result is not None:
        show(result)
    if not job.running and job.result is not None and not st.session_state.get("continual_saved"):
        runs = st.session_state.setdefault("continual_runs", [])
        runs.append(job.result)
        del runs[:-MAX_RUNS]
        st.session_state.continual_saved = True
        st.rerun()  # the whole page, so the comparison below includes this run


def compare(runs: list, name) -> None:
    """The visitor's runs side by side: a table and their average accuracy as tasks are learnt."""
    st.dataframe(
        [
            {
                _("run"): name(r),
                _("average accuracy"): r.average_accuracy,
                _("forgetting"): r.forgetting,
                _("tasks learnt"): r.tasks_done,
                _("seconds"): round(r.seconds, 1),
            }
            for r in runs
        ],
        hide_index=True,
        column_config={
            _("average accuracy"): st.column_config.NumberColumn(format="percent"),
            _("forgetting"): st.column_config.NumberColumn(format="percent"),
        },
    )
    curves = {f"{index + 1}. {name(r)}": r.averages for index, r in enumerate(runs)}
    st.plotly_chart(chart(continual_runs, curves, TASK_NAMES), width="stretch")
