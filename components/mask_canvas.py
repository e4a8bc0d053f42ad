"""The mask canvas: paint over a picture; the strokes become a mask or markup of its exact size.

Also the other ways to a mask that the page shows beside it: an uploaded black-and-white mask
and the preview of the picture with the mask over it, each made once per content hash so a
rerun (typing in the prompt) does not decode or encode a picture again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import streamlit as st

from imagelab.masks import (
    markup_from_strokes,
    mask_edit_fraction,
    mask_from_alpha_or_luma,
    mask_from_strokes,
    mask_preview,
    paint_minus_eraser,
)
from imagelab.specs import InputImage, MaskInput
from imagelab.store import content_hash

from . import state
from .results import preview

PAINT_RGB = (255, 0, 80)
ERASER_RGB = (0, 160, 255)
MAX_CANVAS_WIDTH = 560  # fits the page's wider column on a laptop screen
CANVAS_BOX = "mask_canvas_box"
MAX_CANVAS_HEIGHT = 330  # with its toolbar, under the page's title and tools, above the fold of a 1280×720 window


def draw_canvas(**kwargs: Any) -> Any:
    """The drawable canvas. Imported on first use: it registers its component with the running app."""
    from streamlit_drawable_canvas import st_canvas

    return st_canvas(**kwargs)


@dataclass(frozen=True)
class Painted:
    """What the canvas holds, in the image's own pixels."""

    png: bytes | None          # the mask (or markup) PNG, exactly the image's size; None if nothing is painted
    edit_fraction: float       # share of the picture to be edited


def canvas_size(width: int, height: int) -> tuple[int, int]:
    """The canvas keeps the picture's aspect ratio, at most MAX_CANVAS_WIDTH wide and MAX_CANVAS_HEIGHT tall."""
    scale = min(MAX_CANVAS_WIDTH / width, MAX_CANVAS_HEIGHT / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@st.cache_data(max_entries=16, show_spinner=False)
def _to_png(strokes: np.ndarray, image_size: tuple[int, int], invert: bool, markup: bool) -> tuple[bytes | None, float]:
    if markup:
        if not (strokes[..., 3] > 0).any():
            return None, 0.0
        return markup_from_strokes(strokes, image_size), float((strokes[..., 3] > 0).mean())
    painted = paint_minus_eraser(strokes, PAINT_RGB, ERASER_RGB)
    # Nothing painted is no mask, inverted or not: "repaint everything" is never a silent default.
    if not (painted[..., 3] > 0).any():
        return None, 0.0
    png = mask_from_strokes(painted, image_size, invert=invert)
    return png, mask_edit_fraction(png)


def mask_canvas(image: InputImage, *, markup: bool = False, colour: str = "#ff0050") -> Painted:
    """Tools and canvas over ``image``; returns the mask (or markup) drawn so far."""
    # One row of tools, so the canvas starts near the top of the window.
    t1, t2, t3, t4 = st.columns([5, 4, 4, 3], vertical_alignment="bottom")
    tool = "Brush"
    if not markup:
        if state.MASK_TOOL not in st.session_state:
            st.session_state[state.MASK_TOOL] = "Brush"
        tool = t1.segmented_control("Tool", ["Brush", "Eraser"], key=state.MASK_TOOL) or "Brush"
    invert = False if markup else t3.toggle("Invert", key=state.MASK_INVERT,
                                            help="Edit everything except what you painted.")
    brush = t2.slider("Brush size", 4, 120, 40, key=state.MASK_BRUSH)
    round_ = st.session_state.setdefault(state.MASK_CANVAS_ROUND, 0)
    if t4.button("Clear", key="btn_mask_clear", icon=":material/delete:", help="Start the drawing again",
                 width="stretch"):
        st.session_state[state.MASK_CANVAS_ROUND] = round_ + 1
        st.rerun()
    if markup:
        stroke = colour
    else:
        rgb = ERASER_RGB if tool == "Eraser" else PAINT_RGB
        stroke = f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, 0.6)"
    width, height = canvas_size(image.width, image.height)
    background = preview(image.hash, image.mime.split("/")[1]) or image.data
    # above the canvas, so the canvas's own toolbar (undo, redo) does not sit on the tool row
    # one line, so the canvas and its toolbar fit above the fold of a 1280×720 window
    st.caption("Paint over what should change; undo and redo are above the picture's right corner." if not markup
               else "Draw the change right on the picture; the drawing guides the edit.")
    # the canvas's own toolbar floats just above its top right corner: room for it, so it covers no words
    st.html(f"<style>.st-key-{CANVAS_BOX} {{padding-top: 2.1rem;}}</style>")
    with st.container(key=CANVAS_BOX):
        result = draw_canvas(
            stroke_width=brush, stroke_color=stroke, background_image=background,
            update_streamlit=True, width=width, height=height, drawing_mode="freedraw", return_image_data=True,
            key=state.item(state.MASK_CANVAS, image.hash[:12], round_))
    strokes = result.image_data if result is not None else None
    if strokes is None:
        return Painted(None, 0.0)
    png, fraction = _to_png(strokes, (image.width, image.height), invert, markup)
    return Painted(png, fraction)


@st.cache_data(max_entries=16, show_spinner=False)
def _from_upload(upload_hash: str, image_hash: str, image_size: tuple[int, int], edit_colour: str,
                 _data: bytes) -> tuple[bytes, str, float]:
    png, kind = mask_from_alpha_or_luma(_data, image_size, edit_colour="black" if edit_colour == "black" else "white")
    return png, kind, mask_edit_fraction(png)


def uploaded_mask(data: bytes, image: InputImage,
                  edit_colour: Literal["white", "black"]) -> tuple[bytes, Literal["alpha", "luma"], float]:
    """The API mask from an uploaded picture, exactly ``image``'s size: ``(png, how it was read,
    share to edit)``. Made once per upload, image and colour; raises ``MaskError``."""
    png, kind, fraction = _from_upload(content_hash(data), image.hash, (image.width, image.height), edit_colour,
                                       data)
    return png, "alpha" if kind == "alpha" else "luma", fraction


@st.cache_data(max_entries=32, show_spinner=False)
def _overlay(image_hash: str, mask_hash: str, _image: bytes, _mask: bytes) -> bytes:
    return mask_preview(_image, _mask)


def mask_overlay(image: InputImage, mask: MaskInput) -> bytes:
    """The picture with the part to edit tinted, at display size, made once per picture and mask
    (from the display-sized copy the page already has, not from the full picture)."""
    shown = preview(image.hash, image.mime.split("/")[1]) or image.data
    return _overlay(image.hash, mask.hash, shown, mask.data)
