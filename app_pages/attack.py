"""Attack page: change a picture by a hair per pixel until the network reads it wrong."""

import streamlit as st

import ui
import ui.attacked
from core.attacks import (
    CEILING,
    CURVE_DIGITS,
    CURVE_EPS,
    EXPLAINED,
    RESOLUTION,
    STRONGEST,
    attack_picture,
    smallest_flip,
)
from core.figures.pictures import png_bytes
from core.figures.robustness import robustness_figure
from core.figures.style import PICTURE_WIDTH
from core.i18n import _
from core.models import ROBUST_MODEL, predict_proba

ANY = "any"  # a target that is no digit: any wrong one will do
TALK_720_PICTURE_WIDTH = 112  # four screen pixels a pixel: the three pictures above a 1280x720 projector's fold


st.title(_("Attack"))
ui.require_gradients("Attack")
st.caption(
    _(
        "An adversarial example: a picture changed by at most ε in every pixel (ε = 0.1 is a tenth of the way from "
        "black to white) in exactly the direction that misleads the network most."
    )
)

model, label = ui.active_model(), ui.active_label()
image, __ = ui.choose_picture("attack")
reading = int(ui.of_model(label, predict_proba, image[None])[0].argmax())

st.session_state.update(st.session_state.pop("next_attack", {}))  # set by "Smallest change", before the widgets
st.session_state.setdefault("attack_method", STRONGEST)
st.session_state.setdefault("attack_eps", 0.1)
left, middle, right = st.columns([2, 3, 2])
method = left.segmented_control(
    _("Attack"),
    list(EXPLAINED),
    required=True,
    key="attack_method",
    help=" ".join(_(words) for words in EXPLAINED.values()),
)
eps = middle.slider(_("ε: the most any pixel may change"), 0.0, CEILING, step=RESOLUTION, key="attack_eps")
target = right.selectbox(
    _("Make it read"),
    [ANY, *range(10)],
    format_func=lambda choice: _("any wrong digit") if choice == ANY else str(choice),
    key="attack_target",
)
target = None if target == ANY or target == reading else target

if st.button(_("Smallest change that fools it"), icon=":material/search:"):
    with st.spinner(_("Searching for the smallest ε…")):
        flip = smallest_flip(model, image, target=target)
    if flip is None:
        if target is None:
            st.warning(_("Even ε = {ceiling} does not fool this network.").format(ceiling=CEILING))
        else:
            words = _("Even ε = {ceiling} does not make this network read {target}.")
            st.warning(words.format(ceiling=CEILING, target=ui.attacked.a(target)))
    else:
        st.session_state.next_attack = {"attack_eps": flip.eps, "attack_method": STRONGEST, "flip_eps": flip.eps}
        st.rerun()
if "flip_eps" in st.session_state:
    st.caption(
        _("The smallest ε that fools it: {pop:g}, with {STRONGEST}.").format(
            pop=st.session_state.pop("flip_eps"), STRONGEST=STRONGEST
        )
    )

result = ui.of_model(label, attack_picture, image, attack=method, eps=eps, target=target)
ui.keep_attacked(result.adversarial)

ui.attacked.pictures(result, image, eps, width=TALK_720_PICTURE_WIDTH if ui.small_projector() else PICTURE_WIDTH)
ui.attacked.verdict(result, reading, st.session_state.attack_target, method, eps)
download, explain = st.columns(2)
download.download_button(
    _("Download the attacked picture"),
    png_bytes(result.adversarial),
    "attacked-digit.png",
    "image/png",
    icon=":material/download:",
)
if explain.button(_("Explain the attacked picture"), icon=":material/lightbulb:"):
    ui.open_in_explain(ui.SOURCES[2])

st.subheader(_("How robust is it?"))
st.caption(
    _("Accuracy on the first {CURVE_DIGITS:,} test digits, each attacked at every ε. PGD is the honest figure.").format(
        CURVE_DIGITS=CURVE_DIGITS
    )
)
others = [name for name in ui.keras_labels() if name != label]  # an attack needs gradients: no .tflite file
choices = ["nothing"] + others
second = st.selectbox(
    _("Compare with"),
    choices,
    format_func=lambda choice: _("nothing") if choice == "nothing" else ui.model_name(choice),
    index=choices.index(ROBUST_MODEL) if ROBUST_MODEL in choices else 0,  # the defence beside the attack
    key="attack_compare",
    help=_("Any Keras model in the sidebar; a .tflite file has no gradients to attack."),
)
shown = [label] + ([second] if second in others else [])
curves, ready = {}, []
for name in shown:
    message = _("Attacking {count:,} test digits: {model}…").format(
        count=CURVE_DIGITS, model=ui.as_text(ui.model_name(name))
    )
    curves[name], prepared = ui.prepared_or_live(name, "robustness", message)
    if prepared:
        ready.append(name)
named = {ui.model_name(name): curve for name, curve in curves.items()}
st.plotly_chart(ui.chart(robustness_figure, named, CURVE_EPS), width="stretch")
if ready:
    ui.run_live(ready, "robustness")
if second in others:
    st.markdown(
        _("**How much change fools each, on this picture** (the smallest ε, {STRONGEST})").format(STRONGEST=STRONGEST)
    )
    if st.session_state.get("flips", (None,))[0] != image.tobytes():  # one picture's at a time, not a pile
        st.session_state.flips = (image.tobytes(), {})
    flips = st.session_state.flips[1]
    for column, name in zip(st.columns(2), [label, second], strict=True):
        if name not in flips:
            flips[name] = ui.smallest_change(name, image)
        flip = flips[name]
        shown = f"ε = {flip.eps:g}" if flip else _("over {ceiling}").format(ceiling=CEILING)
        column.metric(ui.as_text(ui.model_name(name)), shown, border=True)
