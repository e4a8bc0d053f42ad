"""Extend: grow a picture's canvas to a new shape; the model paints the new part, the picture stays.

A session's first view draws the prompt alone; the rest follows once it is on screen (first_view.py).
"""

import io

import streamlit as st
from PIL import Image

from components import connection, image_inputs, keep_exact, options, runs, shortcuts, state, untrusted
from components.frame import Sidebar, show_page_with_first_view
from imagelab.catalog import catalog
from imagelab.costs import estimate
from imagelab.extend import (
    ASPECTS,
    PLACEMENTS,
    ExtendError,
    ExtendPlan,
    extend_mask,
    padded_picture,
    plan_extend,
    plan_preview,
    target_for,
)
from imagelab.specs import EditSpec, InputImage, MaskInput, Problem
from imagelab.store import content_hash

CUSTOM = "Custom"
PLACE_ICONS = {"top left": "north_west", "top": "north", "top right": "north_east", "left": "west",
               "centre": "filter_center_focus", "right": "east", "bottom left": "south_west", "bottom": "south",
               "bottom right": "south_east"}


@st.cache_data(max_entries=8, show_spinner=False)
def canvas_files(digest: str, plan: ExtendPlan, _data: bytes) -> tuple[bytes, bytes, bytes]:
    """(the picture on the new canvas as PNG, its mask, a display-sized preview), once per picture and plan."""
    with Image.open(io.BytesIO(_data)) as img:
        picture = img.convert("RGB")
    out, shown = io.BytesIO(), io.BytesIO()
    padded_picture(picture, plan).save(out, "PNG")
    plan_preview(picture, plan).save(shown, "PNG")
    return out.getvalue(), extend_mask(plan), shown.getvalue()


def _prompt() -> str:
    prompt = st.text_area("Prompt", key=state.EXT_PROMPT, height=100,
                          placeholder="A wide panoramic photo of a mountain lake at dawn, pine forest on both shores")
    st.caption("Describe the **whole** new picture, including what should fill the added space.")
    return prompt


def render(bar: Sidebar, brief: bool) -> None:
    st.title("Extend")
    st.caption("Give a picture more room: choose the new shape and where the picture sits; the model paints the new "
               "part around it.")

    store = connection.require_history()
    options.show_load_notes()
    form, output = st.columns([7, 5], gap="large")
    with output:
        picker = st.container()  # the model, above the prompt
        if brief:  # the same prompt in the same place: what is typed meanwhile stays
            _prompt()
            bar.hold_estimate()
            return
        with picker:
            info = options.model_picker(state.EXT_MODEL)
        prompt = _prompt()
    with form:
        image = image_inputs.one_picture(state.EXT, store, asks="Picture to extend")  # folds over the shape choice
        shapes = [*ASPECTS, CUSTOM]
        if st.session_state.get(state.EXT_SHAPE) not in shapes:
            st.session_state[state.EXT_SHAPE] = "16:9 banner"
        shape = st.segmented_control("New shape", shapes, key=state.EXT_SHAPE,
                                     help="The picture keeps its size; the canvas grows around it to this shape, "
                                          "or to the width and height you give.") or "16:9 banner"
        custom = None
        if shape == CUSTOM:
            step = catalog().limits["custom_size"]["multiple"]
            longest = catalog().limits["custom_size"]["max_long_edge"]
            if image is not None:
                wider = min(longest, image.width + image.width // 2) // step * step
                st.session_state.setdefault(state.EXT_WIDTH, wider)
                st.session_state.setdefault(state.EXT_HEIGHT, image.height // step * step)
            w_col, h_col = st.columns(2)
            width = w_col.number_input("Width", 16, longest, 1536, step=step, key=state.EXT_WIDTH)
            height = h_col.number_input("Height", 16, longest, 1024, step=step, key=state.EXT_HEIGHT)
            custom = (int(width), int(height))
        if st.session_state.get(state.EXT_PLACE) not in PLACEMENTS:
            st.session_state[state.EXT_PLACE] = "centre"
        place = st.segmented_control("Where the picture sits", list(PLACE_ICONS), key=state.EXT_PLACE,
                                     format_func=lambda p: f":material/{PLACE_ICONS[p]}:") or "centre"

    problems: list[Problem] = []
    plan: ExtendPlan | None = None
    canvas: InputImage | None = None
    mask: MaskInput | None = None
    preview_png = None
    if image is not None:
        try:
            plan = plan_extend(image.width, image.height, target_for(image.width, image.height, shape, custom), place,
                               info)
        except ExtendError as exc:
            problems.append(Problem("size", exc.sentence))
        if plan is not None:
            canvas_png, mask_png, preview_png = canvas_files(image.hash, plan, image.data)
            canvas = InputImage(canvas_png, "canvas.png", "image/png", plan.width, plan.height,
                                content_hash(canvas_png))
            mask = MaskInput(mask_png, plan.width, plan.height, content_hash(mask_png), plan.new_share)

    with output:
        q_col, f_col, n_col = st.columns(3)
        quality = q_col.selectbox("Quality", list(info.qualities), key=state.EXT_QUALITY)
        formats = [f for f in info.formats if f in ("png", "webp", "jpeg")]
        if st.session_state.get(state.EXT_FORMAT) not in formats:
            st.session_state[state.EXT_FORMAT] = formats[0]
        fmt = f_col.selectbox("Format", formats, key=state.EXT_FORMAT, format_func=str.upper)
        n = n_col.number_input("Images (n)", 1, catalog().limits["n"][1], 1, key=state.EXT_N)
        feather = keep_exact.keep_exact_setting(state.EXT)

    spec = EditSpec(prompt=prompt, model=info.name, images=(canvas,) if canvas else (), mask=mask,
                    size=plan.size if plan else "auto", quality=quality, output_format=fmt, n=int(n))
    problems += spec.problems()
    est = estimate(spec)
    bar.show_estimate(est, problems, what=f"{spec.n} × {spec.size} · {spec.quality} · "
                                          f"{plan.new_share if plan else 0:.0%} of the canvas is new")

    with form:
        if image is not None and plan is not None and preview_png is not None:
            st.image(preview_png, width="stretch",
                     caption=f"The new canvas: {plan.width}×{plan.height}, the picture at the {place}; the model "
                             f"paints the tinted part ({plan.new_share:.0%}).")
            for note in plan.notes:
                st.warning(note, icon=":material/aspect_ratio:")
    with output:
        shown = [p for p in problems if p.param not in ("prompt", "image") or prompt]
        for p in shown:
            untrusted.say(p.message, kind="warning", icon=":material/tune:")
        clicked = st.button("Extend the picture", type="primary", key=state.EXT_BUTTON, icon=":material/open_in_full:",
                            width="stretch", shortcut=shortcuts.PRIMARY)
        live = st.empty()

    if clicked:
        kept = None
        if image is not None and canvas is not None and mask is not None and not problems:
            store.add_input(canvas.data, "png", canvas.width, canvas.height, "extend-canvas.png")
            store.add_input(mask.data, "png", mask.width, mask.height, "extend-mask.png")
            kept = keep_exact.postprocess(canvas.data, mask.data, feather)
        runs.submit(spec, problems, "edit", page="extend", est=est, live=live, parents=[image.hash] if image else None,
                   postprocess=kept)

    with output:
        runs.sending_place(state.EXT_BUTTON, state.EXT_PROMPT)
        runs.show_runs("extend", key="ext", shown_key=state.EXT_SHOWN,
                      empty_text="Pick a picture, choose its new shape and describe the whole new picture.",
                      icon=":material/open_in_full:")


show_page_with_first_view("Extend", render, icon=":material/open_in_full:")
