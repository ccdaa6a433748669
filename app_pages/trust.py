"""Trust page: whom the network fails (slices of handwriting), how far to trust its "sure", how it breaks."""

import streamlit as st

import ui
from core.figures.pictures import enlarge
from core.figures.trust import confidence_histogram, reliability_figure, shift_figure, slice_figure
from core.i18n import _
from core.pictures.slices import ATTRIBUTES, slices, worst
from core.shift import DIGITS as SHIFT_DIGITS
from core.shift import SHIFTS

GALLERY_SIZE = 24  # mistakes shown of a slice

st.title(_("Trust"))
st.caption(
    _(
        "Not only how often it is right: for whose handwriting it fails, whether its confidence means what it "
        "says, and how fast it breaks when digits look different."
    )
)
label, data = ui.active_label(), ui.mnist()
result = ui.evaluation(label)
by_style, trust, stress = st.tabs([_("Slices"), _("Calibration"), _("Stress test")])

with by_style:
    store = ui.kept_with_model(label)
    if "slices" not in store:
        store["slices"] = slices(ui.test_styles(), result.predicted == data.y_test)
    groups = store["slices"]
    lowest = worst(groups)
    st.markdown(
        _(
            "The test digits cut into quarters by each trait of their handwriting. The worst slice: "
            "**{label}** ({attribute}), {accuracy:.2%} of {count:,} read right (95%: "
            "{interval:.2%}–{interval2:.2%}), against {accuracy2:.2%} for all."
        ).format(
            label=lowest.label,
            attribute=lowest.attribute,
            accuracy=lowest.accuracy,
            count=lowest.count,
            interval=lowest.interval[0],
            interval2=lowest.interval[1],
            accuracy2=result.accuracy,
        )
    )
    attribute = st.segmented_control(
        _("Trait"), list(ATTRIBUTES), default=lowest.attribute, required=True, key="slice_attribute"
    )
    st.caption(
        _("{what}. Bars: the share misread. Whiskers: 95% Wilson intervals. Click a bar to see its mistakes.").format(
            what=_(ATTRIBUTES[attribute][0])
        )
    )
    group = groups[attribute]
    click = st.plotly_chart(
        ui.chart(
            slice_figure, group, overall=result.accuracy, worst_label=str(lowest.label), height=ui.chapter_height()
        ),
        on_select="rerun",
        selection_mode="points",
        key="slice_chart",
        config={"displayModeBar": False},
    )
    points = click.selection.points if click else []
    chosen = next(
        (s for s in group if points and str(s.label) == points[0]["x"]), lowest if lowest in group else group[0]
    )
    wrong = result.mistakes(chosen.indices)
    st.markdown(
        _("**{label}: {wrong} of {count:,} read wrong**").format(
            label=chosen.label, wrong=len(wrong), count=chosen.count
        )
    )
    shown = wrong[:GALLERY_SIZE]
    caption = _("#{index}: {digit} read as {read}")
    captions = [caption.format(index=i, digit=data.y_test[i], read=result.predicted[i]) for i in shown]
    st.image(ui.png_urls(enlarge, data.x_test[shown] / 255.0), caption=captions, width=96)

with trust:
    calibrated = ui.calibration(label)
    st.markdown(
        _(
            "When it says 96% sure, is it right 96% of the time? Points on the diagonal mean yes. A single number, "
            "the temperature, fitted on training digits it did not learn from, softens (above 1) or sharpens (below 1) "
            "every answer without changing any."
        )
    )
    before, after, heat = st.columns(3)
    before.metric(
        _("Calibration error (ECE)"),
        f"{calibrated.ece_before:.2%}",
        help=_(
            "Expected calibration error, "
            "15 bins: the gap between confidence and accuracy, weighted by the digits in each bin"
        ),
    )
    change = _("{change} points").format(change=f"{(calibrated.ece_after - calibrated.ece_before) * 100:+.2f}")
    after.metric(_("After temperature scaling"), f"{calibrated.ece_after:.2%}", change, delta_color="inverse")
    heat.metric(
        _("Temperature"),
        f"{calibrated.temperature:.2f}",
        help=_("The Draw page's 'sure' figure uses it for this model"),
    )
    st.plotly_chart(ui.chart(reliability_figure, calibrated.before, calibrated.after), config={"displayModeBar": False})
    st.markdown(_("**How sure it was, when right and when wrong**"))
    figure = ui.chart(confidence_histogram, result.probabilities, data.y_test)
    st.plotly_chart(figure, config={"displayModeBar": False})

with stress:
    st.markdown(
        _("Accuracy on {SHIFT_DIGITS:,} test digits as they drift from what it was trained on.").format(
            SHIFT_DIGITS=SHIFT_DIGITS
        )
    )
    others = [other for other in ui.model_labels() if other != label]
    second = st.selectbox(
        _("Compare with"),
        ["nothing", *others],
        format_func=lambda other: _("nothing") if other == "nothing" else ui.model_name(other),
        key="stress_compare",
    )
    # Not computed with the rest of the page: the other tabs should not wait for it.
    if (
        ui.has_prepared(label, "shift")
        or "shift" in ui.kept_with_model(label)
        or st.button(_("Run the stress test"), icon=":material/bolt:")
    ):
        curves, prepared = {}, []
        for name in [label] + ([second] if second in others else []):
            message = _("Shifting test digits for {model}…").format(model=ui.as_text(ui.model_name(name)))
            curves[name], was_prepared = ui.prepared_or_live(name, "shift", message)
            if was_prepared:
                prepared.append(name)
        named = {ui.model_name(name): curve for name, curve in curves.items()}
        st.plotly_chart(ui.chart(shift_figure, named, SHIFTS), config={"displayModeBar": False})
        if prepared:
            ui.run_live(prepared, "shift")
