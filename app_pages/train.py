"""Train page: pick hyperparameters, train in the background, watch the curves, keep every run."""

import dataclasses

import streamlit as st

import ui
from core.figures.curves import training_curves
from core.i18n import _, ngettext
from core.runs.child import warm_forkserver
from core.runs.host import HOST
from core.runs.job import MAX_SECONDS
from core.runs.line import running
from core.training import reference as training_reference
from core.training.budget import epochs_within, estimate, pace
from core.training.config import CHOICES, PRESETS, TrainConfig
from core.training.links import config_from_params, config_to_params

st.title(_("Train"))
warm_forkserver()  # the trainer process starts while the visitor picks hyperparameters
st.caption(_("Pick a preset or your own hyperparameters and train a network. The page's link keeps the setup."))

if "train_config" not in st.session_state:  # first visit: the link decides, bad values fall back with a notice
    st.session_state.train_config, notices = config_from_params(st.query_params.to_dict())
    for notice in notices:
        st.warning(ui.as_text(notice))
preset = st.segmented_control(_("Preset"), list(PRESETS), format_func=_, key="preset")
if preset and st.session_state.get("applied_preset") != preset:
    st.session_state.train_config, st.session_state.applied_preset = PRESETS[preset], preset
base: TrainConfig = st.session_state.train_config


def choose(column, label: str, name: str):
    """A control for one field, offering exactly its CHOICES."""
    allowed, value = CHOICES[name], getattr(base, name)
    if isinstance(value, bool):
        return column.toggle(label, value)
    if isinstance(value, str):
        return column.selectbox(label, allowed, allowed.index(value))
    if isinstance(allowed, range):
        return column.number_input(label, allowed.start, allowed.stop - 1, value)
    return column.select_slider(label, allowed, value)


with st.expander(_("Hyperparameters"), expanded=False):
    a, b, c = st.columns(3)
    labels = {
        a: {
            "architecture": _("Architecture"),
            "conv_blocks": _("Conv blocks"),
            "filters": _("Filters in the first block"),
            "dense_units": _("Dense units (RNN: units; Transformer: width)"),
            "blocks": _("Blocks (ResNet per stage; RNN layers; Transformer)"),
            "cell": _("RNN cell"),
            "patch_size": _("Transformer patch size"),
            "heads": _("Transformer heads"),
            "stem": _("Transformer conv stem (filters; 0: none)"),
            "dropout": _("Dropout"),
            "batch_norm": _("Batch normalisation"),
        },
        b: {
            "activation": _("Activation"),
            "optimizer": _("Optimiser"),
            "learning_rate": _("Learning rate"),
            "schedule": _("Schedule"),
            "weight_decay": _("Weight decay"),
            "label_smoothing": _("Label smoothing"),
        },
        c: {
            "batch_size": _("Batch size"),
            "epochs": _("Epochs"),
            "train_size": _("Training digits"),
            "augment": _("Augmentation"),
            "validation_share": _("Validation share"),
            "adversarial_eps": _("Adversarial training ε"),
            "drop_suspects": _("Leave out suspected label errors"),
            "dp_epsilon": _("Differential privacy ε (0: off)"),
            "dp_clip": _("Private runs: gradient clipping norm"),
            "seed": _("Seed"),
        },
    }
    values = {name: choose(column, label, name) for column, fields in labels.items() for name, label in fields.items()}
config = dataclasses.replace(base, **values)
st.session_state.train_config = config
st.query_params.from_dict({**config_to_params(config), **ui.talk_params()})  # a talk stays a talk

cost = estimate(config)
refusal = cost.over_budget()
going = running()
seconds = cost.seconds * pace(going + 1, HOST.cpus)  # runs already going share the cores


def duration(seconds: float) -> str:
    return (
        _("{minutes:.0f} min").format(minutes=seconds / 60)
        if seconds >= 90
        else _("{seconds:.0f} s").format(seconds=seconds)
    )


beside = (
    ngettext(" beside the {count} run going now", " beside the {count} runs going now", going).format(count=going)
    if pace(going + 1, HOST.cpus) > 1
    else ""
)
st.caption(
    _("{parameters:,} parameters · about {seconds}{beside} and {value:.1f} GB to train here").format(
        parameters=cost.network.parameters, seconds=duration(seconds), beside=beside, value=cost.memory_mb / 1024
    )
)
if seconds > MAX_SECONDS and refusal is None:
    fits = epochs_within(config, MAX_SECONDS / pace(going + 1, HOST.cpus))
    st.warning(
        ngettext(
            "Runs stop at {minutes:.0f} min, keeping the model so far: this one would be stopped before its "
            "{epochs} epochs end. {fits} epoch would fit.",
            "Runs stop at {minutes:.0f} min, keeping the model so far: this one would be stopped before its "
            "{epochs} epochs end. {fits} epochs would fit.",
            fits,
        ).format(minutes=MAX_SECONDS / 60, epochs=config.epochs, fits=fits),
        icon=":material/timer:",
    )
    if st.button(ngettext("Use {fits} epoch", "Use {fits} epochs", fits).format(fits=fits), icon=":material/timer:"):
        st.session_state.train_config = dataclasses.replace(config, epochs=fits)
        st.rerun()
if refusal:
    st.warning(refusal, icon=":material/memory:")

ui.training_button("job", _("Train"), config, icon=":material/play_arrow:", disabled=refusal is not None)
if st.session_state.get("job") is None:  # before this visitor's first run: what one looks like, at once
    prepared = training_reference.load()
    if prepared is not None:
        st.markdown(
            _(
                "**Prepared ahead: the Quick preset, seed 0**, on a 2-core machine: {test_accuracy:.2%} of the "
                "test digits right after {seconds:.0f} s. Choose **Quick** and press **Train** to run it live."
            ).format(test_accuracy=prepared.test_accuracy, seconds=prepared.seconds)
        )
        st.markdown(training_curves(prepared.history), unsafe_allow_html=True)  # st.html drops SVG

st.subheader(_("Your models"))
ui.your_models()
