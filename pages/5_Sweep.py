"""Sweep: one prompt template over lists of values and option axes, run concurrently.

A session's first view draws the template alone; the rest follows once it is on screen (first_view.py).
"""

import streamlit as st

from components import connection, options, people, runs, shortcuts, sidebar, spending, state, untrusted
from components.frame import Sidebar, show_page_with_first_view
from imagelab.catalog import offered_models
from imagelab.costs import batch_price, format_dollars
from imagelab.runs.batches import COMPLETION_WINDOW_WORDS
from imagelab.runs.engine import BatchNotSent, NotAllSent
from imagelab.runs.sweeps import Sweep, load_presets, submit_sweep, template_variables
from imagelab.specs import GenerateSpec
from imagelab.store import StorageError

PRESETS = {p.name: p for p in load_presets()}


def apply_preset() -> None:
    """Fill the template, values and axes from the chosen preset (runs before the widgets are drawn)."""
    preset = PRESETS.get(st.session_state.get(state.SWEEP_PRESET) or "")
    if preset is None:
        return
    st.session_state[state.SWEEP_TEMPLATE] = preset.template
    for name, values in preset.values.items():
        st.session_state[state.sweep_values(name)] = "\n".join(values)
    for axis in ("quality", "size", "model"):
        st.session_state[state.sweep_axis(axis)] = list(preset.axes.get(axis, []))


def render(bar: Sidebar, brief: bool) -> None:
    store = connection.require_history()
    st.title("Sweep")
    st.caption("Write a prompt with `{variables}`, give each a list of values, add option axes, and run every "
               "combination at once. Each request is priced before anything is sent.")

    # The results grid gets the wider column, so each picture is large enough to judge.
    form, output = st.columns([4, 7], gap="large")
    with form:
        preset = st.container()
        template = st.text_area("Prompt template", key=state.SWEEP_TEMPLATE, height=120,
                                placeholder="Photo of a {item} on a white backdrop")
        if brief:  # the same template in the same place: what is typed meanwhile stays
            bar.hold_estimate()
            return
        with preset:
            st.selectbox("Start from a preset", list(PRESETS), index=None, key=state.SWEEP_PRESET,
                         on_change=apply_preset, placeholder="The image guide's gallery prompts…")
        variables = template_variables(template)
        values: dict[str, list[str]] = {}
        for name in variables:
            raw = st.text_area(f"Values for {{{name}}}, one per line", key=state.sweep_values(name), height=100)
            values[name] = [v.strip() for v in raw.splitlines() if v.strip()]
        info = options.model_picker(state.SWEEP_MODEL)
        st.markdown("**Option axes** — every value is combined with every prompt")
        # one axis a row: in half the column, the chosen values' chips were cut off
        axes = {
            "quality": st.multiselect("Quality", list(info.qualities), key=state.sweep_axis("quality"),
                                      placeholder="Choose qualities"),
            "size": st.multiselect("Size", list(info.sizes), key=state.sweep_axis("size"), placeholder="Choose sizes"),
            "model": st.multiselect("Model", offered_models(), key=state.sweep_axis("model"),
                                    placeholder="Choose models"),
        }
        axes = {k: v for k, v in axes.items() if v}
        with st.expander("Options for every request"):
            base_values = options.output_options(info, state.SWEEP_OPTS, allow_stream=False, columns=3)
        as_batch = st.toggle("Send as a batch (half price, within 24 h)", key=state.SWEEP_AS_BATCH,
                             help="The requests are uploaded as a file and the API works through them when it can; "
                                  "progress shows here and in the sidebar, across reloads and restarts.")
        threshold = st.number_input("Ask before spending more than ($)", 0.0, 1000.0, 1.0, step=0.5,
                                    key=state.SWEEP_THRESHOLD)

    base = GenerateSpec(prompt=template, model=info.name, **base_values)
    sweep = Sweep(template, values, axes, base)
    problems = sweep.problems() if template.strip() else []
    plan = sweep.plan() if template.strip() and not problems else None
    if plan is not None:
        approx = "≈ " if plan.approximate else ""
        bar.show_estimate(None)
        with bar.estimate_slot.container():
            st.markdown("**Estimate of this sweep**")
            st.metric("Estimated cost", f"{approx}{format_dollars(plan.total_estimate_dollars)}")
            st.caption(f"{plan.request_count} request(s) · {plan.image_count} image(s)")
            st.caption(f"Now: {approx}{format_dollars(plan.total_estimate_dollars)} · as a batch: ≈ "
                       f"{format_dollars(batch_price(plan.total_estimate_dollars)[0])} ({COMPLETION_WINDOW_WORDS})")
            spending.show(batch_price(plan.total_estimate_dollars)[0] if as_batch else plan.total_estimate_dollars)
    else:
        bar.show_estimate(None)

    with form:
        for p in problems:
            untrusted.say(p, kind="warning", icon=":material/tune:")
        confirmed = True
        if plan is not None:
            # Money is spent only on a billed connection; the offline backend's runs are free.
            billed = sidebar.ready() and not connection.current_connection().offline
            price = f"{'≈ ' if plan.approximate else ''}{format_dollars(plan.total_estimate_dollars)}"
            batch = (f"≈ {format_dollars(batch_price(plan.total_estimate_dollars)[0])} as a batch "
                     f"({COMPLETION_WINDOW_WORDS})")
            st.info(f"{plan.request_count} request(s), {plan.image_count} image(s), estimated {price} in all now, or "
                    f"{batch}." if billed else f"{plan.request_count} request(s), {plan.image_count} image(s): $0 on "
                    f"the offline backend; on OpenAI it would cost {price} now, or {batch}.",
                    icon=":material/calculate:")
            if plan.needs_confirmation(threshold, billed=billed):
                about = format_dollars(plan.total_estimate_dollars)
                confirmed = st.checkbox(f"Yes, spend about {about} on this sweep", key=state.SWEEP_CONFIRM)
        clicked = st.button("Run the sweep", type="primary", key=state.SWEEP_BUTTON, icon=":material/grid_view:",
                            width="stretch",
                            shortcut=shortcuts.PRIMARY, disabled=plan is None or not confirmed)

    with output:
        live = st.empty()

    if clicked and plan is not None and confirmed:
        if not sidebar.ready():
            live.error("Finish setting up the connection in the sidebar first.", icon=":material/link_off:")
        else:
            conn = connection.current_connection()
            try:
                if as_batch:
                    group = connection.get_engine().submit_batch([(item.spec, item.label) for item in plan.items],
                                                                 conn, budget=spending.guard(),
                                                                 owner=people.current())
                    run_ids = [r.id for r in store.runs(len(plan.items), group_id=group)]
                else:
                    group, run_ids = submit_sweep(connection.get_engine(), plan.items, conn,
                                                  budget=spending.guard(), moderate=spending.moderation_on(),
                                                  owner=people.current())
            except NotAllSent as exc:  # the first requests went; the page follows them
                group, run_ids = exc.group, exc.run_ids
                live.warning(exc.sentence, icon=":material/database:")
            except StorageError as exc:  # a history that cannot take the rows: nothing is asked of the API
                group, run_ids = None, []
                live.error(exc.sentence if isinstance(exc, BatchNotSent) else f"Nothing was sent. {exc.sentence}",
                           icon=":material/folder_off:")
            if group is not None:
                spending.note_session_runs(run_ids)
                st.session_state[state.SWEEP_GROUP] = group

    latest = store.runs(1, page="sweep", owner=people.subject())
    shown = st.session_state.get(state.SWEEP_GROUP) or (latest[0].group_id if latest else None)
    with output:
        if plan is not None:
            with st.container(border=True, key="sweep_plan"):
                st.markdown("**The plan**")
                untrusted.show_text(plan.describe(), quiet=True)
        if shown:
            runs.show_sweep(shown)
        elif plan is None:
            st.info("Pick a preset or write a template to see how many requests it makes and what they cost.",
                    icon=":material/grid_view:")


show_page_with_first_view("Sweep", render)
