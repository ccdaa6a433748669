"""Remember page: teach a network 0/1, then 2/3, 4/5, 6/7, 8/9, and watch what it forgets (continual learning)."""

import streamlit as st

import ui
import ui.continual
from core.continual import ContinualConfig
from core.i18n import N_, _
from core.jobs.continual import ContinualJob
from core.runs.child import warm_forkserver
from core.runs.line import ServerBusyError

METHODS = {  # method -> (label, what it does in plain words)
    "finetune": (
        N_("Fine-tune"),
        N_(
            "Train on each pair alone. The classic failure: it learns the new digits and forgets "
            "the old ones, because nothing tells it to keep them."
        ),
    ),
    "replay": (
        N_("Replay"),
        N_(
            "Keep a few examples of every digit seen, and mix them into training on each new pair: "
            "rehearsal, the way people revise. Even 50 per digit goes a long way."
        ),
    ),
    "ewc": (
        N_("EWC"),
        N_(
            "Elastic weight consolidation: after each pair, measure how much each weight mattered to it (its "
            "Fisher information), then make those weights stiff. Works when told which pair a digit is from."
        ),
    ),
    "lwf": (
        N_("LwF"),
        N_(
            "Learning without forgetting: while learning new digits, keep the old network's answers on them. "
            "No stored examples; the old digits' own pictures are never seen again."
        ),
    ),
    "joint": (
        N_("Joint"),
        N_("Train on every pair so far at once: not continual learning, the upper bound it aims for."),
    ),
}
SCENARIOS = {"class": N_("Which digit?"), "task": N_("Which of the pair?")}

st.title(_("Remember"))
warm_forkserver()  # the process runs fork from starts while the visitor picks a method
st.caption(
    _(
        "Teach a network two digits at a time, 0/1 then 2/3, 4/5, 6/7, 8/9 (split MNIST, on the two-layer network of "
        "van de Ven & Tolias 2019), and see what it still knows after each. Every run stays in your session."
    )
)
left, right = st.columns(2)
method = left.segmented_control(
    _("Method"),
    list(METHODS),
    format_func=lambda m: _(METHODS[m][0]),
    default=st.query_params.get("method")
    if st.query_params.get("method") in METHODS
    else "finetune",  # the problem first
    required=True,
    key="continual_method",
)
scenario = right.segmented_control(
    _("Question"),
    list(SCENARIOS),
    format_func=lambda s: _(SCENARIOS[s]),
    default="class",
    required=True,
    key="continual_scenario",
    help=_(
        "Which digit? (class-incremental): it must say which of all the digits seen so far it is. "
        "Which of the pair? (task-incremental): it is told the pair and picks one of its two digits."
    ),
)
st.caption(_(METHODS[method][1]))
knobs = {}
if method == "replay":
    knobs["buffer_per_class"] = st.select_slider(_("Examples kept per digit"), [10, 20, 50, 100, 200, 500], 50)
if method == "ewc":
    knobs["ewc_lambda"] = st.select_slider(
        _("λ: how stiff the weights that mattered become"),
        [1e2, 1e3, 1e4, 1e5, 1e6, 1e7],
        1e5,
        format_func=lambda v: f"{v:.0e}",
    )
config = ContinualConfig(method=method, scenario=scenario, **knobs)

job: ContinualJob | None = st.session_state.get("continual_job")
if st.button(_("Run"), type="primary", icon=":material/play_arrow:", disabled=job is not None and job.running):
    try:
        job = ContinualJob(config, ui.mnist(), **ui.job_owner())
        job.start()
        st.session_state.continual_job, st.session_state.continual_saved = job, False
    except ServerBusyError as error:
        st.error(str(error))

ui.continual.live(config)

st.subheader(_("Your runs"))
runs = st.session_state.get("continual_runs", [])
if not runs:
    st.info(_("Run a method to see its matrix here; then try another and compare."), icon=":material/science:")
else:

    def name(result) -> str:
        knob = {
            "replay": _(" {count}/digit").format(count=result.config.buffer_per_class),
            "ewc": f" λ {result.config.ewc_lambda:.0e}",
        }
        method, scenario = _(METHODS[result.config.method][0]), _(SCENARIOS[result.config.scenario])
        return f"{method}{knob.get(result.config.method, '')} · {scenario}"

    ui.continual.compare(runs, name)
    st.caption(
        _(
            "Average accuracy: over the pairs learnt so far. Forgetting: how far each earlier pair fell from its "
            "best, on average."
        )
    )
