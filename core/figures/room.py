"""The room's wall: the shared drawings as thumbnails, green when read as meant."""

from __future__ import annotations

from core.figures.pictures import png_data_uri
from core.figures.style import ACCENT


def room_wall(shares: list) -> str:
    """core.room.Shares as a grid of thumbnails, each with what the network read (green if as meant, else red)."""
    cells = []
    for share in shares:
        colour, mark = ("#21c354", "✓") if share.right else (ACCENT, f"meant {share.meant}")
        cells.append(
            f'<figure style="margin:0;text-align:center;width:72px" aria-label="drawing {share.number}: read '
            f'{share.read}, meant {share.meant}"><img src="{png_data_uri(share.image)}" width="64" height="64" '
            f'alt="" style="image-rendering:pixelated;border:3px solid {colour};border-radius:6px">'
            f'<figcaption style="font-size:0.8rem;line-height:1.2">#{share.number} · <b>{share.read}</b> '
            f'<span style="color:{colour}">{mark}</span></figcaption></figure>'
        )
    grid = "display:flex;flex-wrap:wrap;gap:0.5rem"
    return f'<div style="{grid}" aria-label="The room\'s drawings">{"".join(cells)}</div>'
