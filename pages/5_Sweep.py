"""Sweep: one prompt template over lists of values and option axes, run concurrently."""

import queue
import threading

import streamlit as st

from components import connection, options, results, sidebar, state
from imagelab.catalog import current_models, model_info
from imagelab.client import Failed, PartialImage, generate
from imagelab.costs import format_dollars
from imagelab.runner import RunResult, Saved
from imagelab.specs import GenerateSpec
from imagelab.text import literal
from imagelab.sweeps import Sweep, load_presets, run_sweep, template_variables

st.set_page_config(page_title="Sweep · ImageLab", page_icon=":material/grid_view:", layout="wide")
bar = sidebar.draw_sidebar()
store = connection.get_store()
PRESETS = {p.name: p for p in load_presets()}


def apply_preset() -> None:
    """Fill the template, values and axes from the chosen preset (runs before the widgets are drawn)."""
    preset = PRESETS.get(st.session_state.get(state.SWEEP_PRESET))
    if preset is None:
        return
    st.session_state[state.SWEEP_TEMPLATE] = preset.template
    for name, values in preset.values.items():
        st.session_state[f"{state.SWEEP_VALUES}_{name}"] = "\n".join(values)
    for axis in ("quality", "size", "model"):
        st.session_state[f"{state.SWEEP_AXIS}_{axis}"] = list(preset.axes.get(axis, []))


st.title("Sweep")
st.caption("Write a prompt with `{variables}`, give each a list of values, add option axes, and run every "
           "combination at once. Each request is priced before anything is sent.")

form, output = st.columns([5, 6], gap="large")
with form:
    st.selectbox("Start from a preset", list(PRESETS), index=None, key=state.SWEEP_PRESET, on_change=apply_preset,
                 placeholder="The image guide's gallery prompts…")
    template = st.text_area("Prompt template", key=state.SWEEP_TEMPLATE, height=120,
                            placeholder="Photo of a {item} on a white backdrop")
    variables = template_variables(template)
    values: dict[str, list[str]] = {}
    for name in variables:
        raw = st.text_area(f"Values for {{{name}}}, one per line", key=f"{state.SWEEP_VALUES}_{name}", height=100)
        values[name] = [v.strip() for v in raw.splitlines() if v.strip()]
    info = options.model_picker(state.SWEEP_MODEL)
    st.markdown("**Option axes** — every value is combined with every prompt")
    a1, a2, a3 = st.columns(3)
    axes = {
        "quality": a1.multiselect("Quality", list(info.qualities), key=f"{state.SWEEP_AXIS}_quality"),
        "size": a2.multiselect("Size", list(info.sizes), key=f"{state.SWEEP_AXIS}_size"),
        "model": a3.multiselect("Model", current_models(), key=f"{state.SWEEP_AXIS}_model"),
    }
    axes = {k: v for k, v in axes.items() if v}
    with st.expander("Options for every request"):
        base_values = options.output_options(info, state.SWEEP_OPTS, allow_stream=False, columns=3)
    c1, c2 = st.columns(2)
    workers = c1.slider("Requests at once", 1, 8, 4, key=state.SWEEP_WORKERS,
                        help="A bounded pool: at most this many requests run at the same time.")
    threshold = c2.number_input("Ask before spending more than ($)", 0.0, 1000.0, 1.0, step=0.5,
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
else:
    bar.show_estimate(None)

with form:
    for p in problems:
        st.warning(p, icon=":material/tune:")
    confirmed = True
    if plan is not None:
        st.info(f"{plan.request_count} request(s), {plan.image_count} image(s), estimated "
                f"{'≈ ' if plan.approximate else ''}{format_dollars(plan.total_estimate_dollars)} in all.",
                icon=":material/calculate:")
        if plan.needs_confirmation(threshold):
            confirmed = st.checkbox(f"Yes, spend about {format_dollars(plan.total_estimate_dollars)} on this sweep",
                                    key=state.SWEEP_CONFIRM)
    clicked = st.button("Run the sweep", type="primary", key=state.SWEEP_BUTTON, icon=":material/grid_view:",
                        width="stretch", disabled=plan is None or not confirmed)

with output:
    live = st.empty()

if clicked and plan is not None and confirmed:
    if not sidebar.ready():
        live.error("Finish setting up the connection in the sidebar first.", icon=":material/link_off:")
    else:
        conn = connection.current_connection()
        client = connection.client_for(conn)
        events: queue.Queue = queue.Queue()
        outcome: list = []
        worker = threading.Thread(
            target=lambda: outcome.extend(run_sweep(plan.items, lambda spec: generate(client, spec), store,
                                                    backend=conn.label, workers=workers,
                                                    on_event=lambda i, ev: events.put((i, ev)))),
            daemon=True)
        worker.start()
        with live.container():
            progress = st.progress(0.0, text=f"0 of {plan.request_count} finished")
            cols = st.columns(4)
            slots = [cols[i % 4].empty() for i in range(len(plan.items))]
            for i, item in enumerate(plan.items):
                slots[i].caption(f"{item.label} · waiting")
            done = 0
            # Worker threads report through the queue; only this script thread touches the page.
            while worker.is_alive() or not events.empty():
                try:
                    i, ev = events.get(timeout=0.1)
                except queue.Empty:
                    continue
                label = plan.items[i].label
                if isinstance(ev, PartialImage):
                    slots[i].image(ev.data, caption=f"{label} · preview", width="stretch")
                elif isinstance(ev, Saved):
                    slots[i].image(results.preview(ev.record.hash, ev.record.format), caption=label, width="stretch")
                elif isinstance(ev, Failed):
                    slots[i].caption(f"{label} · {ev.error.sentence}")
                elif isinstance(ev, RunResult):
                    done += 1
                    progress.progress(done / len(plan.items), text=f"{done} of {plan.request_count} finished")
            worker.join()
        finished = [(item.label, result) for item, result in zip(plan.items, outcome)]
        st.session_state[state.SWEEP_RESULTS] = finished
        for _, result in finished:
            if result.run_id:
                sidebar.record_run(result)
        live.empty()

finished = st.session_state.get(state.SWEEP_RESULTS) or []
with output:
    if finished:
        ok = sum(1 for _, r in finished if r.images)
        spent = sum(r.cost.dollars for _, r in finished if r.cost)
        st.markdown(f"**Last sweep** · {ok} of {len(finished)} request(s) made pictures · {format_dollars(spent)}")
        cols = st.columns(3)
        for i, (label, result) in enumerate(finished):
            with cols[i % 3]:
                with st.container(border=True):
                    st.caption(f"**{literal(label)}**")
                    for err in result.errors:
                        results.show_error(err)
                    for rec in result.images:
                        st.image(results.preview(rec.hash, rec.format), width="stretch")
                    if result.cost is not None:
                        st.caption(f"{result.cost.total_tokens:,} tokens · {format_dollars(result.cost.dollars)}")
    elif not clicked:
        st.info("Pick a preset or write a template to see how many requests it makes and what they cost.",
                icon=":material/grid_view:")

bar.finish()
