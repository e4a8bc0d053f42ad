"""Settings inside image files, and a zip of images with a manifest.

Metadata is written by adding chunks/segments to the file as it is, never by decoding and
re-encoding, so the encoded picture is byte-for-byte untouched (pixels identical, even for
lossy WebP and JPEG):

- PNG: an ``iTXt`` chunk with keyword ``imagelab`` holding the JSON, and an ``iTXt``
  ``Description`` chunk with the prompt (what other tools show). Pillow reads both back as
  ``Image.open(...).text``.
- WebP: an ``XMP `` chunk (the file is promoted to the extended ``VP8X`` layout when needed)
  whose XMP packet has ``dc:description`` (the prompt) and ``imagelab:record`` (the JSON).
  Pillow reads it back as ``Image.open(...).info["xmp"]``.
- JPEG: ``COM`` segments after SOI, ``imagelab:<i>/<n>:`` followed by a slice of the JSON.
- GIF is left unchanged; SVG is exported sanitised (see ``imagelab.svg``), without metadata.

``read_metadata`` parses only the container (chunk lists, headers), never the pixels; it
refuses files whose header claims more pixels than Pillow's decompression-bomb limit and
answers ``None`` for anything it cannot read, whatever the bytes.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import os
import re
import secrets
import shutil
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from PIL import Image

from .catalog import catalog, model_info, svg_rules
from .costs import image_money
from .specs import ACTIONS, COMPLETION_WINDOWS, GIF_MAX_FRAME_MS, GIF_MIN_FRAME_MS, OutputOptions, size_problem
from .svg import NotAnSvg, sanitize_svg
from .text import scrub

__all__ = ["embed_metadata", "read_metadata", "metadata_payload", "settings_from_metadata", "LoadedSettings",
           "export_zip", "write_zip", "export_images", "export_link", "export_files", "export_board", "board_records",
           "manifest_records", "scrub", "PAGES", "EXPORT_PART_BYTES", "EXPORT_KEEP_SECONDS",
           "MAX_PIXELS", "MANIFEST_COLUMNS"]

KEYWORD = "imagelab"
PAGES = ("generate", "reference_edit", "mask_edit", "conversation")
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
_MAX_TEXT = 4 * 1024 * 1024  # no metadata text is this large; bigger (or inflating bigger) is refused
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_XMP_NS = "urn:imagelab:metadata:1.0"

def metadata_payload(record: dict[str, Any]) -> dict[str, Any]:
    """What goes into a file: the page, model, prompt and settings (``params``), scrubbed."""
    params = dict(record.get("params") or {})
    out: dict[str, Any] = {"app": "ImageLab", "version": 1, "page": record.get("page") or "generate",
           "model": record.get("model") or params.get("model"),
           "prompt": record.get("prompt") if record.get("prompt") is not None else params.get("prompt", ""),
           "params": params}
    if record.get("revised_prompt"):
        out["revised_prompt"] = record["revised_prompt"]
    return scrub(out)


# --- PNG ------------------------------------------------------------------------------------

def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk, CRCs checked; ValueError for anything that is not a whole PNG."""
    if not data.startswith(_PNG_SIG):
        raise ValueError("not a PNG")
    pos, out = len(_PNG_SIG), []
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        payload = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + payload) != struct.unpack(">I", data[end - 4:end])[0]:
            raise ValueError("bad PNG chunk CRC")
        out.append((kind, payload))
        pos = end
        if kind == b"IEND":
            return out
    raise ValueError("PNG without IEND")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _itxt(keyword: str, text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 1024:
        return keyword.encode("latin-1") + b"\x00\x01\x00\x00\x00" + zlib.compress(raw, 9)
    return keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + raw


def _inflate(raw: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(raw, _MAX_TEXT + 1)
    if len(out) > _MAX_TEXT or d.unconsumed_tail:
        raise ValueError("metadata text too large")
    return out


def _png_text(kind: bytes, payload: bytes) -> tuple[str, str] | None:
    key, sep, rest = payload.partition(b"\x00")
    if not sep:
        return None
    keyword = key.decode("latin-1")
    if kind == b"tEXt":
        return keyword, rest.decode("latin-1")
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:]).decode("latin-1")
    if kind == b"iTXt":
        if len(rest) < 2:
            return None
        compressed, body = rest[0], rest[2:]
        _lang, _, body = body.partition(b"\x00")
        _translated, _, body = body.partition(b"\x00")
        return keyword, (_inflate(body) if compressed else body).decode("utf-8")
    return None


def _png_embed(data: bytes, payload: dict[str, Any]) -> bytes:
    chunks = _png_chunks(data)
    kept = [(k, p) for k, p in chunks if not (k in (b"tEXt", b"zTXt", b"iTXt")
                                             and p.partition(b"\x00")[0] in (KEYWORD.encode(), b"Description"))]
    new = [(b"iTXt", _itxt(KEYWORD, json.dumps(payload, ensure_ascii=False)))]
    if payload.get("prompt"):
        new.append((b"iTXt", _itxt("Description", payload["prompt"])))
    out = [_PNG_SIG]
    for kind, p in kept:
        if kind == b"IEND":
            out += [_png_chunk(k, v) for k, v in new]
        out.append(_png_chunk(kind, p))
    return b"".join(out)


def _png_read(data: bytes) -> str | None:
    chunks = _png_chunks(data)
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) < 8:
        return None
    w, h = struct.unpack(">II", chunks[0][1][:8])
    if w * h > MAX_PIXELS:
        return None
    for kind, p in chunks:
        if kind in (b"tEXt", b"zTXt", b"iTXt") and p.startswith(KEYWORD.encode() + b"\x00"):
            found = _png_text(kind, p)
            if found:
                return found[1]
    return None


# --- WebP -----------------------------------------------------------------------------------

def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    size = struct.unpack("<I", data[4:8])[0]
    end = min(len(data), 8 + size)
    if 8 + size > len(data):
        raise ValueError("truncated WebP")
    pos, out = 12, []
    while pos + 8 <= end:
        kind, length = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if pos + 8 + length > end:
            raise ValueError("truncated WebP chunk")
        out.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 8 + length + (length & 1)
    if not out:
        raise ValueError("empty WebP")
    return out


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(k + struct.pack("<I", len(p)) + p + (b"\x00" if len(p) & 1 else b"") for k, p in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _webp_info(chunks: list[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    """(width, height, has alpha) from the headers alone."""
    kind, p = chunks[0]
    if kind == b"VP8X" and len(p) >= 10:
        w = int.from_bytes(p[4:7], "little") + 1
        h = int.from_bytes(p[7:10], "little") + 1
        return w, h, bool(p[0] & 0x10)
    if kind == b"VP8 " and len(p) >= 10 and p[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", p[6:10])
        return w & 0x3FFF, h & 0x3FFF, False
    if kind == b"VP8L" and len(p) >= 5 and p[0] == 0x2F:
        bits = int.from_bytes(p[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise ValueError("unknown WebP layout")


def _xmp_packet(payload: dict[str, Any]) -> bytes:
    record = html.escape(json.dumps(payload, ensure_ascii=False), quote=True)
    prompt = html.escape(payload.get("prompt") or "", quote=True)
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:imagelab="{_XMP_NS}">'
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{prompt}</rdf:li></rdf:Alt></dc:description>'
            f'<imagelab:record>{record}</imagelab:record>'
            '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


_XMP_RECORD = re.compile(rb"<imagelab:record>(.*?)</imagelab:record>", re.S)


def _webp_embed(data: bytes, payload: dict[str, Any]) -> bytes:
    chunks = _riff_chunks(data)
    w, h, alpha = _webp_info(chunks)
    if chunks[0][0] != b"VP8X":  # a simple file: promote it to the extended layout, which may carry XMP
        flags = 0x10 if alpha else 0
        vp8x = bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
        chunks = [(b"VP8X", vp8x)] + chunks
    head = bytearray(chunks[0][1])
    head[0] |= 0x04  # XMP present
    chunks = [(b"VP8X", bytes(head))] + [(k, p) for k, p in chunks[1:] if k != b"XMP "]
    return _riff(chunks + [(b"XMP ", _xmp_packet(payload))])


def _webp_read(data: bytes) -> str | None:
    chunks = _riff_chunks(data)
    w, h, _ = _webp_info(chunks)
    if w * h > MAX_PIXELS:
        return None
    for kind, p in chunks:
        if kind == b"XMP ":
            m = _XMP_RECORD.search(p)
            if m:
                return html.unescape(m.group(1).decode("utf-8"))
    return None


# --- JPEG -----------------------------------------------------------------------------------

_COM_SLICE = 60_000
# More slices than the largest metadata text needs: a count read from the file is believed only up to this.
_MAX_COM_PARTS = _MAX_TEXT // _COM_SLICE + 1


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The marker segments before the scan, and where the scan starts."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    pos = 2
    out: list[tuple[int, bytes]] = []
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("bad JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:
            return out, pos
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2 or pos + 2 + length > len(data):
            raise ValueError("truncated JPEG segment")
        out.append((marker, data[pos + 4:pos + 2 + length]))
        pos += 2 + length
    raise ValueError("JPEG without a scan")


def _jpeg_embed(data: bytes, payload: dict[str, Any]) -> bytes:
    segments, scan = _jpeg_segments(data)
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    slices = [raw[i:i + _COM_SLICE] for i in range(0, len(raw), _COM_SLICE)] or [b""]
    coms = []
    for i, piece in enumerate(slices):
        body = f"{KEYWORD}:{i + 1}/{len(slices)}:".encode() + piece
        coms.append(b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body)
    rebuilt = [b"\xff\xd8"]
    inserted = False
    for marker, body in segments:
        if marker == 0xFE and body.startswith(KEYWORD.encode() + b":"):
            continue
        if not inserted and not (0xE0 <= marker <= 0xEF):  # after APPn (JFIF/EXIF must stay first)
            rebuilt += coms
            inserted = True
        rebuilt.append(bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body)
    if not inserted:
        rebuilt += coms
    return b"".join(rebuilt) + data[scan:]


def _jpeg_read(data: bytes) -> str | None:
    segments, _ = _jpeg_segments(data)
    parts: dict[int, bytes] = {}
    total = 0
    for marker, body in segments:
        if marker in (0xC0, 0xC1, 0xC2) and len(body) >= 5:
            h, w = struct.unpack(">HH", body[1:5])
            if w * h > MAX_PIXELS:
                return None
        if marker == 0xFE and body.startswith(KEYWORD.encode() + b":"):
            head, _, piece = body[len(KEYWORD) + 1:].partition(b":")
            i, _, n = head.partition(b"/")
            parts[int(i)] = piece
            total = int(n)
    if not 0 < total <= _MAX_COM_PARTS or sorted(parts) != list(range(1, total + 1)):
        return None
    return b"".join(parts[i] for i in sorted(parts)).decode("utf-8")


# --- public ---------------------------------------------------------------------------------

def embed_metadata(data: bytes, fmt: str, record: dict[str, Any]) -> bytes:
    """``data`` with the record's prompt and settings inside it; the picture itself is untouched.

    ``record`` is an export record (see ``export_zip``) or any dict with ``prompt``, ``page``,
    ``model`` and ``params``. PNG, WebP and JPEG carry the metadata; GIF, SVG and anything else
    come back unchanged. Raises ``ValueError`` if the bytes are not a whole file of ``fmt``.
    """
    payload = metadata_payload(record)
    fmt = (fmt or "").lower()
    if fmt == "png":
        return _png_embed(data, payload)
    if fmt == "webp":
        return _webp_embed(data, payload)
    if fmt in ("jpeg", "jpg"):
        return _jpeg_embed(data, payload)
    return data


def read_metadata(data: bytes) -> dict[str, Any] | None:
    """The ImageLab record inside an image file, or ``None``; never raises, never decodes pixels."""
    try:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            return None
        data = bytes(data)
        if data.startswith(_PNG_SIG):
            text = _png_read(data)
        elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            text = _webp_read(data)
        elif data.startswith(b"\xff\xd8"):
            text = _jpeg_read(data)
        else:
            return None
        if not text or len(text) > _MAX_TEXT:
            return None
        meta = json.loads(text)
        return meta if isinstance(meta, dict) else None
    except Exception:  # noqa: BLE001 - whatever the bytes, the answer is "no metadata"
        return None


class LoadedSettings(tuple[str, dict[str, Any]]):
    """``(page, settings)``, so ``page, settings = settings_from_metadata(meta)`` works; ``.dropped``
    holds a sentence for everything that was left out."""

    dropped: list[str]

    def __new__(cls, page: str, settings: dict[str, Any], dropped: list[str]) -> LoadedSettings:
        obj = super().__new__(cls, (page, settings))
        obj.dropped = list(dropped)
        return obj

    @property
    def page(self) -> str:
        return self[0]

    @property
    def settings(self) -> dict[str, Any]:
        return self[1]


_OPTION_KEYS = tuple(f.name for f in fields(OutputOptions))
_PAGE_KEYS = {
    "generate": _OPTION_KEYS + ("prompt",),
    "reference_edit": _OPTION_KEYS + ("prompt", "input_fidelity"),
    "mask_edit": _OPTION_KEYS + ("prompt", "input_fidelity"),
    "conversation": _OPTION_KEYS + ("prompt", "input_fidelity", "mainline", "action", "attach_as",
                                     "completion_window"),
}
# In a record but not settings to load: the inputs' bytes are not in the file, links go stale.
_NOT_LOADED = {"images", "mask", "markup", "previous_response_id", "image_call_id"}
_MAINLINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(key: str, value: Any, info: Any) -> str | None:
    """A sentence if ``value`` is not acceptable for ``key`` (with the model ``info``), else None."""
    limits = catalog().limits
    bad = f"The saved {key.replace('_', ' ')} {value!r} is not valid here, so it was left out."
    if key == "prompt":
        return None if isinstance(value, str) else bad
    if key == "n":
        lo, hi = limits["n"]
        return None if _is_int(value) and lo <= value <= hi else bad
    if key == "size":
        # a size some format of the model takes; whether it fits the saved format is checked with the rest
        fits = any(size_problem(value, info, f) is None for f in info.all_formats) if isinstance(value, str) else False
        return None if len(str(value)) < 20 and fits else bad
    if key in ("quality", "background", "moderation"):
        qualities = info.qualities + (tuple(svg_rules()["qualities"]) if "svg" in info.all_formats else ())
        allowed = {"quality": qualities, "background": info.backgrounds, "moderation": info.moderation}[key]
        if key == "moderation" and not allowed:
            return None if value == "auto" else bad
        return None if isinstance(value, str) and value in allowed else bad
    if key == "output_format":
        return None if isinstance(value, str) and value in info.all_formats else bad
    if key == "output_compression":
        return None if _is_int(value) and 0 <= value <= 100 else bad
    if key == "partial_images":
        lo, hi = limits["partial_images"]
        return None if _is_int(value) and lo <= value <= hi else bad
    if key == "complexity":
        return None if value in (None, "low", "medium", "high") else bad
    if key == "frame_count":
        lo, hi = limits["gif_frames"]
        return None if value is None or (_is_int(value) and lo <= value <= hi) else bad
    if key == "frame_duration_ms":
        return None if value is None or (_is_int(value) and GIF_MIN_FRAME_MS <= value <= GIF_MAX_FRAME_MS) else bad
    if key == "svg_model":
        return None if value is None or (isinstance(value, str) and _MAINLINE.match(value)) else bad
    if key == "svg_effort":
        return None if value is None or value in svg_rules()["reasoning_efforts"] else bad
    if key == "completion_window":
        return None if value in COMPLETION_WINDOWS else bad
    if key == "input_fidelity":
        return None if value is None or (isinstance(value, str) and value in info.input_fidelity) else bad
    if key == "mainline":
        return None if isinstance(value, str) and _MAINLINE.match(value) else bad
    if key == "action":
        return None if value in ACTIONS else bad
    if key == "attach_as":
        return None if value in ("data_url", "file") else bad
    return bad


def settings_from_metadata(meta: dict[str, Any]) -> LoadedSettings:
    """Which page to open and the settings to load into it, checked against the catalog.

    Returns ``LoadedSettings`` — a ``(page, settings)`` pair whose ``.dropped`` lists a sentence
    for each thing left out: unknown keys, a model not in the catalog (or retired), values the
    model does not take, and input images (their bytes are not in the file). The settings are
    keyword arguments for the page's spec (``GenerateSpec(**settings)`` etc.). A prompt longer than
    the API allows is shortened. Raises ``ValueError`` when ``meta`` is not a dict.
    """
    if not isinstance(meta, dict):
        raise ValueError("The file carries no ImageLab settings.")
    dropped: list[str] = []
    page = meta.get("page")
    if page not in PAGES:
        if page is not None:
            shown = str(page)[:40]
            dropped.append(f"The file names an unknown page '{shown}', so its settings open on Generate.")
        page = "generate"
    params = meta.get("params")
    raw = dict(params) if isinstance(params, dict) else {}
    if isinstance(meta.get("prompt"), str):
        raw["prompt"] = meta["prompt"]
    if isinstance(meta.get("model"), str) and "model" not in raw:
        raw["model"] = meta["model"]
    allowed = _PAGE_KEYS[page]
    unknown = sorted(str(k)[:40] for k in raw if k not in allowed and k not in _NOT_LOADED)
    if unknown:
        dropped.append(f"Left out settings ImageLab does not know: {', '.join(unknown)}.")
    if any(raw.get(k) for k in ("images", "mask", "markup")):
        dropped.append("The input images and any mask are not stored in the file; attach them again.")
    raw = {k: v for k, v in raw.items() if k in allowed}

    settings: dict[str, Any] = {}
    model = raw.pop("model", None)
    info = model_info(model) if isinstance(model, str) else None
    if model is not None and info is None:
        dropped.append(f"The model '{str(model)[:60]}' is not in ImageLab's catalog, so the current model is kept.")
    elif info is not None and info.retired:
        dropped.append(info.retirement_sentence() + " The current model is kept.")
        info = None
    if info is not None:
        settings["model"] = info.name
    check_info = info or model_info(catalog().default_model)
    for key, value in raw.items():
        sentence = _check(key, value, check_info)
        if sentence:
            dropped.append(sentence)
        else:
            settings[key] = value
    limit = catalog().limits["prompt_chars"]
    if isinstance(settings.get("prompt"), str) and len(settings["prompt"]) > limit:
        settings["prompt"] = settings["prompt"][:limit]
        dropped.append(f"The saved prompt was longer than {limit:,} characters and was shortened.")
    # Combinations (transparent + JPEG, compression on PNG, ...): drop the option each problem names.
    for _ in range(len(_OPTION_KEYS)):
        opts = OutputOptions(**{k: v for k, v in settings.items() if k in _OPTION_KEYS})
        problems = [p for p in opts.option_problems() if p.param in settings and p.param != "model"]
        if not problems:
            break
        p = problems[0]
        settings.pop(p.param)
        dropped.append(f"{p.message} The saved {p.param.replace('_', ' ')} was left out.")
    return LoadedSettings(page, settings, dropped)


# --- zip ------------------------------------------------------------------------------------

_EXT = {"png": "png", "jpeg": "jpg", "jpg": "jpg", "webp": "webp", "gif": "gif", "svg": "svg"}
MANIFEST_COLUMNS = ("file", "hash", "format", "width", "height", "page", "model", "prompt", "params",
                    "input_tokens", "output_tokens", "total_tokens", "usage", "est_dollars", "actual_dollars",
                    "billed", "would_cost_dollars", "request_id", "created_at", "created_at_iso")


def _csv_cell(value: Any) -> Any:
    """Plain text a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _iso(ts: Any) -> str | None:
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(ts)))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def export_zip(records: list[dict[str, Any]], read_bytes: Callable[[str, str], bytes]) -> bytes:
    """The zip ``write_zip`` writes, as bytes (built in a temporary file, not in memory)."""
    with tempfile.TemporaryFile() as tmp:
        write_zip(tmp, records, read_bytes)
        tmp.seek(0)
        return tmp.read()


def write_zip(out: IO[bytes], records: list[dict[str, Any]], read_bytes: Callable[[str, str], bytes]) -> None:
    """Write to ``out`` a zip of the images with their settings embedded, plus ``manifest.json`` and
    ``manifest.csv``. Each picture is read (from the folder or the shared storage) only as it goes in,
    so one picture at a time is held, however many are exported.

    Each record is a plain dict the caller builds from the store, with the keys
    ``hash``, ``format`` (png/jpeg/webp/gif/svg), ``prompt``, ``model``, ``page``, ``params`` (the run's
    spec record), ``usage`` (dict or None), ``est_dollars``, ``actual_dollars``, ``request_id``,
    ``created_at`` (epoch seconds), ``width``, ``height``; ``revised_prompt`` is optional.
    ``read_bytes(hash, format)`` returns the stored bytes.

    Images go to ``images/<nn>-<hash12>.<ext>`` in the order given. An image whose bytes cannot
    be read is left out and named in ``missing.txt``; one whose metadata cannot be embedded is
    kept as stored. Keys named like credentials (``api_key``, ``authorization``...) and key-shaped
    strings are scrubbed from everything written.
    """
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    width = max(2, len(str(len(records))))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, original in enumerate(records, start=1):
            rec = scrub(dict(original))
            digest = str(rec.get("hash") or "")
            fmt = str(rec.get("format") or "png").lower()
            try:
                data = read_bytes(digest, fmt)
            except Exception as exc:  # noqa: BLE001 - a lost file must not cost the whole export
                missing.append(f"{digest}: {exc}")
                continue
            if fmt == "svg":
                with contextlib.suppress(NotAnSvg):
                    data = sanitize_svg(data)  # opening the export must run nothing the server sent
            with contextlib.suppress(ValueError):
                data = embed_metadata(data, fmt, rec)
            name = f"images/{n:0{width}d}-{digest[:12]}.{_EXT.get(fmt, 'bin')}"
            info = zipfile.ZipInfo(name, date_time=_zip_time(rec.get("created_at")))
            info.compress_type = zipfile.ZIP_STORED if fmt in ("png", "jpeg", "jpg", "webp", "gif") \
                else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            usage = rec.get("usage") if isinstance(rec.get("usage"), dict) else None
            rows.append({"file": name, "hash": digest, "format": fmt, "width": rec.get("width"),
                         "height": rec.get("height"), "page": rec.get("page"), "model": rec.get("model"),
                         "prompt": rec.get("prompt"), "revised_prompt": rec.get("revised_prompt"),
                         "params": rec.get("params") or {}, "usage": usage,
                         "est_dollars": rec.get("est_dollars"), "actual_dollars": rec.get("actual_dollars"),
                         "billed": rec.get("billed", True), "would_cost_dollars": rec.get("would_cost_dollars"),
                         "request_id": rec.get("request_id"), "created_at": rec.get("created_at"),
                         "created_at_iso": _iso(rec.get("created_at")),
                         **({"note": rec["note"]} if rec.get("note") else {})})
        zf.writestr("manifest.json", json.dumps(scrub(rows), indent=2, ensure_ascii=False))
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in scrub(rows):
            usage = row["usage"] or {}
            flat = {**row, "params": json.dumps(row["params"], ensure_ascii=False, sort_keys=True),
                    "usage": json.dumps(row["usage"], sort_keys=True) if row["usage"] else "",
                    "input_tokens": usage.get("input_tokens"), "output_tokens": usage.get("output_tokens"),
                    "total_tokens": usage.get("total_tokens")}
            writer.writerow({k: _csv_cell(v) for k, v in flat.items()})
        zf.writestr("manifest.csv", table.getvalue())
        if missing:
            zf.writestr("missing.txt", "These images could not be read and are not in the zip:\n"
                        + "\n".join(missing) + "\n")


def manifest_records(store: Any, image_ids: list[int]) -> list[dict[str, Any]]:
    """The records ``export_zip`` takes, for these image ids, from a ``Store``, in the order given.

    Ids no longer in the history (deleted meanwhile) are left out."""
    out = []
    for image_id in image_ids:
        try:
            rec = store.image(image_id)
        except KeyError:
            continue
        run = store.run(rec.run_id)
        # the picture's share of its run, and only what was paid counts as spent
        money = image_money(rec)
        out.append({"hash": rec.hash, "format": rec.format, "width": rec.width, "height": rec.height,
                    "prompt": rec.prompt, "revised_prompt": rec.revised_prompt, "model": rec.model,
                    "page": rec.page, "params": run.params, "usage": run.usage, "est_dollars": run.est_dollars,
                    "actual_dollars": round(money.spent, 6) if money.priced else None, "billed": run.billed,
                    "would_cost_dollars": None if run.billed or not money.priced else round(money.would_cost, 6),
                    "request_id": run.request_id, "created_at": rec.created_at, "bytes": rec.bytes})
    return out


def board_records(store: Any, board_id: int) -> list[dict[str, Any]]:
    """The records of a board's pictures in the board's order, each with its note (a picture whose result was
    deleted from the history keeps only its hash, format and note)."""
    records: list[dict[str, Any]] = []
    for item in store.board_items(board_id):
        try:
            rec = store.image_by_hash(item.hash)
        except KeyError:
            records.append({"hash": item.hash, "format": item.format, "note": item.note})
            continue
        records.extend(r | {"note": item.note} for r in manifest_records(store, [rec.id]))
    return records


def export_board(store: Any, board_id: int) -> bytes:
    """The zip of a board's pictures in the board's order, each with its note in the manifest."""
    return export_zip(board_records(store, board_id), store.read_bytes)


def export_images(store: Any, image_ids: list[int]) -> bytes:
    """The zip of these images from a ``Store`` (``export_zip`` says what is in it)."""
    return export_zip(manifest_records(store, image_ids), store.read_bytes)


def export_link(store: Any, records: list[dict[str, Any]], file_name: str = "imagelab-export.zip") -> str:
    """With shared storage: the zip of these records (``manifest_records``, ``board_records``) written to a
    temporary file one picture at a time, sent to the storage in parts, and the URL that downloads it
    (``S3Storage.publish_export``). Neither the zip nor this process's page ever holds it whole. Raises
    ``PictureStorageError`` with a sentence."""
    with tempfile.TemporaryFile() as tmp:
        write_zip(tmp, records, store.read_bytes)
        tmp.seek(0)
        return str(store.blobs.publish_export(tmp, file_name))


# Streamlit serves a static file of at most 200 MB (``MAX_APP_STATIC_FILE_SIZE``): a larger export goes in parts.
EXPORT_PART_BYTES = 190 * 1024 * 1024
# How long an export's files stay in the served folder (removed at the next export after that).
EXPORT_KEEP_SECONDS = 3600


def export_files(store: Any, records: list[dict[str, Any]], folder: Path, file_name: str = "imagelab-export.zip",
                 *, part_bytes: int = EXPORT_PART_BYTES, now: float | None = None) -> list[Path]:
    """Without shared storage: the zip of these records (``manifest_records``, ``board_records``) written to a
    file in a new folder of its own, with an unguessable name, under ``folder`` (the one Streamlit serves as
    static files, which sends a file to the browser from disk in chunks), one picture at a time, so neither
    the zip nor the page ever holds it whole. Pictures past ``part_bytes`` go to a further zip
    (``…-2-of-3.zip``), each with the manifest of its own pictures. Exports older than
    ``EXPORT_KEEP_SECONDS`` are removed first. Raises ``OSError``."""
    now = time.time() if now is None else now
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        with contextlib.suppress(OSError):
            if old.is_dir() and now - old.stat().st_mtime > EXPORT_KEEP_SECONDS:
                shutil.rmtree(old)
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for rec in records:
        if parts[-1] and size + int(rec.get("bytes") or 0) > part_bytes:
            parts.append([])
            size = 0
        parts[-1].append(rec)
        size += int(rec.get("bytes") or 0)
    home = folder / secrets.token_urlsafe(24)  # the link is the only way to it, as a presigned URL is
    home.mkdir()
    stem, ext = os.path.splitext(file_name)
    made = []
    for n, records in enumerate(parts, start=1):
        path = home / (file_name if len(parts) == 1 else f"{stem}-{n}-of-{len(parts)}{ext}")
        partial = path.with_name("." + path.name + ".part")  # served only once it is whole
        with open(partial, "wb") as out:
            write_zip(out, records, store.read_bytes)
        os.replace(partial, path)
        made.append(path)
    return made


def _zip_time(ts: Any) -> tuple[int, int, int, int, int, int]:
    try:
        t = time.localtime(float(ts))[:6]
        if t[0] >= 1980:
            return t
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    return (1980, 1, 1, 0, 0, 0)
