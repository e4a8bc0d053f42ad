"""A board's handout: a PDF with one picture a page, in the board's order, with its title, its note and
(when the designer chooses) its prompt, model and cost; made with fpdf2.

Text goes in as text (never markup), in DejaVu Sans where the system has it (every script it covers),
else in the PDF's own Helvetica with what Latin-1 lacks replaced by "?".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpdf import FPDF
from PIL import Image

from .costs import image_money, money_text
from .history.errors import StorageError
from .history.records import ImageRecord
from .svg import svg_to_png

__all__ = ["HandoutPage", "board_pdf", "board_handout", "picture_details", "UNREADABLE_PAGE"]

UNREADABLE_PAGE = "This picture could not be read; its file may be damaged or gone."
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_MAX_SIDE = 2000  # pixels kept of a picture: sharp on paper, and the file stays small
_MARGIN = 15.0


@dataclass(frozen=True)
class HandoutPage:
    picture: bytes | None     # the stored bytes (PNG, JPEG, WebP, GIF or SVG); None when they could not be read
    format: str
    title: str
    note: str = ""
    details: str = ""         # prompt, model and cost, when the designer chose to show them


def _still(data: bytes, fmt: str) -> Image.Image:
    """The picture as an RGB still no larger than ``_MAX_SIDE`` (a GIF's first frame, an SVG drawn, alpha on white)."""
    if fmt == "svg":
        data = svg_to_png(data, 1600)
    with Image.open(io.BytesIO(data)) as opened:
        opened.seek(0)
        still = opened.convert("RGBA")
    still.thumbnail((_MAX_SIDE, _MAX_SIDE))
    flat = Image.new("RGB", still.size, "white")
    flat.paste(still, mask=still.getchannel("A"))
    return flat


class _Handout(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.unicode = _FONT.exists()
        if self.unicode:
            self.add_font("body", "", str(_FONT))
            self.family = "body"
        else:
            self.family = "helvetica"

    def text_of(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def lines(self, text: str, size: float, *, grey: bool = False) -> None:
        if not text:
            return
        self.set_font(self.family, size=size)
        self.set_text_color(*((110, 110, 120) if grey else (20, 20, 24)))
        self.multi_cell(0, size * 0.45, self.text_of(text), markdown=False, new_x="LMARGIN", new_y="NEXT")


def board_pdf(board_name: str, pages: list[HandoutPage]) -> bytes:
    """The handout of a board: one page per picture, in the order given."""
    pdf = _Handout()
    pdf.set_title(pdf.text_of(board_name))
    pdf.set_creator("ImageLab")
    for n, page in enumerate(pages, start=1):
        pdf.add_page()
        pdf.lines(f"{board_name} · {n} of {len(pages)}", 9, grey=True)
        pdf.lines(page.title, 16)
        top = pdf.get_y() + 3
        # the words under the picture take what they need; the picture gets the rest of the page
        words = (page.note.count("\n") + len(page.note) // 150 + 1 if page.note else 0) * 5.5 + \
            (page.details.count("\n") + len(page.details) // 170 + 1 if page.details else 0) * 4.5
        box_w = pdf.w - 2 * _MARGIN
        box_h = max(pdf.h - _MARGIN - top - min(words, 60) - 4, 60)
        try:
            still = _still(page.picture, page.format) if page.picture is not None else None
        except (OSError, ValueError, Image.DecompressionBombError):
            still = None
        if still is None:
            pdf.set_y(top + box_h / 2)
            pdf.lines(UNREADABLE_PAGE, 12, grey=True)
        else:
            scale = min(box_w / still.width, box_h / still.height)
            w, h = still.width * scale, still.height * scale
            pdf.image(still, x=_MARGIN + (box_w - w) / 2, y=top, w=w, h=h)
        pdf.set_y(top + box_h + 3)
        pdf.lines(page.note, 12)
        pdf.lines(page.details, 9, grey=True)
    return bytes(pdf.output())


def picture_details(rec: ImageRecord | None) -> str:
    """A picture's prompt, model and cost in words, for those who chose to show them."""
    if rec is None:
        return ""
    return f"Prompt: {rec.prompt}\nModel: {rec.model} · Cost: {money_text(image_money(rec))}"


def board_handout(store: Any, board_id: int, *, details: bool = False) -> bytes:
    """The handout of a board from a ``Store``: its pictures in its order, their notes, and ``details``."""
    board = store.board(board_id)
    items = store.board_items(board_id)
    pages = []
    for n, item in enumerate(items, start=1):
        try:
            data: bytes | None = store.read_bytes(item.hash, item.format)
        except (KeyError, OSError, ValueError, StorageError):
            data = None
        try:
            rec = store.image_by_hash(item.hash)
        except KeyError:
            rec = None
        pages.append(HandoutPage(data, item.format, f"Picture {n}", item.note,
                                 picture_details(rec) if details else ""))
    return board_pdf(board.name, pages)
