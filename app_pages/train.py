"""Train page: pick hyperparameters, train in the background, watch the curves, keep every run."""

import dataclasses

import streamlit as st

import ui
from core.jobs import ServerBusyError, TrainingJob, prepare
from core.models import model_bytes
from core.plots import training_curves
from core.registry import comparison_table, summary
from core.share import config_from_params, config_to_params
from core.training import ACTIVATIONS, ARCHITECTURES, OPTIMIZERS, PRESETS, SCHEDULES, TrainConfig

st.title("Train")
prepare()  # the trainer process starts while the visitor picks hyperparameters
st.caption("Pick a preset or your own hyperparameters and train a network. The page's link keeps the setup.")

if "train_config" not in st.session_state:  # first visit: the link decides, bad values fall back with a notice
    st.session_state.train_config, notices = config_from_params(st.query_params.to_dict())
    for notice in notices:
        st.warning(notice)
preset = st.segmented_control("Preset", list(PRESETS), key="preset")
if preset and st.session_state.get("applied_preset") != preset:
    st.session_state.train_config, st.session_state.applied_preset = PRESETS[preset], preset
base: TrainConfig = st.session_state.train_config


def steps(values: list, current) -> list:
    """A slider's stops, including the current value when a link or preset set it between them."""
    return sorted(set(values) | {current})


with st.expander("Hyperparameters", expanded=False):
    a, b, c = st.columns(3)
    values = {
        "architecture": a.selectbox("Architecture", ARCHITECTURES, ARCHITECTURES.index(base.architecture)),
        "conv_blocks": a.slider("Conv blocks", 1, 3, base.conv_blocks),
        "filters": a.select_slider("Filters in the first block", steps([4, 8, 16, 32, 64], base.filters), base.filters),
        "dense_units": a.select_slider(
            "Dense units", steps([16, 32, 64, 128, 256, 512], base.dense_units), base.dense_units
        ),
        "dropout": a.slider("Dropout", 0.0, 0.8, base.dropout, 0.05),
        "batch_norm": a.toggle("Batch normalisation", base.batch_norm),
        "activation": b.selectbox("Activation", ACTIVATIONS, ACTIVATIONS.index(base.activation)),
        "optimizer": b.selectbox("Optimiser", OPTIMIZERS, OPTIMIZERS.index(base.optimizer)),
        "learning_rate": b.select_slider(
            "Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1], base.learning_rate
        ),
        "schedule": b.selectbox("Schedule", SCHEDULES, SCHEDULES.index(base.schedule)),
        "weight_decay": b.select_slider(
            "Weight decay", steps([0.0, 1e-5, 1e-4, 1e-3, 1e-2], base.weight_decay), base.weight_decay
        ),
        "label_smoothing": b.slider("Label smoothing", 0.0, 0.3, base.label_smoothing, 0.05),
        "batch_size": c.select_slider("Batch size", steps([32, 64, 128, 256, 512], base.batch_size), base.batch_size),
        "epochs": c.slider("Epochs", 1, 20, base.epochs),
        "train_size": c.select_slider(
            "Training digits", steps([1_000, 5_000, 10_000, 30_000, 60_000], base.train_size), base.train_size
        ),
        "augment": c.toggle("Augmentation", base.augment),
        "validation_share": c.slider("Validation share", 0.05, 0.3, base.validation_share, 0.05),
        "seed": c.number_input("Seed", 0, 2**31 - 1, base.seed),
    }
config = dataclasses.replace(base, **values)
st.session_state.train_config = config
st.query_params.from_dict(config_to_params(config))

job: TrainingJob | None = st.session_state.get("job")
busy = job is not None and job.running
if st.button("Train", type="primary", icon=":material/play_arrow:", disabled=busy):
    try:
        job = TrainingJob(config, ui.mnist())
        job.start()
        st.session_state.job, st.session_state.job_saved = job, False
    except (ValueError, ServerBusyError) as error:
        st.error(str(error))


training = st.session_state.get("job") is not None and st.session_state.job.running


@st.fragment(run_every=1.0 if training else None)  # ticks only while this visitor's run trains
@ui.error_boundary("training progress")
def live() -> None:
    """Progress and curves of this visitor's run, refreshed every second while it trains."""
    job: TrainingJob | None = st.session_state.get("job")
    if job is None:
        return
    progress = job.progress
    if job.running:
        if progress is None:
            st.progress(0.0, "Preparing the data…")
        else:
            where = f"Epoch {progress.epoch}/{progress.epochs} · step {progress.step}/{progress.steps}"
            st.progress(progress.step / progress.steps, f"{where} · about {progress.seconds_left:.0f} s left")
        if st.button("Stop", icon=":material/stop:"):
            job.stop()
    if progress is not None:
        st.markdown(training_curves(progress.history), unsafe_allow_html=True)  # st.html drops SVG
    if job.error:
        st.error(job.error)
    elif not job.running and job.result is not None and not st.session_state.get("job_saved"):
        evicted = ui.registry().add(job.config, job.result)
        st.session_state.job_saved = True
        if evicted is not None:
            st.toast(f"Removed your oldest model, {evicted.name}, to make room.")
        if job.timed_out:
            st.warning("Training reached this server's time limit and was stopped.")
        st.rerun()  # the whole page, so the new model shows in the runs table and the sidebar


live()

st.subheader("Your models")
runs = ui.registry().runs
if not runs:
    st.info("Models you train or upload appear here and in the sidebar's model picker.")
else:
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        comparison_table(runs), hide_index=True,
        column_config={"validation accuracy": percent, "test accuracy": percent},
    )  # fmt: skip
for run in reversed(runs):
    with st.container(border=True):
        st.markdown(f"**{run.name}**")
        st.caption(summary(run))
        rename, save, delete = st.columns([3, 1, 1])
        new_name = rename.text_input("Name", run.name, key=f"name_{run.number}", label_visibility="collapsed")
        if new_name != run.name:
            try:
                ui.registry().rename(run.name, new_name)
                st.rerun()
            except ValueError as error:
                st.error(str(error))
        save.download_button(
            "Download",
            lambda run=run: model_bytes(run.model),
            f"digit-lab-run-{run.number}.keras",
            key=f"dl_{run.number}",
        )
        if delete.button("Delete", key=f"del_{run.number}"):
            ui.registry().delete(run.name)
            st.rerun()
