"""Showing what people typed exactly as they typed it."""

from __future__ import annotations

import re

__all__ = ["literal", "shorten"]

# Markdown punctuation, HTML brackets, and Streamlit's own ':' (colours, icons) and '$' (maths).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")


def literal(text: str) -> str:
    """``text`` escaped for Streamlit markdown, so tags, emphasis and colour codes show as typed."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return escaped.replace("\n", "  \n")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
