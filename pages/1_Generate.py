"""Generate: text to image with every option the chosen model accepts.

The prompt and the Generate button sit at the top of the form, the newest result at the top of the
results column beside them: both in view at once on a laptop screen, before and after a run. A session's
first view draws the prompt and button alone; the rest follows once they are on screen (first_view.py).
"""

from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import compare_models, first_view, options, prompt_tools, results, runs, shortcuts, state
from components.connection import says_history_faults
from components.frame import Sidebar, show_page_with_first_view
from imagelab.catalog import catalog
from imagelab.costs import Estimate, estimate
from imagelab.specs import GenerateSpec, Problem


def _count(prompt: str) -> str:
    return f"{len(prompt):,} / {catalog().limits['prompt_chars']:,} characters"


def _generate_button(*, disabled: bool) -> bool:
    return st.button("Generate", type="primary", key=state.GEN_BUTTON, icon=":material/auto_awesome:",
                     width="stretch", disabled=disabled, shortcut=shortcuts.PRIMARY)


@st.fragment
@says_history_faults
def request_form(bar: Sidebar, brief: bool, sent_here: DeltaGenerator) -> None:
    """The prompt and its options: typing or changing an option reruns only this part. The button is a part of
    its own inside it (``send_part``), drawn last, so that a click reruns only the button and what it sent."""
    options.remember_widget_values(*state.KEPT_PREFIXES)  # what this part's own reruns took in is kept, too
    prompt = st.text_area("Prompt", key=state.GEN_PROMPT, height=110,
                          placeholder="A red fox curled up in fresh snow at dawn, soft light, shallow depth of field")
    counter = st.empty()
    with st.container():
        # the same places in the brief view and in full: the button's part is the same part in both
        above = st.container()  # the problems (the brief view's button)
        button_place = st.container()
        said = st.empty()  # the fan-out's refusal: a fragment's rerun cannot write outside it
    tools = st.container()  # drawn once the request has left
    # a brief first view draws the options once prompt and button are shown (a keystroke or click: in full)
    if first_view.still_brief(brief):
        bar.hold_estimate()  # the estimate is the form's to draw; the spending, its part's
        counter.caption(_count(prompt))
        with above:
            _generate_button(disabled=False)  # a click reruns this form, drawn in full, and its part sends
        with button_place:
            send_part(bar, None, sent_here)  # nothing to send yet: it keeps its places outside the form
        return
    info = options.model_picker(state.GEN_MODEL)
    values = options.output_options(info, state.GEN_OPTS, columns=3)
    spec = GenerateSpec(prompt=prompt, model=info.name, **values)
    problems = spec.problems()
    est = estimate(spec)
    # An empty prompt before anything is typed is not worth a warning; every other problem is, once, and
    # stops the button until it is fixed.
    shown = [p for p in problems if not (p.param == "prompt" and not prompt)]
    counter.caption(_count(prompt))
    with above:
        results.show_problems(shown)
    with tools:
        prompt_tools.prompt_tools(prompt, state.GEN_PROMPT)
    # after the options: the form's top stays prompt, button, result
    fanout_clicked, fanout = compare_models.form(spec)
    if fanout_clicked:
        before = st.session_state.get(state.GEN_FANOUT_GROUP)
        compare_models.send(fanout, live=said)
        if st.session_state.get(state.GEN_FANOUT_GROUP) != before:
            st.rerun()  # the models side by side are drawn by the page
    # the form's to draw: it changes only with the form, so a click does not draw it again
    bar.show_estimate(est, shown, what=f"{spec.n} × {spec.size} · {spec.quality} · {spec.model}",
                      with_spending=False)
    with button_place:
        send_part(bar, Request(spec, problems, est, shown), sent_here)


@dataclass(frozen=True)
class Request:
    """What the form drew, for the button's part: the request, its problems and its estimate."""
    spec: GenerateSpec
    problems: list[Problem]
    est: Estimate
    shown: list[Problem]  # the problems said to the person (not an empty prompt before anything is typed)


@st.fragment
@says_history_faults
def send_part(bar: Sidebar, request: Request | None, sent_here: DeltaGenerator) -> None:
    """The button, its refusals and Cancel; the runs it sent, in ``sent_here`` at the top of the results, as they
    go and once they have ended; and the money spent, beneath the sidebar's estimate. A click reruns only this
    part: the form around it, about 60 elements, and the estimate, which the form draws, are not drawn again. The
    request is the one the form drew last: every option, and the prompt, reruns the form when it changes, and a
    click waits for that run to end.

    The places outside the form that this part writes (the results column's, the spending's, the usage's) are
    written in every full run (Streamlit lets a part write outside itself only where it wrote in the page's last
    full run): ``request`` is ``None`` in the brief first view, which keeps them."""
    sent = runs.SentCards(sent_here)
    if request is None:
        bar.hold_spending()
        bar.hold_usage()
        runs.watch_here("generate", sent, key="gen")
        return
    bar.show_spending(request.est)
    bar.hold_usage()  # where this part draws the sidebar's usage afresh when the runs it sent end
    clicked = _generate_button(disabled=bool(request.shown))
    said = st.empty()  # a refusal is said here
    stop = st.empty()  # Cancel, while the runs just sent are shown
    # the request leaves before anything else is drawn, and its card shows before the rest too
    if clicked and runs.submit(request.spec, request.problems, "generate", page="generate", est=request.est,
                               live=said) is not None:
        runs.show_sent("generate", sent)
    runs.watched_cancel("generate", stop, key="gen")

    def after_runs() -> None:  # what the runs' end changes beside them: the money spent, the last run's figures
        bar.show_spending(request.est)
        bar.show_fresh_usage()

    # The run shows in the results column from this very run, and stays there once it has ended, with its
    # actions: no redraw of the page before or after its picture.
    runs.watch_here("generate", sent, key="gen", cancel_place=stop, after=after_runs)


def render(bar: Sidebar, brief: bool) -> None:
    st.title("Generate",
             help="Describe a picture; ImageLab sends it with exactly the options the chosen model accepts.")

    options.show_load_notes()

    form, output = st.columns([5, 6], gap="large")
    # where the form's own rerun shows the runs it sent, before the page is redrawn in full
    with output:
        runs.sending_place(state.GEN_BUTTON, state.GEN_PROMPT, until_card=True)
    sent_here = output.empty()
    with form:
        request_form(bar, brief, sent_here)
    if not brief:
        with output:
            compare_models.show()
            runs.show_runs("generate", key="gen", shown_key=state.GEN_SHOWN,
                           empty_text="Your pictures appear here, newest first, and are kept in the Gallery.",
                           icon=":material/image:")


show_page_with_first_view("Generate", render)
