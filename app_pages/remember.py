"""Remember page: teach a network 0/1, then 2/3, 4/5, 6/7, 8/9, and watch what it forgets (continual learning)."""

import streamlit as st

import ui
from core.continual import TASK_NAMES, ContinualConfig, ContinualJob, reference
from core.figures.continual import continual_curves, continual_matrix, continual_runs
from core.runs.child import warm_forkserver
from core.runs.line import ServerBusyError

MAX_RUNS = 8  # runs of this visitor kept side by side
METHODS = {  # method -> (label, what it does in plain words)
    "finetune": (
        "Fine-tune",
        "Train on each pair alone. The classic failure: it learns the new digits and forgets "
        "the old ones, because nothing tells it to keep them.",
    ),
    "replay": (
        "Replay",
        "Keep a few examples of every digit seen, and mix them into training on each new pair: "
        "rehearsal, the way people revise. Even 50 per digit goes a long way.",
    ),
    "ewc": (
        "EWC",
        "Elastic weight consolidation: after each pair, measure how much each weight mattered to it (its "
        "Fisher information), then make those weights stiff. Works when told which pair a digit is from.",
    ),
    "lwf": (
        "LwF",
        "Learning without forgetting: while learning new digits, keep the old network's answers on them. "
        "No stored examples; the old digits' own pictures are never seen again.",
    ),
    "joint": ("Joint", "Train on every pair so far at once: not continual learning, the upper bound it aims for."),
}
SCENARIOS = {"class": "Which digit?", "task": "Which of the pair?"}

st.title("Remember")
warm_forkserver()  # the process runs fork from starts while the visitor picks a method
st.caption(
    "Teach a network two digits at a time, 0/1 then 2/3, 4/5, 6/7, 8/9 (split MNIST, on the two-layer network of "
    "van de Ven & Tolias 2019), and see what it still knows after each. Every run stays in your session."
)
left, right = st.columns(2)
method = left.segmented_control(
    "Method",
    list(METHODS),
    format_func=lambda m: METHODS[m][0],
    default=st.query_params.get("method")
    if st.query_params.get("method") in METHODS
    else "finetune",  # the problem first
    required=True,
    key="continual_method",
)
scenario = right.segmented_control(
    "Question",
    list(SCENARIOS),
    format_func=SCENARIOS.get,
    default="class",
    required=True,
    key="continual_scenario",
    help="Which digit? (class-incremental): it must say which of all the digits seen so far it is. "
    "Which of the pair? (task-incremental): it is told the pair and picks one of its two digits.",
)
st.caption(METHODS[method][1])
knobs = {}
if method == "replay":
    knobs["buffer_per_class"] = st.select_slider("Examples kept per digit", [10, 20, 50, 100, 200, 500], 50)
if method == "ewc":
    knobs["ewc_lambda"] = st.select_slider(
        "λ: how stiff the weights that mattered become",
        [1e2, 1e3, 1e4, 1e5, 1e6, 1e7],
        1e5,
        format_func=lambda v: f"{v:.0e}",
    )
config = ContinualConfig(method=method, scenario=scenario, **knobs)

job: ContinualJob | None = st.session_state.get("continual_job")
if st.button("Run", type="primary", icon=":material/play_arrow:", disabled=job is not None and job.running):
    try:
        job = ContinualJob(config, ui.mnist(), **ui.job_owner())
        job.start()
        st.session_state.continual_job, st.session_state.continual_saved = job, False
    except ServerBusyError as error:
        st.error(str(error))

running = st.session_state.get("continual_job") is not None and st.session_state.continual_job.running


def show(result) -> None:
    matrix, curves = st.columns(2)
    matrix.plotly_chart(
        ui.chart(continual_matrix, result.accuracy, result.test_counts, TASK_NAMES),
        width="stretch",
        key="continual_matrix",
    )
    curves.plotly_chart(
        ui.chart(continual_curves, result.curves, TASK_NAMES, result.config.steps_per_task),
        width="stretch",
        key="continual_curves",
    )


def prepared_run(config: ContinualConfig) -> None:
    """Before a visitor's first run: this method's run prepared ahead, at once (a talk's chapter cannot wait)."""
    result = reference(config)
    if result is None:
        return
    st.caption(
        f":material/inventory_2: Prepared ahead with these settings (`python -m scripts.prepare`): average accuracy "
        f"{result.average_accuracy:.0%}, forgetting {result.forgetting:.0%}. Run reproduces it live (same seed)."
    )
    show(result)


@st.fragment(run_every=1.0 if running else None)
@ui.error_boundary("continual learning progress")
def live() -> None:
    """The matrix filling in and each task's curve, every second while this visitor's run learns."""
    job: ContinualJob | None = st.session_state.get("continual_job")
    if job is None:
        prepared_run(config)
        return
    if job.waiting and ui.in_line(job):
        return
    progress = job.progress
    result = job.result or (progress.result if progress else None)
    ui.follow_run(job, key="continual")
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


live()

st.subheader("Your runs")
runs = st.session_state.get("continual_runs", [])
if not runs:
    st.info("Run a method to see its matrix here; then try another and compare.", icon=":material/science:")
else:

    def name(result) -> str:
        knob = {"replay": f" {result.config.buffer_per_class}/digit", "ewc": f" λ {result.config.ewc_lambda:.0e}"}
        return f"{METHODS[result.config.method][0]}{knob.get(result.config.method, '')} · {result.config.scenario}"

    st.dataframe(
        [
            {
                "run": name(r),
                "average accuracy": r.average_accuracy,
                "forgetting": r.forgetting,
                "tasks learnt": r.tasks_done,
                "seconds": round(r.seconds, 1),
            }
            for r in runs
        ],
        hide_index=True,
        column_config={
            "average accuracy": st.column_config.NumberColumn(format="percent"),
            "forgetting": st.column_config.NumberColumn(format="percent"),
        },
    )
    curves = {f"{index + 1}. {name(r)}": r.averages for index, r in enumerate(runs)}
    st.plotly_chart(ui.chart(continual_runs, curves, TASK_NAMES), width="stretch")
    st.caption(
        "Average accuracy: over the pairs learnt so far. Forgetting: how far each earlier pair fell from its "
        "best, on average."
    )
