"""SVG pictures made safe: sanitised markup, its size, and a raster copy for previews.

An SVG from a server is a document that could carry script, event handlers or references to
other sites. ``sanitize_svg`` keeps only the drawing: it parses the bytes with DTDs and
entities refused (no entity bombs), drops ``<script>``, ``<foreignObject>``, ``<iframe>``,
``<embed>``, ``<object>``, every element outside the SVG namespace, every ``on*`` attribute,
every ``href``/``xlink:href`` and ``url(...)`` that points anywhere but ``#fragment`` or a
``data:image/...`` raster, and ``@import`` in style sheets. ``svg_to_png`` renders the sanitised
markup with resvg (no browser, no script engine), so pages show SVG results as plain pixels.

Errors: ``NotAnSvg`` (a ``ValueError``) when the bytes are not a well-formed, reasonably sized
SVG document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.etree.ElementTree import Element

import resvg_py
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from .errors import ImageLabError

__all__ = ["MAX_SVG_BYTES", "NotAnSvg", "sanitize_svg", "svg_size", "svg_to_png"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_SVG_BYTES = 16 * 1024 * 1024
MAX_RENDER_SIDE = 4096

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

_DROPPED_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);", re.IGNORECASE)
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


class NotAnSvg(ImageLabError, ValueError):
    """The bytes are not a well-formed SVG document this app can show; ``sentence`` says what is wrong."""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _safe_target(value: str) -> bool:
    """A reference that stays inside the picture: ``#fragment`` or an embedded raster image."""
    target = re.sub(r"\s+", "", value)
    return target.startswith("#") or bool(_SAFE_DATA.match(target))


def _safe_css(text: str) -> bool:
    if "@import" in text.lower() or "expression(" in text.lower():
        return False
    return all(_safe_target(m.group(2)) for m in _URL.finditer(text))


def _safe_attribute(name: str, value: str) -> bool:
    local = _local(name).lower()
    if local.startswith("on") or name == "{http://www.w3.org/XML/1998/namespace}base":
        return False
    if local in ("href", "src", "action", "formaction"):
        return _safe_target(value)
    if "javascript:" in re.sub(r"\s+", "", value).lower():
        return False
    if local == "attributename" and (value.strip().lower().startswith("on") or _local(value).lower() == "href"):
        return False  # <animate>/<set> would rewrite a link or a handler
    return _safe_css(value)


def _clean(element: Element) -> None:
    for child in list(element):
        tag = child.tag if isinstance(child.tag, str) else ""
        outside = not tag.startswith("{" + SVG_NS + "}")
        css_bad = _local(tag).lower() == "style" and not _safe_css(child.text or "")
        if outside or _local(tag).lower() in _DROPPED_ELEMENTS or css_bad:
            element.remove(child)
            continue
        for name, value in list(child.attrib.items()):
            if not _safe_attribute(name, value):
                del child.attrib[name]
        _clean(child)


def _parse(data: bytes) -> Element:
    if len(data) > MAX_SVG_BYTES:
        raise NotAnSvg(f"This SVG is larger than {MAX_SVG_BYTES // (1024 * 1024)} MB.")
    try:
        root: Element = fromstring(data, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise NotAnSvg("This SVG could not be read as a well-formed document.") from exc
    if root.tag == "svg":  # no namespace declared: put every element in the SVG namespace
        for el in root.iter():
            if isinstance(el.tag, str) and not el.tag.startswith("{"):
                el.tag = "{" + SVG_NS + "}" + el.tag
    if root.tag != "{" + SVG_NS + "}svg":
        raise NotAnSvg("This file is not an SVG picture.")
    return root


def sanitize_svg(data: bytes) -> bytes:
    """The picture's markup with everything that could run, or reach out, taken away (UTF-8)."""
    root = _parse(data)
    for name, value in list(root.attrib.items()):
        if not _safe_attribute(name, value):
            del root.attrib[name]
    _clean(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False))


def _length(value: str | None) -> float | None:
    match = _LENGTH.match(value or "")
    return float(match.group(1)) if match else None


def svg_size(data: bytes) -> tuple[int, int] | None:
    """The picture's size in pixels, from ``width``/``height`` or the ``viewBox``; ``None`` if it says neither."""
    root = _parse(data)
    width, height = _length(root.get("width")), _length(root.get("height"))
    box = [float(x) for x in re.findall(r"-?[0-9]*\.?[0-9]+", root.get("viewBox") or "")]
    if len(box) == 4 and box[2] > 0 and box[3] > 0:
        if width and not height:
            height = width * box[3] / box[2]
        elif height and not width:
            width = height * box[2] / box[3]
        elif not width and not height:
            width, height = box[2], box[3]
    if not width or not height:
        return None
    return max(1, round(width)), max(1, round(height))


def svg_to_png(data: bytes, max_side: int = 768) -> bytes:
    """A PNG of the sanitised picture, its longer side ``max_side`` pixels (or its own size if smaller)."""
    clean = sanitize_svg(data)
    size = svg_size(clean) or (max_side, max_side)
    side = max(1, min(max_side, MAX_RENDER_SIDE))
    scale = min(1.0, side / max(size)) if max(size) >= 1 else 1.0
    width, height = max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
    try:
        if width >= height:
            return resvg_py.svg_to_bytes(svg_string=clean.decode("utf-8"), width=width)
        return resvg_py.svg_to_bytes(svg_string=clean.decode("utf-8"), height=height)
    except ValueError as exc:
        raise NotAnSvg("This SVG could not be drawn.") from exc
