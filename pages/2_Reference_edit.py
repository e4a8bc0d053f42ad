"""Reference edit: a new image from up to 16 input images and a prompt.

The prompt and the button lead the form, so the newest result (top of the results column) is
beside the button, not a screen away from it; the inputs and options follow. A session's first view
draws the prompt and button alone; the rest follows once they are on screen (first_view.py).
"""

import streamlit as st

from components import connection, image_inputs, options, results, runs, shortcuts, state
from components.frame import Sidebar, show_page_with_first_view
from imagelab.costs import estimate
from imagelab.specs import EditSpec


def _make_button(*, disabled: bool) -> bool:
    return st.button("Make image", type="primary", key=state.REF_BUTTON, icon=":material/auto_awesome:",
                     width="stretch", disabled=disabled, shortcut=shortcuts.PRIMARY)


def render(bar: Sidebar, brief: bool) -> None:
    st.title("Reference edit", help="Combine up to 16 pictures into a new one: a product on a new backdrop, a "
                                    "character in a new scene, a gift basket of the items shown.")

    store = connection.require_history()
    options.show_load_notes()
    form, output = st.columns([5, 6], gap="large")
    with form:
        prompt = st.text_area("Prompt", key=state.REF_PROMPT, height=90,
                              placeholder="Put the items from these pictures into a gift basket labelled "
                                          "'Relax & Unwind'")
        action = st.container()
        if brief:  # the same prompt and button in the same places: what is typed meanwhile stays
            with action:
                _make_button(disabled=False)
            bar.hold_estimate()
            return
        info = options.model_picker(state.REF_MODEL)
        limit = min(16, info.max_input_images) or 16
        images = image_inputs.image_inputs(state.REF, store, limit=limit)
        fidelity = options.fidelity_picker(info, state.REF_FIDELITY)
        values = options.output_options(info, state.REF_OPTS, columns=3)

    spec = EditSpec(prompt=prompt, model=info.name, images=tuple(images), input_fidelity=fidelity, **values)
    problems = spec.problems()
    est = estimate(spec)

    shown = [p for p in problems if not (p.param in ("prompt", "image") and not prompt and not images)]
    bar.show_estimate(est, shown, what=f"{len(images)} input(s) → {spec.n} × {spec.size} · {spec.quality}")
    with action:
        results.show_problems(shown)
        clicked = _make_button(disabled=bool(shown))
        live = st.empty()

    if clicked:
        runs.submit(spec, problems, "edit", page="reference_edit", est=est, live=live,
                   parents=[img.hash for img in images])

    with output:
        runs.sending_place(state.REF_BUTTON, state.REF_PROMPT)
        runs.show_runs("reference_edit", key="ref", shown_key=state.REF_SHOWN,
                      empty_text="Add images and describe what to make of them. Results appear here and in the "
                                        "Gallery.", icon=":material/image:")


show_page_with_first_view("Reference edit", render)
