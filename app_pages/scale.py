"""Scale page: what bigger models, more data and more compute buy, as laws fitted to a shipped sweep."""

import streamlit as st

import ui
import ui.scale
from core import scale
from core.figures.scale import METRICS, law_text, scale_chart
from core.i18n import N_, _
from core.training.budget import estimate

PARTS = {"parameters": N_("Bigger models"), "digits": N_("More data"), "flops": N_("More compute")}
WORDS = {"parameters": N_("parameters"), "digits": N_("digits"), "flops": N_("compute")}
SAYS = {
    "parameters": N_("Each width of the same CNN, trained on all the digits."),
    "digits": N_(
        "The widest CNN, trained on more and more digits, each run for {presentations:,} ÷ digits "
        "epochs (from 2 to 20): on the most digits it has 2 passes, and is short of training too."
    ),
    "flops": N_("Every run of the sweep by the arithmetic it took; the line follows the best run for each budget."),
}

st.title(_("Scale"))
st.caption(
    _(
        "The two trends the field leans on: bigger models and more data. Here one CNN is trained at "
        "{WIDTHS} widths on {SIZES} numbers of digits, and a law error = a·x^−α + c is fitted along each "
        "axis: α says how fast more buys, c where it levels off."
    ).format(WIDTHS=len(scale.WIDTHS), SIZES=len(scale.SIZES))
)
left, right = st.columns([3, 1])
part = ui.chosen_part(PARTS, "parameters", left)
metric = right.segmented_control(
    _("Measure"), list(METRICS), format_func=lambda m: _(METRICS[m][0]), default="error", required=True
)
sweep = ui.scale.sweep()

if sweep is None:
    st.info(_("The sweep is not shipped here: `python -m scripts.scale_sweep` makes it (about 25 minutes)."))
else:
    trend = ui.scale.trend(part, metric)
    figure = ui.chart(
        scale_chart,
        sweep,
        trend,
        others=ui.scale.architectures(part, metric),
        yours=ui.scale.yours(part, metric),
        projector=ui.presenting(),
        height=ui.chapter_height(),
    )
    st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
    low, high = trend.interval
    exponent, halving, floor = st.columns(3)
    exponent.metric(
        _("Exponent α"),
        f"{trend.law.alpha:.2f}",
        _("95% interval {low:.2f}–{high:.2f}").format(low=low, high=high),
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    halving.metric(
        _("Twice the {WORDS}").format(WORDS=_(WORDS[part])),
        f"−{1 - 2**-trend.law.alpha:.0%}",
        _("of the error above the floor"),
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    floor.metric(
        _("Where it levels off (c)"),
        f"{trend.law.c:{METRICS[metric][1]}}",
        _("smallest measured {value}").format(value=f"{min(trend.y):{METRICS[metric][1]}}"),
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    st.caption(
        _(
            "{SAYS} Fitted: {trend}; the interval from resampling the 10,000 test digits {BOOTSTRAP_DRAWS} "
            "times. Made by `{card}` on {card2} in {value:.0f} min."
        ).format(
            SAYS=_(SAYS[part]).format(presentations=scale.PRESENTATIONS),
            trend=law_text(trend),
            BOOTSTRAP_DRAWS=scale.BOOTSTRAP_DRAWS,
            card=sweep.card["command"],
            card2=sweep.card["machine"],
            value=sweep.card["seconds"] / 60,
        )
    )

st.subheader(_("Add a point"))
width_column, size_column = st.columns(2)
width = width_column.select_slider(_("Width (first block's filters)"), scale.WIDTHS, value=8)
size = size_column.select_slider(_("Training digits"), scale.SIZES, value=5_000, format_func=lambda n: f"{n:,}")
config = scale.config(width, size)
cost = estimate(config)
st.caption(
    _(
        "{parameters:,} parameters, {config:,} digits for {epochs} epochs (a tenth of the {size:,} held "
        "out to validate): about {seconds:.0f} s here. It joins your models and the chart as a star."
    ).format(
        parameters=cost.network.parameters,
        config=scale.training_digits(config),
        epochs=config.epochs,
        size=size,
        seconds=cost.seconds,
    )
)
ui.training_button("scale_job", _("Train this point"), config, icon=":material/add_chart:")
