"""The room's wall: the shared drawings as thumbnails, green when read as meant."""

from __future__ import annotations

from core.figures.pictures import png_data_uri
from core.figures.style import ACCENT
from core.i18n import _


def room_wall(shares: list) -> str:
    """core.room.Shares as a grid of thumbnails, each with what the network read (green if as meant, else red)."""
    cells = []
    for share in shares:
        colour, mark = ("#21c354", "✓") if share.right else (ACCENT, _("meant {digit}").format(digit=share.meant))
        cells.append(
            '<figure style="margin:0;text-align:center;width:72px" aria-label="{}">'.format(
                _("drawing {number}: read {read}, meant {meant}").format(
                    number=share.number, read=share.read, meant=share.meant
                )
            )
            + f'<img src="{png_data_uri(share.image)}" width="64" height="64" '
            f'alt="" style="image-rendering:pixelated;border:3px solid {colour};border-radius:6px">'
            f'<figcaption style="font-size:0.8rem;line-height:1.2">#{share.number} · <b>{share.read}</b> '
            f'<span style="color:{colour}">{mark}</span></figcaption></figure>'
        )
    grid = "display:flex;flex-wrap:wrap;gap:0.5rem"
    label = _("The room's drawings")
    return f'<div style="{grid}" aria-label="{label}">{"".join(cells)}</div>'
