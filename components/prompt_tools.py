"""Generate's prompt tools, in one expander under the prompt: improve it, describe a picture, the prompt library.

"Improve my prompt" and "Describe this picture" are requests for words (``imagelab.prompts``):
they are submitted to the run engine like every request, so they finish whatever the person does
next, and their words are kept in the run (``RunRecord.reply``). A rewrite is only ever shown
beside the original with the words it inserts and deletes marked; it reaches the prompt only
when the person accepts it (after editing it, if they like). The library saves prompts with a
title and tags in the store and ships the image guide's gallery prompts (``imagelab.library``).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import streamlit as st

from imagelab.catalog import catalog
from imagelab.inputs import InputRefused, input_from_store
from imagelab.library import TITLE_CHARS, LibraryPrompt, all_tags, parse_tags, search, shipped_prompts
from imagelab.prompts import DESCRIBE, REWRITE, PromptRequest, word_diff
from imagelab.runs.kinds import kind_of
from imagelab.runs.status import STATUS_WORDS
from imagelab.store import RunRecord, StorageError
from imagelab.text import shorten

from . import connection, image_inputs, people, runs, state, untrusted

LIBRARY_SHOWN = 12

_DIFF_CSS = ("<style>.il-diff{line-height:1.9;font-size:0.95rem}"
             ".il-diff del{background:rgba(220,38,38,.16);color:#b91c1c;text-decoration:line-through;"
             "padding:1px 2px;border-radius:3px}"
             ".il-diff ins{background:rgba(22,163,74,.18);color:#166534;text-decoration:none;"
             "padding:1px 2px;border-radius:3px}</style>")


def diff_html(original: str, rewrite: str) -> str:
    """The rewrite against the original as HTML: deletions struck through in red, insertions in green.

    Every word is escaped, so a prompt (or a server's answer) is shown exactly as written."""
    spans = []
    for part in word_diff(original, rewrite):
        text = html.escape(part.text)
        spans.append(f"<del>{text}</del>" if part.op == "delete" else f"<ins>{text}</ins>"
                     if part.op == "insert" else f"<span>{text}</span>")
    return _DIFF_CSS + '<div class="il-diff">' + " ".join(spans) + "</div>"


def _put_in_prompt(prompt_key: str, text: str, *, append: bool = False) -> None:
    """A button's callback: runs before the page is drawn, so the prompt box shows the new text."""
    current = str(st.session_state.get(prompt_key, "") or "")
    st.session_state[prompt_key] = (current.rstrip() + "\n\n" + text) if append and current.strip() else text
    st.session_state[_SHOW_PROMPT] = prompt_key  # the prompt may be far above the button: bring it into view


_SHOW_PROMPT = "prompt_tools_show_prompt"


def _show_prompt() -> None:
    """Once after text was put in the prompt: scroll the prompt box into view (when it is not) and focus it."""
    prompt_key = st.session_state.pop(_SHOW_PROMPT, None)
    if not prompt_key:
        return
    st.html(f"""<script>(() => {{ let tries = 0; const go = () => {{
      const area = document.querySelector('.st-key-{prompt_key} textarea');
      if (!area) {{ if (++tries < 50) setTimeout(go, 100); return; }}
      const box = area.getBoundingClientRect();
      area.style.scrollMarginTop = '5rem';  // clear of the app's header
      if (box.top < 60 || box.bottom > window.innerHeight) area.scrollIntoView({{block: 'nearest'}});
      area.focus({{preventScroll: true}});
      }}; setTimeout(go, 50); }})();</script>""", unsafe_allow_javascript=True)


def _words_model() -> str:
    models = catalog().responses_models
    if st.session_state.get(state.WORDS_MODEL) not in models:
        st.session_state[state.WORDS_MODEL] = catalog().default_responses_model
    return str(st.selectbox("Text model", models, key=state.WORDS_MODEL,
                            help="The model that writes prompts: it reads pictures to describe them."))


def _submit(spec: PromptRequest, run_key: str, live: object) -> None:
    run_id = runs.submit(spec, spec.problems(), kind_of(spec), page=spec.kind, est=spec.estimate(), live=live)
    if run_id is not None:
        st.session_state[run_key] = run_id


def _last_run(run_key: str, page: str) -> RunRecord | None:
    """This session's last request of a kind, or — after a reload — the last one in the history."""
    store = connection.get_store()
    run_id = st.session_state.get(run_key)
    try:
        if run_id is not None:
            return store.run(int(run_id))
        latest = store.runs(1, page=page, owner=people.subject())
    except (KeyError, StorageError):
        return None
    return latest[0] if latest else None


def _waiting(run_id: int) -> None:
    job = connection.get_engine().job(run_id)
    if job is None:
        return
    head, button = st.columns([4, 1], vertical_alignment="center")
    head.caption(f":material/hourglass_top: {STATUS_WORDS[job.status].capitalize()} with "
                 f"{untrusted.theirs(job.model)} · {job.elapsed:.0f} s")
    if job.active:
        button.button("Cancel", key=f"btn_words_cancel_{run_id}", on_click=runs.cancel, args=(run_id,),
                      icon=":material/stop_circle:", width="stretch")


def _going(run_id: int) -> bool:
    job = connection.get_engine().job(run_id)
    return job is not None and job.active


def _show_run(record: RunRecord | None, show_words: Callable[[RunRecord, str], None]) -> None:
    """A request for words: waiting (polled only while it runs), its failure, or its words."""
    if record is None:
        return
    job = connection.get_engine().job(record.id)
    if job is not None and job.active:
        runs.live_part(f"words_{record.id}", lambda: _waiting(record.id), lambda: _going(record.id),
                       every=runs.POLL_SECONDS * 5)
        return
    if record.active:  # recorded as running, but no worker has it: a restart will mark it interrupted
        return
    if record.reply:
        show_words(record, record.reply)
    elif record.error:
        untrusted.say(record.error, icon=":material/error:")


# --- improve ----------------------------------------------------------------------------------

def _close(run_id: int) -> None:
    st.session_state.setdefault(state.IMPROVE_DONE, set()).add(run_id)


def _accept(prompt_key: str, run_id: int) -> None:
    _put_in_prompt(prompt_key, str(st.session_state.get(state.IMPROVE_EDIT, "")))
    _close(run_id)


def _show_rewrite(record: RunRecord, rewrite: str, prompt_key: str) -> None:
    if record.id in st.session_state.get(state.IMPROVE_DONE, set()):
        return
    original = str(record.params.get("prompt", ""))
    with st.container(border=True, key="improve_result"):
        st.caption("Suggested rewrite: struck-through words would go, highlighted words would be added. "
                   "Your prompt is unchanged until you accept.")
        st.html(diff_html(original, rewrite))
        if st.session_state.get(state.item(state.IMPROVE_EDIT, "of")) != record.id:
            st.session_state[state.IMPROVE_EDIT] = rewrite
            st.session_state[state.item(state.IMPROVE_EDIT, "of")] = record.id
        st.text_area("Rewrite (edit before accepting if you like)", key=state.IMPROVE_EDIT, height=110)
        yes, no = st.columns(2)
        yes.button("Accept", key="btn_improve_accept", type="primary", icon=":material/check:", width="stretch",
                   on_click=_accept, args=(prompt_key, record.id), help="Put this text into the prompt.")
        no.button("Reject", key="btn_improve_reject", icon=":material/close:", width="stretch",
                  on_click=_close, args=(record.id,), help="Keep your prompt as it is.")


def _improve(prompt: str, prompt_key: str, model: str) -> None:
    live = st.empty()
    if st.button("Improve my prompt", key="btn_improve", icon=":material/auto_fix_high:",
                 help="A text model suggests a clearer prompt; you see every change before anything is replaced."):
        _submit(PromptRequest(kind=REWRITE, prompt=prompt, model=model), state.IMPROVE_RUN, live)
    _show_run(_last_run(state.IMPROVE_RUN, REWRITE), lambda rec, text: _show_rewrite(rec, text, prompt_key))


# --- describe ---------------------------------------------------------------------------------

def _show_description(record: RunRecord, text: str, prompt_key: str) -> None:
    with st.container(border=True, key="describe_result"):
        st.caption("A prompt that would recreate the picture:")
        untrusted.show_text(text)
        a, b = st.columns(2)
        a.button("Open in Generate", key=f"btn_describe_use_{record.id}", type="primary",
                 icon=":material/edit_note:", on_click=_put_in_prompt, args=(prompt_key, text), width="stretch",
                 help="Replace the prompt above with this description.")
        b.button("Add to the prompt", key=f"btn_describe_add_{record.id}", icon=":material/add:",
                 on_click=_put_in_prompt, args=(prompt_key, text), kwargs={"append": True}, width="stretch")


def _describe(prompt_key: str, model: str) -> None:
    store = connection.get_store()
    images = image_inputs.image_inputs(state.DESCRIBE, store, limit=1, single=True)
    live = st.empty()
    if st.button("Describe this picture", key="btn_describe", icon=":material/image_search:", disabled=not images,
                 help="A vision model writes a prompt that would recreate the picture."):
        _submit(PromptRequest(kind=DESCRIBE, image=images[0], model=model), state.DESCRIBE_RUN, live)
    _show_run(_last_run(state.DESCRIBE_RUN, DESCRIBE), lambda rec, text: _show_description(rec, text, prompt_key))


# --- describe a result, under it ------------------------------------------------------------

def describe_picture(digest: str, run_key: str, live: Any) -> None:
    """Send a stored picture (a result's still) to be described; ``run_key`` keeps the run's id for
    ``show_description`` under the picture."""
    model = st.session_state.get(state.WORDS_MODEL)
    if model not in catalog().responses_models:
        model = catalog().default_responses_model
    try:
        image = input_from_store(connection.get_store(), digest)
    except InputRefused as exc:
        live.error(exc.sentence, icon=":material/error:")
        return
    except (KeyError, StorageError, ValueError):
        live.error("This picture could not be read to describe it; its file may be damaged.", icon=":material/error:")
        return
    _submit(PromptRequest(kind=DESCRIBE, image=image, model=str(model)), run_key, live)


def show_description(run_key: str) -> None:
    """A result's description: its wait (with Cancel) while it is written, its failure, or its words."""
    if run_key in st.session_state:
        _show_run(_last_run(run_key, DESCRIBE), _show_picture_words)


def _show_picture_words(record: RunRecord, text: str) -> None:
    with st.container(key=f"description_{record.id}", gap="small"):
        st.caption(":material/image_search: A prompt that would recreate this picture:")
        untrusted.show_text(text)  # shown exactly as the model wrote it


# --- library ----------------------------------------------------------------------------------

def _save(prompt: str) -> None:
    title = " ".join(str(st.session_state.get(state.LIBRARY_TITLE, "")).split())[:TITLE_CHARS]
    tags = parse_tags(str(st.session_state.get(state.LIBRARY_NEW_TAGS, "")))
    try:
        connection.get_store().save_prompt(title or shorten(" ".join(prompt.split()), 60), prompt, tags,
                                           source="saved from Generate", owner=people.current())
    except StorageError as exc:
        st.session_state["library_message"] = ("error", f"The prompt was not saved. {exc.sentence}")
        return
    st.session_state["library_message"] = ("success", "Saved to the library.")
    st.session_state[state.LIBRARY_TITLE] = ""
    st.session_state[state.LIBRARY_NEW_TAGS] = ""


def _delete(prompt_id: int) -> None:
    try:
        connection.get_store().delete_prompt(prompt_id, owner=people.subject())
    except StorageError as exc:
        st.session_state["library_message"] = ("error", f"The prompt was not deleted. {exc.sentence}")


def _entry(p: LibraryPrompt, i: int, prompt_key: str) -> None:
    with st.container(border=True, key=f"library_entry_{i}"):
        title, use = st.columns([3, 2], vertical_alignment="center")  # room for "Insert" whole at 1280 wide
        title.markdown(" · ".join([f"**{untrusted.theirs(p.title)}**", *(untrusted.theirs(t) for t in p.tags)]))
        use.button("Insert", key=f"btn_library_use_{i}", icon=":material/input:", width="stretch",
                   on_click=_put_in_prompt, args=(prompt_key, p.text), kwargs={"append": True},
                   help="Add this prompt to the end of yours (or use it, if yours is empty).")
        untrusted.show_text(shorten(p.text, 400), quiet=True)
        small = [p.source] if p.source else []
        if p.note:
            small.append(p.note)
        if p.size or p.quality:
            small.append(" · ".join(x for x in (p.size, p.quality) if x))
        if small:
            untrusted.show_text(" — ".join(small), quiet=True)
        if p.id is not None:
            st.button("Delete", key=f"btn_library_delete_{p.id}", icon=":material/delete:", on_click=_delete,
                      args=(p.id,))


def _library(prompt: str, prompt_key: str) -> None:
    message = st.session_state.pop("library_message", None)
    if message:
        untrusted.say(message[1], kind="success" if message[0] == "success" else "error")
    with st.popover("Save this prompt", icon=":material/bookmark_add:", disabled=not prompt.strip()):
        st.text_input("Title", key=state.LIBRARY_TITLE, max_chars=TITLE_CHARS, placeholder="Kyoto travel poster")
        st.text_input("Tags", key=state.LIBRARY_NEW_TAGS, placeholder="poster, travel")
        st.button("Save", key="btn_library_save", type="primary", on_click=_save, args=(prompt,),
                  icon=":material/save:")
    try:
        saved = connection.get_store().saved_prompts(owner=people.subject())
    except StorageError as exc:
        untrusted.say(f"Your saved prompts cannot be read. {exc.sentence}", kind="warning")
        saved = []
    everything = saved + list(shipped_prompts())
    query_col, tags_col = st.columns([3, 2])
    query = query_col.text_input("Search the library", key=state.LIBRARY_QUERY, placeholder="poster, fox, neon…")
    tags = tags_col.multiselect("Tags", all_tags(everything), key=state.LIBRARY_TAGS)
    found = search(everything, query, tags)
    st.caption(f"{len(found)} of {len(everything)} prompt(s) · {len(saved)} saved by you, "
               f"{len(everything) - len(saved)} from OpenAI's image guide")
    for i, p in enumerate(found[:LIBRARY_SHOWN]):
        _entry(p, i, prompt_key)
    if len(found) > LIBRARY_SHOWN:
        st.caption(f"{len(found) - LIBRARY_SHOWN} more; narrow the search to see them.")


def prompt_tools(prompt: str, prompt_key: str) -> None:
    """The expander under Generate's prompt; opens on Describe when a picture was handed over."""
    handed = bool(st.session_state.get(state.handoff_key(state.DESCRIBE)))
    if handed:
        st.session_state[state.PROMPT_TOOLS] = True
    tools = st.expander("Prompt tools: improve · describe a picture · library", icon=":material/handyman:",
                        key=state.PROMPT_TOOLS, on_change="rerun")
    if not tools.open:  # drawn only when open: a closed expander costs nothing (and hides no pictures)
        return
    _show_prompt()
    with tools:
        model = _words_model()
        improve, describe, library = st.tabs([":material/auto_fix_high: Improve", ":material/image_search: Describe",
                                              ":material/bookmarks: Library"],
                                             default=":material/image_search: Describe" if handed else None)
        with improve:
            _improve(prompt, prompt_key, model)
        with describe:
            _describe(prompt_key, model)
        with library:
            _library(prompt, prompt_key)
