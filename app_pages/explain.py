"""Explain page: which pixels drove the network's decision, and what its layers see."""

import streamlit as st

import ui
from core.explain import feature_maps, first_layer_weights
from core.figures.bars import probability_list
from core.figures.pictures import attribution_picture, pixel_picture, weight_picture
from core.figures.style import PICTURE_WIDTH
from core.i18n import N_, _
from core.models import ROBUST_MODEL, predict_proba
from core.pictures.data import IMAGE_SIZE

MAPS_SHOWN = 16  # feature maps shown per conv layer
TALK_720_MAP_WIDTH = 120  # px: the five maps, with their captions, above a 1280x720 projector's fold
VIEWS = {  # title -> (caption: what it means and where it misleads, signed colours?)
    "Gradient saliency": (
        N_("How fast the probability changes with each pixel. Noisy, and blind to saturated pixels."),
        True,
    ),
    "SmoothGrad": (N_("Gradients averaged over 32 noisy copies: less speckle, same blind spots."), True),
    "Integrated gradients": (N_("Each pixel's share of p(digit) − p(black image); the shares add up exactly."), True),
    "Grad-CAM": (N_("Where the last conv layer looked, at its coarse 14×14 resolution."), False),
    "Occlusion": (
        N_("How much the probability drops when a 6×6 black patch covers a pixel. Slow but model-agnostic."),
        True,
    ),
    "Attention rollout": (
        N_(
            "Which patches the Transformer's attention carries to its answer most (bright) and least (dark), "
            "through every block. The same for any class."
        ),
        False,
    ),
}

st.title(_("Explain"))
ui.require_gradients("Explain")
st.caption(_("Why did the network read it that way? Red pixels pushed towards the class, blue pixels against it."))

label = ui.active_label()
data = ui.mnist()
image, __ = ui.choose_picture("explain", attacked=True)
probabilities = ui.of_model(label, predict_proba, image[None])[0]
predicted = int(probabilities.argmax())
projector = ui.presenting()


def reading() -> None:
    """What it reads: the prediction, the picture it saw, every class's probability."""
    left, right = st.columns([1, 2])
    with left:
        sure = _("{confidence:.0%} sure").format(confidence=probabilities.max())
        st.metric(_("Prediction"), predicted, delta=sure, delta_color="off", delta_arrow="off")
        st.image(ui.png_url(pixel_picture, image), width=PICTURE_WIDTH)
    with right:
        st.html(probability_list(probabilities))


def chosen_class() -> int:
    """The class to explain: the predicted one first, any other to ask why not."""
    choices = [predicted] + [digit for digit in range(10) if digit != predicted]
    return st.selectbox(
        _("Explain the class"),
        choices,
        format_func=lambda d: (
            _("{digit} (predicted)").format(digit=d) if d == predicted else _("{digit}: why not?").format(digit=d)
        ),
        key="explain_class",
    )


def attributions(explanation) -> None:
    """The five maps side by side (the chapter's point), each with what it means."""
    maps = {
        "Gradient saliency": explanation.saliency,
        "SmoothGrad": explanation.smoothgrad,
        "Integrated gradients": explanation.integrated_gradients,
        "Grad-CAM": explanation.grad_cam,
        "Occlusion": explanation.occlusion,
    }
    if explanation.attention is not None:  # a Transformer: its attention instead of a conv layer's view
        maps = {("Attention rollout" if title == "Grad-CAM" else title): values for title, values in maps.items()}
        maps["Attention rollout"] = explanation.attention
    width = TALK_720_MAP_WIDTH if ui.small_projector() else "stretch"
    with st.container(key="explain_maps"):
        for column, (title, values) in zip(st.columns(len(maps)), maps.items(), strict=True):
            caption, signed = VIEWS[title]
            with column:
                st.markdown(f"**{_(title)}**")
                if values is None:
                    st.info(_("Needs a conv layer that sees the digit; this model has none."))
                else:
                    st.image(ui.png_url(attribution_picture, values, image, signed=signed), width=width)
                st.caption(_(caption))


if not projector:  # on the projector the maps come right under the picture's choice, in view; the reading after
    reading()
target = chosen_class()
explanation = ui.explanation(label, image, target)
attributions(explanation)
if projector:
    reading()

if label != ROBUST_MODEL:  # a known effect of robust training, worth seeing
    robust = ui.explanation(ROBUST_MODEL, image, target)
    st.markdown(
        _("**Beside a network trained on attacks ({ROBUST_MODEL})**: its gradients follow the strokes").format(
            ROBUST_MODEL=ui.model_name(ROBUST_MODEL)
        )
    )
    columns = st.columns(4)
    pairs = [(N_("Gradient saliency"), "saliency"), (N_("Integrated gradients"), "integrated_gradients")]
    for index, (title, field) in enumerate(pairs):
        for offset, (whose, values) in enumerate(
            [(_("this model"), getattr(explanation, field)), (_("robust CNN"), getattr(robust, field))]
        ):
            with columns[2 * index + offset]:
                st.markdown(f"**{_(title)}, {whose}**")
                st.image(ui.png_url(attribution_picture, values, image, signed=True), width="stretch")

st.subheader(_("Inside the network"))
weights = ui.of_model(label, first_layer_weights)
if weights is None:
    st.info(_("This model's first layer does not look at the whole 28×28 picture, so its weights are not pictures."))
else:
    square = weights.shape[-1] == IMAGE_SIZE
    st.markdown(
        _("**First layer: each hidden unit's weights over the 28×28 input**")
        if square
        else _("**First layer: its {weights} learned {shape}×{shape2} filters**").format(
            weights=len(weights), shape=weights.shape[-1], shape2=weights.shape[-1]
        )
    )
    st.image(ui.png_urls(weight_picture, weights[:64], factor=3 if square else 16), width=48)
for name, activations in ui.of_model(label, feature_maps, image):
    size = f"{activations.shape[1]}×{activations.shape[2]}"
    st.markdown(
        _("**{name}: {activations} feature maps of {size}** (the first {MAPS_SHOWN})").format(
            name=ui.as_text(name), activations=len(activations), size=size, MAPS_SHOWN=MAPS_SHOWN
        )
    )
    st.image(ui.png_urls(weight_picture, activations[:MAPS_SHOWN], factor=3), width=56)
