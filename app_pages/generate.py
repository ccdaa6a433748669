"""Generate: a network that draws digits, finishes yours, turns it into another, and whether it copies."""

import numpy as np
import streamlit as st

import ui
import ui.generate as gen
from core.figures.generation import map_picture, strip
from core.figures.pictures import enlarge
from core.generation import GUIDANCE
from core.generation.copies import ALPHA, NEIGHBOURS
from core.i18n import N_, _

PARTS = {
    "draw": N_("Draw me a digit"),
    "finish": N_("Finish my drawing"),
    "turn": N_("Turn it into…"),
    "copy": N_("Did it copy?"),
    "map": N_("The map"),
}
GUIDANCES = (0.0, 0.5, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0)
SHOWN = 72  # px per picture


def drawing(key: str) -> np.ndarray | None:
    """The visitor's drawing: one drawn here, else the Draw page's."""
    sources = {"here": _("Draw here"), "draw": _("From the Draw page")}
    source = st.segmented_control(
        _("Picture"), list(sources), format_func=sources.get, default="here", required=True, key=f"{key}_source"
    )
    if source == "draw":
        image = ui.your_input()
        if image is None:
            st.info(_("Draw a digit on the Draw page first, or draw one here."), icon="✏️")
        return image
    drawn = ui.drawing_canvas(f"{key}_canvas", size=200)
    ui.show_refusal(drawn)
    return drawn.image


st.title(_("Generate"))
st.caption(
    _(
        "Every other page reads digits; here a network writes them. It learnt to turn noise into a digit step by "
        "step (flow matching, a cousin of diffusion), told which digit by classifier-free guidance."
    )
)
if not gen.available():
    st.info(_("The generator is not shipped here: `python -m scripts.train_generator` makes it (about an hour)."))
    st.stop()
part = ui.chosen_part(PARTS, "draw")
digit_column, weight_column, seed_column = st.columns([3, 2, 1])
digits = [*range(10), -1]
digit = digit_column.selectbox(
    _("Digit"), digits, index=3, format_func=lambda d: _("any digit") if d == -1 else str(d), key="generate_digit"
)
guidance = weight_column.select_slider(
    _("Guidance w"), GUIDANCES, value=GUIDANCE, key="generate_guidance",
    help=_("0: the model without a class; 1: the class as learnt; more: more like the digit, less varied."),
)  # fmt: skip
seed = int(seed_column.number_input(_("Seed"), 0, 9999, 0, key="generate_seed"))

if part == "draw":
    frames = gen.denoising("diffusion", digit, guidance, seed)
    gen.gallery(frames[-1], gen.readings(frames[-1]))
    st.markdown(_("**How it draws them**: noise becomes a digit, every second step"))
    for index in range(3):
        st.image(ui.png_url(strip, frames[:, index]), width=640)  # a strip, not a wall: three fit a projector
    with st.expander(_("The baseline: a conditional VAE")):
        pictures = gen.samples("vae", digit, guidance, seed)
        gen.gallery(pictures, gen.readings(pictures))
        st.caption(_("A VAE draws in one pass from a 16-number code: quicker, and blurrier."))

elif part == "finish":
    kept = st.segmented_control(
        _("Keep"), list(gen.KEPT), format_func=lambda k: _(gen.KEPT[k]), default="top", required=True
    )
    image = drawing("finish")
    if image is not None:
        known = gen.kept_mask(kept)
        done = gen.completions(image, known, digit, seed)
        left, right = st.columns([1, 3])
        left.image(ui.png_url(enlarge, np.where(known, image, 0.15)), caption=_("What it keeps"), width=2 * SHOWN)
        with right:
            gen.gallery(done, gen.readings(done))
        st.caption(_("The kept half is exactly yours in every picture; the rest is drawn anew, for the digit chosen."))

elif part == "turn":
    image = drawing("turn")
    if digit == -1:
        st.info(_("Choose the digit to turn it into."))
    elif image is not None:
        pictures = gen.turned(image, digit, seed)
        gen.gallery(
            np.concatenate([image[None], pictures]),
            [_("yours")] + [_("strength {strength:.0%}").format(strength=s) for s in gen.STRENGTHS],
        )
        st.caption(
            _(
                "Noised part of the way back toward noise, then carried forward as a {digit} (SDEdit): a light touch "
                "keeps your strokes, full strength draws a new digit."
            ).format(digit=digit)
        )

elif part == "copy":
    pictures = gen.samples("diffusion", digit, guidance, seed)
    found, test = gen.copies(pictures), gen.test_closeness()
    training = ui.mnist().x_train / np.float32(255)
    gen.gallery(np.concatenate([pictures[:8], training[found.index[:8]]]), None)
    st.caption(_("Above: eight samples. Below: the training digit nearest each."))
    st.metric(
        _("Near-copies among these samples"), f"{found.copies.sum()} / {len(found.ratio)}",
        _("test digits: {share:.1%}").format(share=test.copy_share), delta_color="off", delta_arrow="off", border=True,
    )  # fmt: skip
    st.caption(
        _(
            "A near-copy (Carlini et al. 2023): its nearest training digit is at most {alpha} of the mean distance "
            "to its {neighbours} nearest. Median distance to the nearest training digit: samples {mine:.2f}, held-out "
            "test digits {theirs:.2f}."
        ).format(
            alpha=ALPHA,
            neighbours=NEIGHBOURS,
            mine=float(np.median(found.distance)),
            theirs=float(np.median(test.distance)),
        )  # fmt: skip
    )

else:
    image = ui.your_input()
    point = gen.placed(image) if image is not None else None
    st.image(ui.png_url(map_picture, gen.the_map(), point), width=420)
    st.caption(
        _(
            "A VAE with a 2-number code: each point of its plane is a digit, and neighbours flow into each other. "
            "The red ring: where your Draw page drawing lands."
        )
        if point is not None
        else _("A VAE with a 2-number code: each point of its plane is a digit, and neighbours flow into each other.")
    )
