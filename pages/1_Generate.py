"""Generate: text to image with every option the chosen model accepts."""

import streamlit as st

from components import connection, options, results, sidebar, state
from imagelab.client import FinalImage, Failed, PartialImage, generate, make_client
from imagelab.costs import estimate
from imagelab.runner import RunResult, Saved, execute
from imagelab.specs import GenerateSpec

st.set_page_config(page_title="Generate · ImageLab", page_icon=":material/palette:", layout="wide")
bar = sidebar.draw_sidebar()

st.title("Generate")
st.caption("Describe a picture; ImageLab sends it with exactly the options the chosen model accepts.")

form, output = st.columns([5, 6], gap="large")
with form:
    prompt = st.text_area("Prompt", key=state.GEN_PROMPT, height=130,
                          placeholder="A red fox curled up in fresh snow at dawn, soft light, shallow depth of field")
    st.caption(f"{len(prompt):,} / 32,000 characters")
    info = options.model_picker(state.GEN_MODEL)
    values = options.output_options(info, state.GEN_OPTS, columns=3)
spec = GenerateSpec(prompt=prompt, model=info.name, **values)
problems = spec.problems()
est = estimate(spec)
bar.show_estimate(est, problems, what=f"{spec.n} × {spec.size} · {spec.quality} · {spec.model}")

# An empty prompt before anything is typed is not worth a warning; every other problem is.
shown = [p for p in problems if not (p.param == "prompt" and not prompt)]
with form:
    for p in shown:
        st.warning(p.message, icon=":material/tune:")
    clicked = st.button("Generate", type="primary", key=state.GEN_BUTTON, icon=":material/auto_awesome:",
                        width="stretch")
with output:
    live = st.empty()

if clicked:
    if problems:
        for p in problems:
            live.error(p.message, icon=":material/error:")
    elif not sidebar.ready():
        live.error("Finish setting up the connection in the sidebar first.", icon=":material/link_off:")
    else:
        conn = connection.current_connection()
        client = make_client(conn)
        store = connection.get_store()
        with live.container():
            with st.status(f"Generating {spec.n} image(s) with {spec.model}…", expanded=True) as status:
                cols = st.columns(min(spec.n, 2))
                slots = [cols[i % len(cols)].empty() for i in range(spec.n)]
                result: RunResult | None = None
                for ev in execute(lambda: generate(client, spec), spec, store, page="generate",
                                  backend=conn.label, est=est):
                    if isinstance(ev, PartialImage) and ev.image_index < len(slots):
                        slots[ev.image_index].image(ev.data, caption=f"Preview {ev.partial_index + 1}",
                                                    width="stretch")
                    elif isinstance(ev, Saved) and ev.record.index < len(slots):
                        slots[ev.record.index].image(results.preview(ev.record.hash, ev.record.format),
                                                     caption="Saved", width="stretch")
                    elif isinstance(ev, Failed):
                        st.caption(ev.error.sentence)
                    elif isinstance(ev, RunResult):
                        result = ev
                state_label = {"ok": "complete", "partial": "error", "failed": "error"}
                if result is not None:
                    status.update(label=f"Run {result.status}: {len(result.images)} of {spec.n} image(s) saved",
                                  state=state_label[result.status], expanded=False)
        if result is not None:
            st.session_state.setdefault(state.GEN_RESULTS, []).insert(0, result)
            sidebar.record_run(result)
        live.empty()

history = st.session_state.get(state.GEN_RESULTS, [])
with output:
    if history:
        results.show_runs(history, key="gen", shown_key=state.GEN_SHOWN)
    elif not clicked:
        st.info("Your pictures appear here, newest first, and are kept in the Gallery.", icon=":material/image:")

bar.finish()
