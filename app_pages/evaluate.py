"""Evaluate page: the confusion matrix on MNIST's 10,000 test digits, and the digits behind every cell."""

import pyarrow as pa
import streamlit as st

import ui
from core.figures.bars import probability_list
from core.figures.matrices import class_scores, confusion_heatmap, difference_heatmap
from core.figures.pictures import enlarge
from core.i18n import _
from core.metrics import class_report, most_confused_pairs, row_percentages

GALLERY_SIZE = 24  # digits shown per cell, most confident mistakes first
DIGITS = list(range(10))

st.title(_("Evaluate"))
st.caption(
    _(
        "A confusion matrix counts, for every true digit (row), what the network predicted (column). "
        "The diagonal holds the digits it got right; every other cell is a kind of mistake. "
        "Click a cell, or choose it below, to see the digits in it."
    )
)

label = ui.active_label()
data = ui.mnist()
result = ui.evaluation(label)
matrix = result.matrix
confused = most_confused_pairs(matrix)


def describe(index: int) -> str:
    return f"#{index} · {result.confidence(index):.0%} · 2nd: {result.runner_up(index)}"


accuracy, errors = st.columns(2)
accuracy.metric(
    _("Test accuracy"),
    f"{result.accuracy:.2%}",
    help=_("{label} on the 10,000 MNIST test digits").format(label=ui.as_text(ui.model_name(label))),
)
errors.metric(_("Mistakes"), _("{errors:,} of {count:,}").format(errors=result.errors, count=len(data.y_test)))


@st.fragment
@ui.error_boundary("the confusion-matrix explorer")
def explorer() -> None:
    """The matrix and the digits of one cell: a click or a selector reruns only this part."""
    as_percent, dim = st.columns(2)
    as_percent = as_percent.toggle(_("Row percentages"), help=_("Each row as a share of that digit's test examples"))
    dim = dim.toggle(_("Dim the diagonal"), value=True, help=_("Colour only the mistakes so they stand out"))
    percentages = row_percentages(matrix) if as_percent else None
    figure = ui.chart(confusion_heatmap, matrix, percentages=percentages, dim_diagonal=dim, height=ui.chapter_height())
    click = st.plotly_chart(
        figure, on_select="rerun", selection_mode="points", key="matrix", config={"displayModeBar": False}
    )
    # A new click on a cell moves the selectors; after that the selectors are the visitor's to change.
    points = click.selection.points if click else []
    if points and points[0] != st.session_state.get("last_click"):
        st.session_state.last_click = points[0]
        st.session_state.cell_true, st.session_state.cell_predicted = int(points[0]["y"]), int(points[0]["x"])
    if "cell_true" not in st.session_state:
        st.session_state.cell_true, st.session_state.cell_predicted = confused[0][:2] if confused else (0, 0)

    left, right = st.columns(2)
    true_digit = left.selectbox(_("True digit"), DIGITS, key="cell_true")
    predicted_digit = right.selectbox(_("Predicted digit"), DIGITS, key="cell_predicted")
    indices = result.cell(true_digit, predicted_digit)
    if true_digit == predicted_digit:
        kind = _("read correctly")
    else:
        kind = _("read as {digit}").format(digit=predicted_digit)
    st.subheader(
        _("{indices:,} test digits that are {true_digit} and were {kind}").format(
            indices=len(indices), true_digit=true_digit, kind=kind
        )
    )
    if len(indices):
        shown = indices[:GALLERY_SIZE]
        pictures = ui.png_urls(enlarge, data.x_test[shown] / 255.0)
        st.image(pictures, caption=[describe(i) for i in shown], width=96)
        if len(indices) > GALLERY_SIZE:
            st.caption(
                _("The {GALLERY_SIZE} most confident of {indices:,}.").format(
                    GALLERY_SIZE=GALLERY_SIZE, indices=len(indices)
                )
            )
        picked = st.selectbox(_("Look closer at test digit"), shown, format_func=describe, key="closer")
        if st.button(_("Why? Explain this digit"), icon=":material/lightbulb:"):
            ui.open_in_explain(ui.SOURCES[1], index=int(picked))
        st.html(probability_list(result.probabilities[picked]))


explorer()

st.subheader(_("Per digit"))
scores, pairs = st.columns([2, 1])
with scores:
    report = class_report(matrix)
    figure = ui.chart(class_scores, report.precision, report.recall, report.f1)
    st.plotly_chart(figure, config={"displayModeBar": False})
    table = {"digit": DIGITS, "precision": report.precision, "recall": report.recall, "F1": report.f1}
    percent = st.column_config.NumberColumn
    st.dataframe(
        pa.table(table | {"test digits": report.support}),  # Arrow already: no pandas in every phone's run
        hide_index=True,
        column_config={
            "digit": st.column_config.Column(_("digit")),
            "precision": percent(_("precision"), format="percent"),
            "recall": percent(_("recall"), format="percent"),
            "F1": percent("F1", format="percent"),
            "test digits": st.column_config.NumberColumn(_("test digits")),
        },
    )
with pairs:
    st.markdown(_("**Most confused pairs**"))
    pair = _("true **{true}** read as **{read}**: {count}")
    st.markdown("\n".join("1. " + pair.format(true=t, read=p, count=n) for t, p, n in confused) or _("None."))

st.subheader(_("Model against model"))
others = [other for other in ui.model_labels() if other != label]
if not others:
    st.info(_("Only one model is available."))
elif st.toggle(_("Compare with another model"), key="comparing"):
    other = st.selectbox(_("Compare with"), others, key="compare")
    versus = ui.evaluation(other)
    mine, theirs = ui.as_text(ui.model_name(label)), ui.as_text(ui.model_name(other))
    st.caption(
        _(
            "Cells of **{mine}** minus cells of **{theirs}**: red where {mine2} has more digits, blue where fewer."
        ).format(mine=mine, theirs=theirs, mine2=mine)
    )
    st.plotly_chart(ui.chart(difference_heatmap, matrix - versus.matrix), config={"displayModeBar": False})
    only_this, only_other = result.right_where_wrong(versus)
    for title, wins in (
        (_("{right} right, {wrong} wrong").format(right=mine, wrong=theirs), only_this),
        (_("{right} right, {wrong} wrong").format(right=theirs, wrong=mine), only_other),
    ):
        st.markdown(_("**{title}: {wins} digits**").format(title=title, wins=len(wins)))
        if len(wins):
            shown = wins[:GALLERY_SIZE]
            pictures = ui.png_urls(enlarge, data.x_test[shown] / 255.0)
            st.image(pictures, caption=[f"#{i}" for i in shown], width=72)
