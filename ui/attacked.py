"""The Attack page's result: the picture, the change and the attacked picture, each reading, and a verdict."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.attacks import STRONGEST
from core.figures.bars import probability_list
from core.figures.pictures import pixel_picture, weight_picture
from core.i18n import _
from ui.shared import png_url


def a(digit) -> str:
    """'a 7', 'an 8': the digit with its article, as it is read aloud (in Chinese, the digit alone)."""
    return (_("an {digit}") if int(digit) == 8 else _("a {digit}")).format(digit=digit)


def pictures(result, image: np.ndarray, eps: float, *, width: int) -> None:
    """The three pictures, each titled with its reading (in view together on a 1280x720 projector), then the
    probabilities before and after."""
    titles = [
        _("What the network sees: reads {digit}, {sure:.0%}").format(
            digit=result.before.argmax(), sure=result.before.max()
        ),
        _("The change"),
        _("The attacked picture: reads {digit}, {sure:.0%}").format(
            digit=result.after.argmax(), sure=result.after.max()
        ),
    ]
    shown = [
        png_url(pixel_picture, image),
        png_url(weight_picture, result.change, factor=6),
        png_url(pixel_picture, result.adversarial),
    ]
    columns = st.columns(3)
    for column, title, picture in zip(columns, titles, shown, strict=True):
        column.markdown(f"**{title}**")
        column.image(picture, width=width)
    columns[1].caption(_("Red brighter, blue darker, by up to {eps:g}; shown at full strength.").format(eps=eps))
    for column, title, probabilities in zip(
        st.columns(2), [_("Before"), _("After")], [result.before, result.after], strict=True
    ):
        column.markdown(
            _("**{title}: reads {argmax}, {max:.0%} sure**").format(
                title=title, argmax=probabilities.argmax(), max=probabilities.max()
            )
        )
        column.html(probability_list(probabilities))


def verdict(result, reading: int, asked, method: str, eps: float) -> None:
    """Whether it was fooled, in a sentence, and what to try next if not."""
    if result.fooled:
        st.success(
            _("Fooled: changing no pixel by more than {eps:g} turned {reading} into {a}.").format(
                eps=eps, reading=a(reading), a=a(result.after.argmax())
            )
        )
    elif asked == reading:
        st.info(_("It already reads this as {reading}: pick another digit to make it read.").format(reading=reading))
    elif method != STRONGEST:
        st.info(
            _("Not fooled at this ε. Raise ε, or switch to {attack}, or find the smallest change that works.").format(
                attack=STRONGEST
            )
        )
    else:
        st.info(_("Not fooled at this ε. Raise ε, or find the smallest change that works."))
