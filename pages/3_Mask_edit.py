"""Mask edit: paint over a picture; only the painted part is repainted.

The canvas leads the wide column (the picture picker folds away once a picture is chosen); the
prompt, the button and the newest result lead the narrow one, so all of them are in view together.
A session's first view draws the prompt and button alone; the rest follows once they are on screen
(first_view.py).
"""

from typing import Literal

import streamlit as st

from components import (
    connection,
    image_inputs,
    keep_exact,
    mask_canvas,
    options,
    results,
    runs,
    shortcuts,
    state,
    untrusted,
)
from components.frame import Sidebar, show_page_with_first_view
from imagelab.costs import estimate
from imagelab.masks import MaskError, mask_edit_fraction
from imagelab.specs import EditSpec, MaskInput, Problem
from imagelab.store import content_hash

PAINT, UPLOAD, ASK, MARKUP = "Paint a mask", "Upload a mask", "Ask the model for a mask", "Markup drawing"


def _prompt() -> str:
    return st.text_area("Prompt", key=state.MASK_PROMPT, height=72,
                        placeholder="A sunlit indoor lounge area with a pool containing a flamingo",
                        help="Describe the **whole** picture you want, not only the painted part: the model "
                             "repaints the transparent area so the entire image matches the prompt.")


def _edit_button(*, disabled: bool) -> bool:
    return st.button("Edit the painted part", type="primary", key=state.MASK_BUTTON, icon=":material/brush:",
                     width="stretch", disabled=disabled, shortcut=shortcuts.PRIMARY)


def render(bar: Sidebar, brief: bool) -> None:
    st.title("Mask edit", help="Paint over the part of a picture to change; everything you leave unpainted stays as "
                               "it is.")

    store = connection.require_history()
    options.show_load_notes()
    form, output = st.columns([3, 2], gap="medium")
    with form:
        picker, canvas_area, settings = st.container(), st.container(), st.container()
    if brief:  # the same prompt and button in the same places: what is typed meanwhile stays
        with output:
            _prompt()
            with st.container():
                _edit_button(disabled=True)  # a new session has no picture marked yet
        bar.hold_estimate()
        return
    with settings:
        info = options.model_picker(state.MASK_MODEL)
    with picker:
        image = image_inputs.one_picture(state.MASK, store, asks="Picture to edit")  # folds away: the canvas matters
    with canvas_area:
        modes = [PAINT, UPLOAD, ASK] + ([MARKUP] if info.markup else [])
        if st.session_state.get(state.MASK_MODE) not in modes:
            st.session_state[state.MASK_MODE] = PAINT
        mode = st.segmented_control("How to mark the change", modes, key=state.MASK_MODE,
                                    help=None if info.markup else
                                    f"Markup drawings need a 2.5 model; {info.name} takes a mask.") or PAINT

        overlay_png, fraction = None, 0.0
        if image is not None:
            if mode in (PAINT, MARKUP):
                painted = mask_canvas.mask_canvas(image, markup=mode == MARKUP)
                overlay_png, fraction = painted.png, painted.edit_fraction
            elif mode == UPLOAD:
                c1, c2 = st.columns([3, 2])
                upload = c1.file_uploader("Black-and-white mask", type=["png", "jpg", "jpeg", "webp"],
                                          key=state.MASK_UPLOAD)
                colour = c2.radio("Colour that means 'edit'", ["white", "black"], key=state.MASK_EDIT_COLOUR,
                                  horizontal=True, help="A PNG that already has transparency is used as it is.")
                if upload is not None:
                    try:
                        means_edit: Literal["white", "black"] = "black" if colour == "black" else "white"
                        overlay_png, kind, fraction = mask_canvas.uploaded_mask(upload.getvalue(), image, means_edit)
                        st.caption("Read its transparency as the mask." if kind == "alpha" else
                                   f"Converted: {colour} areas will be edited, resized to "
                                   f"{image.width}×{image.height}.")
                    except MaskError as exc:
                        untrusted.say(exc.sentence)
            else:
                subject = st.text_input("Subject to mask", key=state.MASK_SUBJECT, placeholder="the cat on the sofa")
                asked = st.button("Draw the mask", key="btn_mask_ask", icon=":material/draw:",
                                  disabled=not subject.strip(), help="One extra request: the model draws the subject "
                                  "in white on black, which becomes the mask.")
                ask_live = st.empty()
                if asked:
                    st.session_state[state.MASK_DRAWING_RUN] = runs.ask_for_mask(image, subject, info.name,
                                                                                live=ask_live)
                    st.session_state[state.MASK_DRAWN] = None
                drawing_run = st.session_state.get(state.MASK_DRAWING_RUN)
                if drawing_run is not None and st.session_state.get(state.MASK_DRAWN) is None:
                    drawn_hash, drawn_png, problem = runs.mask_from_drawing(drawing_run, image)
                    if drawn_hash is None:
                        runs.show_drawing_progress(drawing_run)
                    else:
                        st.session_state[state.MASK_DRAWN] = (drawn_hash, drawn_png, problem)
                drawn = st.session_state.get(state.MASK_DRAWN)
                if drawn is not None and drawn[0] == image.hash:
                    if drawn[2]:
                        untrusted.say(drawn[2], icon=":material/error:")
                    elif drawn[1] is not None:
                        overlay_png = drawn[1]
                        fraction = mask_edit_fraction(overlay_png)

    with output:
        prompt = _prompt()
        action = st.container()
    with settings:
        fidelity = options.fidelity_picker(info, state.MASK_FIDELITY)
        values = options.output_options(info, state.MASK_OPTS, columns=3)
        feather = keep_exact.keep_exact_setting(state.MASK_KEEP) if mode != MARKUP else None

    overlay = None
    if image is not None and overlay_png is not None:
        overlay = MaskInput(overlay_png, image.width, image.height, content_hash(overlay_png), fraction)
    markup_mode = mode == MARKUP
    spec = EditSpec(prompt=prompt, model=info.name, images=(image,) if image else (), input_fidelity=fidelity,
                    mask=None if markup_mode else overlay, markup=overlay if markup_mode else None, **values)
    problems = spec.problems()
    inverted_blank = mode == PAINT and bool(st.session_state.get(state.MASK_INVERT)) and overlay is None
    if image is not None and overlay is None:
        if inverted_blank:
            what = ("Nothing is masked: Invert is on but nothing is painted. Paint what should stay as it is, "
                    "or turn Invert off and paint what should change")
        elif markup_mode:
            what = "Draw on the picture first"
        else:
            what = "Mark the part to change (paint, upload or ask for a mask) first"
        problems.append(Problem("mask", f"{what}."))
    est = estimate(spec)

    with canvas_area:
        if image is not None and overlay is not None and not markup_mode:
            # a thumbnail, not a second full-size copy of the picture under the canvas
            st.image(mask_canvas.mask_overlay(image, overlay),
                     caption=f"Mask preview: {fraction:.0%} of the picture will be repainted (tinted)", width=180)
    shown = [p for p in problems if p.param not in ("prompt", "image", "mask") or prompt or inverted_blank]
    bar.show_estimate(est, shown, what=f"{spec.n} × {spec.size} · {spec.quality} · " +
                      (f"{fraction:.0%} of the picture to edit" if overlay is not None else "nothing masked yet"))
    with action:
        results.show_problems(shown)
        # nothing marked yet (the canvas says when a stroke is drawn): nothing to send
        clicked = _edit_button(disabled=bool(shown) or overlay is None)
        if image is not None and overlay is None and not any(p.param == "mask" for p in shown):
            st.caption("Mark the part to change first: the button wakes up then.")
        live = st.empty()

    if clicked:
        if overlay is not None and not problems:
            store.add_input(overlay.data, "png", overlay.width, overlay.height,
                            "markup.png" if markup_mode else "mask.png")
        kept = (keep_exact.postprocess(image.data, overlay.data, feather) if image and overlay and not markup_mode
                else None)
        runs.submit(spec, problems, "edit", page="mask_edit", est=est, live=live,
                   parents=[image.hash] if image else None,
                   postprocess=kept)

    with output, st.container(key="narrow_results"):  # one picture a row, as wide as the column, beside the canvas
        runs.sending_place(state.MASK_BUTTON, state.MASK_PROMPT)
        runs.show_runs("mask_edit", key="mask", shown_key=state.MASK_SHOWN,
                      empty_text="Pick a picture, paint over what should change and describe the result.",
                      icon=":material/brush:", columns=1)


show_page_with_first_view("Mask edit", render)
