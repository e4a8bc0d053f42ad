"""The model-aware output options form shared by Generate, the edit pages and Conversation.

Only what the chosen model accepts can be picked; what it does not accept is shown disabled
with the reason. Returns plain values; the page builds its spec from them.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from imagelab.catalog import ModelInfo, catalog, gif_sizes, model_info, parse_size, picker_choices, svg_rules
from imagelab.specs import GIF_MAX_FRAME_MS, GIF_MIN_FRAME_MS, gif_frame_ms, size_problem

from . import drafts, state, untrusted

CUSTOM_SIZE = "custom…"
DEFAULT = "default"

# Sizes as the box shows them whole at 1280 wide; their shapes are in the help.
SIZE_LABELS = {"auto": "auto", "1024x1024": "1024×1024", "1536x1024": "1536×1024", "1024x1536": "1024×1536"}
SIZE_SHAPES = "1024×1024 is square, 1536×1024 landscape, 1024×1536 portrait."


def gif_size_label(size: str) -> str:
    """A GIF frame size as the form lists it, with the frames it fits."""
    most = gif_sizes().get(size)
    return f"{size.replace('x', '×')} · up to {most} frames" if most else size


def _keep_valid(key: str, options: list[Any], fallback: Any) -> None:
    """A model change can leave a widget holding a value the new model lacks; reset it first."""
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = fallback


def keep_widget_state(*prefixes: str) -> None:
    """Carry widget values across pages: Streamlit forgets a widget's value when its page is left.

    Buttons, uploaders and canvases cannot be set this way, so their keys start with
    ``btn_``, ``upl_`` or ``canvas_`` and never match a page prefix.
    """
    drafts.start_from_draft()
    kept = remember_widget_values(*prefixes)
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(prefixes):
            st.session_state[key] = st.session_state[key]
    # A fragment's own rerun can drop the state of a widget it drew once the page is left; the copy taken at the
    # start of every run (the fragment's too) brings it back.
    for key, value in kept.items():
        if key not in st.session_state and key.startswith(prefixes):
            st.session_state[key] = value


def remember_widget_values(*prefixes: str) -> dict[str, Any]:
    """Copy the values of the widgets whose keys start with ``prefixes`` aside, where no widget clean-up reaches
    them; a fragment holding form widgets calls this at its start. Returns every value kept so far."""
    kept: dict[str, Any] = st.session_state.setdefault(state.KEPT_VALUES, {})
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(prefixes) and key != state.KEPT_VALUES:
            kept[key] = st.session_state[key]
    drafts.save_draft(kept)
    return kept


def _grid(count: int, columns: int):
    """Cells of a grid, row by row, so the form reads left to right."""
    for _row in range(0, count, columns):
        yield from st.columns(columns)


# --- choices that carry across pages ----------------------------------------------------------------
# Each page keeps its own widgets (their keys differ), but the model, size, quality and n chosen last on
# any page are what every other page shows next, until they are changed there.

def remember_choice(name: str, value: Any, widget_key: str | None = None) -> None:
    """Make ``value`` the common choice for ``name`` ("model", "size", "quality", "n")."""
    version = int(st.session_state.get(state.COMMON_VERSION, 0)) + 1
    st.session_state[state.COMMON_VERSION] = version
    st.session_state.setdefault(state.COMMON_CHOICES, {})[name] = (value, version)
    if widget_key is not None:
        st.session_state.setdefault(state.COMMON_SEEN, {})[widget_key] = version


def _publish(widget_key: str, name: str) -> None:
    """A widget's change callback: what was picked here becomes the common choice."""
    remember_choice(name, st.session_state[widget_key], widget_key)


def _adopt(widget_key: str, name: str) -> None:
    """Before a widget is drawn: take the common choice if it changed since this widget last saw it."""
    common = st.session_state.get(state.COMMON_CHOICES) or {}
    if name not in common:
        return
    value, version = common[name]
    seen = st.session_state.setdefault(state.COMMON_SEEN, {})
    if seen.get(widget_key) != version:
        st.session_state[widget_key] = value
        seen[widget_key] = version


def _switch_model(key: str, name: str) -> None:
    st.session_state[key] = name
    remember_choice("model", name, key)


def model_label(name: str) -> str:
    """How the picker lists a model: its name, and its date when it is retiring or retired. Short enough to be
    read whole in the box at 1280 wide; what each model is for is under the picker and in its help."""
    info = model_info(name)
    if info is None:
        return name
    if info.retired:
        return f"{name} · retired {info.retired_on}"
    if info.shut_down():
        return f"{name} · {info.stage()} {info.retiring_on}"
    if info.retiring:
        return f"{name} · retiring {info.retiring_on}"
    return name


def _models_help(names: list[str]) -> str:
    """The picker's help: the order it lists models in, then what each current one is for."""
    lines = [f"- {n}: {info.purpose}" for n in names if (info := model_info(n)) and info.purpose
             and not (info.retired or info.retiring or info.snapshot_of)]
    return ("Current models first, then dated snapshots. Retiring and retired models are listed with their dates "
            "when the switch below is on; retired ones cannot be sent.\n\n" + "\n".join(lines))


def model_picker(key: str, label: str = "Model") -> ModelInfo:
    """Current models first (each with what it is for), then dated snapshots and retiring ones (with their
    date); shut-down and retired ones behind a toggle, with their dates. A retiring, shut-down or retired
    choice says so and offers its successor."""
    _adopt(key, "model")
    if key not in st.session_state or model_info(st.session_state[key]) is None:
        st.session_state[key] = catalog().default_model
    chosen = st.session_state[key]
    show_older = bool(st.session_state.get(state.MODELS_OLDER, False))
    names = picker_choices(show_older, chosen)
    st.selectbox(label, names, key=key, format_func=model_label, on_change=_publish, args=(key, "model"),
                 help=_models_help(names))
    st.toggle("Show shut-down and retired models", key=state.MODELS_OLDER)
    info = model_info(st.session_state[key])
    assert info is not None
    if info.retired or info.retiring:
        sentence = info.retirement_sentence() if info.retired else info.retiring_sentence()
        (st.error if info.retired else st.warning)(
            sentence, icon=":material/block:" if info.retired else ":material/schedule:")
        if info.lifecycle_source:
            st.caption(f"Source: {info.lifecycle_source}")
        if info.successor:
            st.button(f"Try this on {info.successor}", key=f"btn_{key}_successor", icon=":material/switch_access:",
                      on_click=_switch_model, args=(key, info.successor))
    elif info.purpose:
        # A note (a preview feature, a borrowed figure) sits behind the help mark, not repeated in full on every page.
        st.caption(f"{info.purpose[:1].upper()}{info.purpose[1:]}.", help=info.note or None)
    return info


def output_options(info: ModelInfo, key: str, *, allow_stream: bool = True, allow_n: bool = True,
                   columns: int = 3) -> dict[str, Any]:
    """Render every output option ``info`` accepts under keys ``{key}.…``; return their values."""
    k = lambda name: f"{key}_{name}"  # noqa: E731
    values: dict[str, Any] = {}
    for name in ("size", "quality", "n"):
        _adopt(k(name), name)

    formats = list(info.all_formats)
    _keep_valid(k("format"), formats, "png")
    # GIF and SVG have their own sizes and SVG its own qualities and complexity: the format picks them
    chosen_format = st.session_state.get(k("format"), "png")
    svg = svg_rules()
    if chosen_format == "svg":
        qualities, quality_default = list(svg["qualities"]), svg["default_quality"]
    else:
        qualities = list(info.qualities)
        quality_default = "auto" if "auto" in qualities else qualities[0]
    _keep_valid(k("quality"), qualities, quality_default)
    if chosen_format == "gif":
        sizes, size_default = list(gif_sizes()), catalog().limits["gif"]["default_size"]
    elif chosen_format == "svg":
        sizes, size_default = list(svg["sizes"]), svg["default_size"]
    else:
        sizes = list(info.sizes) + ([CUSTOM_SIZE] if info.custom_sizes else [])
        size_default = "auto" if "auto" in sizes else sizes[0]
    _keep_valid(k("size"), sizes, size_default)
    complexities = list(svg["complexities"]) if chosen_format == "svg" else [DEFAULT, "low", "medium", "high"]
    _keep_valid(k("complexity"), complexities, svg["default_complexity"] if chosen_format == "svg" else DEFAULT)
    backgrounds = list(info.backgrounds) + [b for b in info.preview_backgrounds if b not in info.backgrounds]
    _keep_valid(k("background"), backgrounds, backgrounds[0])

    limits = catalog().limits
    custom = limits["custom_size"]
    step, long_edge, short_edge = custom["multiple"], custom["max_long_edge"], custom["max_short_edge"]
    exp_w, exp_h = custom["experimental_above"]
    ratio = f"1:{custom['max_ratio']:g} and {custom['max_ratio']:g}:1"
    cells = _grid(9, columns)
    with next(cells):
        if chosen_format == "gif":
            size = st.selectbox("Frame size", sizes, key=k("size"), format_func=gif_size_label,
                                help="GIF frames come in these sizes; larger frames fit fewer frames (approximate, "
                                     "from the API's 'Size too large for this frame count').")
        elif chosen_format == "svg":
            size = st.selectbox("Reference size", sizes, key=k("size"), format_func=lambda s: SIZE_LABELS.get(s, s),
                                help="The SVG is drawn from a reference picture of one of these sizes.")
        else:
            size = st.selectbox("Size", sizes, key=k("size"), format_func=lambda s: SIZE_LABELS.get(s, s),
                                on_change=_publish, args=(k("size"), "size"),
                                help=f"{SIZE_SHAPES} Custom sizes: both sides multiples of {step}, between {ratio}, "
                                     f"at most {long_edge}×{short_edge}." if info.custom_sizes
                                else f"{SIZE_SHAPES} {info.name} takes these sizes only.")
        if size == CUSTOM_SIZE:
            w_col, h_col = st.columns(2)
            w = w_col.number_input("Width", step, long_edge, 1536, step=step, key=k("width"))
            h = h_col.number_input("Height", step, long_edge, 864, step=step, key=k("height"))
            size = f"{int(w)}x{int(h)}"
            dims = parse_size(size)
            if dims and dims[0] * dims[1] > exp_w * exp_h:
                st.caption(f"Above {exp_w}×{exp_h} is experimental.")
        values["size"] = size
    with next(cells):
        values["quality"] = st.selectbox("Quality", qualities, key=k("quality"), on_change=_publish,
                                         args=(k("quality"), "quality"),
                                         help=("The reference picture's quality: low by default, up to max."
                                               if chosen_format == "svg" else
                                               "Higher quality costs more output tokens."))
    with next(cells):
        values["n"] = st.number_input("Images (n)", limits["n"][0], limits["n"][1], 1, key=k("n"), disabled=not allow_n,
                                      on_change=_publish, args=(k("n"), "n"),
                                      help="1 to 10 images in one request.") if allow_n else 1
    with next(cells):
        fmt = st.selectbox("Format", formats, key=k("format"),
                           format_func=lambda f: f.upper() + (" (preview access)" if f in info.preview_formats else ""))
        values["output_format"] = fmt
    with next(cells):
        compressible = fmt in ("jpeg", "webp")
        # a number box, not a slider: a slider brings six scripts of its own to every cold view of the form
        values["output_compression"] = st.number_input(
            "Compression (%)", 0, 100, 100, 5, key=k("compression"), disabled=not compressible,
            help="0–100, for JPEG and WebP only: lower is smaller and rougher." if compressible
            else "Only JPEG and WebP can be compressed.")
        if not compressible:
            values["output_compression"] = 100
    with next(cells):
        transparent_ok = "transparent" in backgrounds
        preview = set(info.preview_backgrounds) - set(info.backgrounds)
        values["background"] = st.selectbox(
            "Background", backgrounds, key=k("background"),
            help=("Transparent needs PNG or WebP." if transparent_ok
                  else f"{info.name} cannot make transparent backgrounds.")
                 + (f" {', '.join(sorted(preview)).capitalize()} is a preview on {info.name}: most accounts are "
                    "refused it for now." if preview else ""))
        if values["background"] in preview:  # said beside the box, where "(preview)" was cut off
            st.caption("A preview: most accounts are refused it for now.")
    with next(cells):
        mods = list(info.moderation) or ["auto"]
        values["moderation"] = st.selectbox("Moderation", mods, key=k("moderation"),
                                            help="'low' filters less strictly.")
    with next(cells):
        can_stream = allow_stream and fmt not in ("gif", "svg")
        values["partial_images"] = st.number_input(
            "Partial images", 0, 3, 0, key=k("partials"), disabled=not can_stream,
            help=("Streamed previews while the image renders; each adds 100 output tokens."
                  if can_stream else "GIF and SVG output cannot stream partial images."))
        if not can_stream:
            values["partial_images"] = 0
    with next(cells):
        cx = st.selectbox("Complexity", complexities, key=k("complexity"),
                          help="Planning effort, independent of quality" +
                               (" (for SVG: the reference picture's; high by default)." if chosen_format == "svg"
                                else "."))
        values["complexity"] = None if cx == DEFAULT else cx

    if fmt == "gif":
        values.update(_gif_options(k, str(values["size"])))
    if fmt == "svg":
        values.update(_svg_options(k))
    values["n"] = int(values["n"])
    values["partial_images"] = int(values["partial_images"])
    values["output_compression"] = int(values["output_compression"])
    return values


def _gif_options(k: Any, size: str) -> dict[str, Any]:
    """Frames and frame duration, with how many frames this frame size fits and the frame rate."""
    limits = catalog().limits
    g1, g2 = st.columns(2)
    fewest, most = limits["gif_frames"]
    frames = int(g1.number_input("Frames", fewest, most, limits["gif_frames_default"], key=k("frames")))
    ms = int(g2.number_input(
        "Frame duration (ms)", GIF_MIN_FRAME_MS, GIF_MAX_FRAME_MS, limits["gif_frame_ms_default"], step=10,
        key=k("frame_ms"), help=f"At least {GIF_MIN_FRAME_MS} ms; sent rounded to the nearest 10 ms."))
    fits = gif_sizes().get(size)
    rate = 1000 / gif_frame_ms(ms)
    said = [f"{size.replace('x', '×')} fits {fewest} to {fits} frames (approximate)" if fits else "",
            f"{frames} frames × {gif_frame_ms(ms)} ms = {frames * gif_frame_ms(ms) / 1000:g} s at {rate:.3g} fps"]
    st.caption(". ".join(x for x in said if x) + ". GIF cannot stream, send partial images, use a mask or be "
                                                  "compressed.")
    return {"frame_count": frames, "frame_duration_ms": ms}


def _svg_options(k: Any) -> dict[str, Any]:
    """The SVG author model and its reasoning effort: only for accounts with SVG model selection."""
    efforts = [DEFAULT, *svg_rules()["reasoning_efforts"]]
    a1, a2 = st.columns(2)
    typed = a1.text_input("SVG author model (optional)", key=k("svg_model"), placeholder="leave empty",
                          help="Only for accounts with SVG model selection: the model that writes the SVG. "
                               "Leave it empty otherwise; the image model still draws the reference picture.")
    author = typed.strip() or None
    _keep_valid(k("svg_effort"), efforts, DEFAULT)
    effort = a2.selectbox("Author reasoning effort", efforts, key=k("svg_effort"), disabled=author is None,
                          help="How hard the author model reasons, independent of complexity; 'default' leaves "
                               "it to the model. Needs an author model.")
    st.caption("SVG makes one image and cannot stream, send partial images, use a mask or be compressed.")
    return {"svg_model": author, "svg_effort": None if author is None or effort == DEFAULT else effort}


def fidelity_picker(info: ModelInfo, key: str) -> str | None:
    """Input fidelity, only for models that accept it; None means leave it to the model."""
    if not info.input_fidelity:
        st.caption(f"{info.name} sets input fidelity itself" +
                   (" and always reads inputs in high detail." if info.token_table == "gpt-image-2" else "."))
        return None
    choices = [DEFAULT, *info.input_fidelity]
    _keep_valid(key, choices, DEFAULT)
    value = st.segmented_control("Input fidelity", choices, key=key, default=DEFAULT,
                                 help="'high' keeps faces and details of the first image closer, and costs more "
                                      "input tokens.")
    return None if value in (None, DEFAULT) else value


# Where each saved setting goes in a page's option widgets (``{prefix}_{name}``).
_OPTION_WIDGETS = {"quality": "quality", "n": "n", "output_format": "format", "output_compression": "compression",
                   "background": "background", "moderation": "moderation", "partial_images": "partials"}


def load_settings(params: dict[str, Any], *, model_key: str, prompt_key: str, opts_key: str,
                  fidelity_key: str | None = None) -> list[str]:
    """Put saved settings into a page's widgets before that page draws them.

    Values the catalog no longer allows are left out; the sentences returned say which.
    """
    notes: list[str] = []
    info = model_info(str(params.get("model", "")))
    if info is None or info.retired:
        notes.append(f"The model {params.get('model')} is not available any more; "
                     f"{catalog().default_model} is used instead.")
        info = model_info(catalog().default_model)
    assert info is not None
    st.session_state[model_key] = info.name
    remember_choice("model", info.name, model_key)
    st.session_state[prompt_key] = str(params.get("prompt", ""))
    fmt = params.get("output_format") if params.get("output_format") in info.all_formats else "png"
    qualities = (*info.qualities, *svg_rules()["qualities"]) if fmt == "svg" else info.qualities
    allowed = {"quality": qualities, "output_format": info.all_formats, "background": info.backgrounds,
               "moderation": info.moderation or ("auto",)}
    for name, widget in _OPTION_WIDGETS.items():
        if name not in params or params[name] is None:
            continue
        value = params[name]
        if name in allowed and value not in allowed[name]:
            notes.append(f"The {name.replace('_', ' ')} '{value}' does not apply to {info.name} and was left out.")
            continue
        st.session_state[f"{opts_key}_{widget}"] = value
        if name in ("quality", "n"):
            remember_choice(name, value, f"{opts_key}_{widget}")
    size = str(params.get("size", "auto"))
    if size in info.sizes or (fmt in ("gif", "svg") and size_problem(size, info, fmt) is None):
        st.session_state[f"{opts_key}_size"] = size
        remember_choice("size", size, f"{opts_key}_size")
    elif info.custom_sizes and (dims := parse_size(size)):
        w, h = dims
        st.session_state[f"{opts_key}_size"] = CUSTOM_SIZE
        st.session_state[f"{opts_key}_width"], st.session_state[f"{opts_key}_height"] = w, h
    else:
        notes.append(f"The size {size} does not apply to {info.name} and was left out.")
    st.session_state[f"{opts_key}_complexity"] = params.get("complexity") or DEFAULT
    if params.get("frame_count"):
        st.session_state[f"{opts_key}_frames"] = params["frame_count"]
    if params.get("frame_duration_ms"):
        st.session_state[f"{opts_key}_frame_ms"] = params["frame_duration_ms"]
    if isinstance(params.get("svg_model"), str):
        st.session_state[f"{opts_key}_svg_model"] = params["svg_model"]
    if params.get("svg_effort") in svg_rules()["reasoning_efforts"]:
        st.session_state[f"{opts_key}_svg_effort"] = params["svg_effort"]
    if fidelity_key is not None:
        fid = params.get("input_fidelity")
        st.session_state[fidelity_key] = fid if fid in info.input_fidelity else DEFAULT
    return notes


def show_load_notes() -> None:
    """Say once, on the page that received them, which loaded settings were left out."""
    for note in st.session_state.pop(state.LOAD_NOTES, None) or []:
        untrusted.say(note, kind="warning", icon=":material/history:")
