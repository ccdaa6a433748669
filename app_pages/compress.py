"""Compress page: the same skill in a fraction of the size and time. Quantize, prune, distil; measure each."""

import streamlit as st

import ui
import ui.variants as runs
from core.distill import ALPHAS, TEMPERATURES
from core.figures.compression import compression_figure
from core.i18n import _
from core.models import model_bytes
from core.prune import SPARSITIES
from core.quantize import QUANTIZATIONS
from core.runs.child import warm_forkserver
from core.training.budget import network
from core.training.config import STUDENTS

st.title(_("Compress"))
warm_forkserver()  # the process runs fork from starts while the visitor reads
st.caption(
    _(
        "What puts a network on a phone: fewer bits per weight, fewer weights, or a smaller network taught by the big "
        "one. Every variant below is a TensorFlow Lite file, read through the TFLite interpreter on the same 10,000 "
        "test digits."
    )
)
labels = ui.keras_labels()
source = st.selectbox(
    _("Model to compress"),
    labels,
    format_func=ui.model_name,
    index=labels.index(ui.active_label()) if ui.active_label() in labels else 0,
    key="compress_source",
)
busy = runs.pending() is not None
quantize, prune, distill = st.tabs([_("Quantize"), _("Prune"), _("Distil")])
with quantize:
    st.markdown("\n".join(f"- **{name}**: {_(what)}" for name, what in QUANTIZATIONS.items()))
    if st.button(_("Quantize"), type="primary", disabled=busy):
        runs.start("quantize", source)
with prune:
    st.caption(
        _(
            "Set the smallest weights to zero, a little more every few steps while fine-tuning on MNIST "
            "(Zhu & Gupta 2017), so the rest learn to do without them. Zeros compress: see the zipped "
            "size."
        )
    )
    sparsity = st.select_slider(_("Weights set to zero"), SPARSITIES, 0.8, format_func="{:.0%}".format)
    if st.button(_("Prune"), type="primary", disabled=busy):
        runs.start("prune", source, sparsity=sparsity)
with distill:
    st.caption(
        _(
            "Train a small student on the teacher's softened answers as well as the labels (Hinton, Vinyals & "
            "Dean 2015): they say which digits a 7 looks like, which labels do not. Then train the same student "
            "alone, same steps, same seed, and compare."
        )
    )
    student = st.selectbox(
        _("Student"),
        list(STUDENTS),
        format_func=lambda name: _("{name} · {parameters:,} parameters").format(
            name=_(name), parameters=network(STUDENTS[name]).parameters
        ),
    )
    left, right = st.columns(2)
    softer = _("Softens both networks' answers: higher shows more of the runners-up.")
    temperature = left.select_slider(_("Temperature T"), TEMPERATURES, 4.0, format_func="{:g}".format, help=softer)
    weight = _("α on the labels' cross-entropy, 1 − α on the teacher's softened answers.")
    alpha = right.select_slider(_("Weight of the labels α"), ALPHAS, 0.1, format_func="{:g}".format, help=weight)
    teach, alone = st.columns(2)
    if teach.button(
        _("Distil from {source}").format(source=ui.model_name(source)[:30]),
        type="primary",
        disabled=busy,
        width="stretch",
    ):
        runs.start("distill", source, student=student, temperature=temperature, alpha=alpha)
    if alone.button(_("Train it alone"), disabled=busy, width="stretch"):
        runs.start("alone", source, student=student)


@st.fragment(run_every=1.0 if runs.pending() is not None else None)
@ui.error_boundary("compression progress")
def live() -> None:
    """Progress of this visitor's run, every second; when it ends, its variants join the table."""
    pending = runs.pending()
    if pending is None or ui.follow_run(pending.job, key="compress"):
        return
    st.session_state.compress_error = runs.collect()
    st.rerun()


live()
if st.session_state.get("compress_error"):
    st.error(st.session_state.pop("compress_error"))
variants = runs.variants()
if not variants:
    st.info(_("Quantize, prune or distil a model to see what it costs here."), icon=":material/compress:")
    st.stop()
st.subheader(_("Every variant"))
number = st.column_config.NumberColumn
st.dataframe(
    [v.row() | {"model": ui.model_name(v.source)} for v in variants],
    hide_index=True,
    column_config={
        "model": st.column_config.Column(_("model")),
        "format": st.column_config.Column(_("format")),
        "test accuracy (%)": number(_("test accuracy (%)"), format="%.2f"),
        "zero weights (%)": number(_("zero weights (%)"), format="%.0f"),
        "parameters": number(_("parameters"), format="localized"),
        "size (KB)": number(_("size (KB)"), format="%.0f"),
        "zipped (KB)": number(_("zipped (KB)"), format="%.0f"),
        "ms per digit": number(_("ms per digit"), format="%.3f"),
    },
)
called = {v.source: ui.model_name(v.source) for v in variants}
st.plotly_chart(compression_figure(variants, called), width="stretch")
st.caption(
    _(
        "Marker size: time to read one digit through the interpreter, one thread. Shapes: ● float32 · ◆ float16 "
        "· ■ dynamic · ★ int8."
    )
)
names = [f"{ui.model_name(v.source)[:50]} · {v.quantization}" for v in variants]
picked = variants[st.selectbox(_("Variant"), range(len(variants)), format_func=names.__getitem__, index=len(names) - 1)]
files, use = st.columns(2)
stem = "".join(c if c.isalnum() else "_" for c in picked.source[:30]).strip("_").lower() or "model"
files.download_button(
    _("Download .tflite"),
    picked.flatbuffer,
    f"{stem}_{picked.quantization}.tflite",
    icon=":material/download:",
    width="stretch",
)
if use.button(_("Draw with it"), icon=":material/draw:", width="stretch", help=_("Adds it to the sidebar's models.")):
    runs.use_everywhere(picked)
    st.switch_page("app_pages/draw.py")
run = ui.registry().get(picked.source)
if run is not None:
    st.download_button(
        _("Download {source} as .keras").format(source=picked.source[:40]),
        lambda: model_bytes(run.model),
        f"{stem}.keras",
        icon=":material/download:",
    )
