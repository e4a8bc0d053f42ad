"""Conversation: talk an image into shape, turn by turn, through the Responses API.

A session's first view draws the message input alone; the rest follows once it is on screen (first_view.py).
"""

import streamlit as st

from components import (
    connection,
    image_inputs,
    options,
    people,
    results,
    runs,
    shortcuts,
    sidebar,
    state,
    untrusted,
)
from components.conversation_state import NEW, OpenConversation
from components.frame import Sidebar, show_page_with_first_view
from imagelab.catalog import catalog
from imagelab.costs import estimate, money_of, money_text, window_price
from imagelab.masks import MaskError, mask_edit_fraction, mask_from_alpha_or_luma
from imagelab.runs.turns import TurnJob, branch_path, children_count, leaves, newest_leaf_under
from imagelab.specs import ACTIONS, COMPLETION_WINDOWS, InputImage, MaskInput, TurnSpec
from imagelab.store import Store, TurnRecord, content_hash
from imagelab.text import shorten

SHOWN_TURNS = 10
TURNS_BOX = "conv_turns"  # the transcript's container key, for its style and for tests
SETTINGS_BOX = "conv_settings"
ATTACHED_BOX = "conv_attached"  # the pictures the next message carries, above where it is written
MAINLINE_MODELS = catalog().responses_models
WINDOW_LABELS = {"soonest": "As soon as possible", "2h": "Within 2 hours", "8h": "Within 8 hours"}


def show_turn(store: Store, number: int, turn: TurnRecord, head_id: int | None, counts: dict[int, int]) -> None:
    """One turn: what was asked, then the reply with its picture, cost and what can be done from it."""
    with st.chat_message("user"):
        st.markdown(f"**Turn {number}**")
        untrusted.show_text(turn.prompt)
        if turn.attachments:
            cols = st.columns(min(len(turn.attachments), 6))
            for i, digest in enumerate(turn.attachments[:6]):
                with cols[i]:
                    results.show_picture(digest)
    with st.chat_message("assistant"):
        live_job = connection.get_engine().job(turn.run_id) if turn.run_id else None
        if turn.run_id is not None and live_job is not None and live_job.active:
            runs.show_turn_progress(turn.run_id)
            return
        # The picture beside what is said about it, so a whole turn fits above the input.
        picture, about = st.columns([3, 2], gap="medium") if turn.image_hash else (None, st.container())
        if picture is not None and turn.image_hash:
            with picture:
                try:
                    results.show_image(store.image_by_hash(turn.image_hash), key=state.item(state.CONV_IMAGE, turn.id))
                except KeyError:  # deleted in the Gallery; the turn still names it
                    results.show_picture(turn.image_hash)
        with about:
            if turn.note:
                untrusted.say(turn.note, kind="info", icon=":material/history:")
            untrusted.show_text(turn.reply)
            if turn.error:
                untrusted.say(turn.error, icon=":material/error:")
            cost = money_text(money_of(turn))
            tokens = (turn.usage or {}).get("total_tokens")
            st.caption(" · ".join(x for x in [f"{tokens:,} tokens" if tokens else "", cost] if x))
            if turn.revised_prompt or turn.response_id:
                with st.expander("Details"):
                    if turn.revised_prompt:
                        untrusted.show_text(turn.revised_prompt, quiet=True, lead="Revised prompt:")
                    if turn.response_id:
                        st.caption(f"Response {untrusted.theirs(turn.response_id)}")
            if st.button("Continue from here", key=state.item(state.CONV_FROM, turn.id), icon=":material/call_split:",
                         disabled=turn.id == head_id, width="stretch",
                         help="The next turn continues from this one; a new branch if later turns exist."):
                OpenConversation(st.session_state).continue_from(turn.id)
                st.rerun()
            if turn.image_call_id and st.button("Build on this image", key=state.item(state.CONV_BUILD_ON, turn.id),
                                                icon=":material/link:", width="stretch",
                                                help="Send this image's image_generation_call id with the next "
                                                     "turn."):
                OpenConversation(st.session_state).build_on(turn.image_call_id)
                st.rerun()
            if counts.get(turn.id, 0) > 1:
                st.caption(f":material/call_split: {counts[turn.id]} branches continue from this turn.")


def last_turn_of(store: Store, conv_id: int) -> int | None:
    turns = store.turns(conv_id)
    return turns[-1].id if turns else None


def show_attached(pictures: list[InputImage], *, mask: bool) -> None:
    """The pictures the next message will carry, in the conversation's own column where the person writes it (a
    picture handed over from another page lands here), with a way to take them off."""
    with st.container(border=True, key=ATTACHED_BOX):
        head, drop = st.columns([3, 1], vertical_alignment="center")
        head.markdown(f":material/attach_file: **Attached to your next message:** {len(pictures)} picture(s)"
                      + (", the first with a mask" if mask else "") + ". Write below what to make of "
                      + ("it." if len(pictures) == 1 else "them."))
        if drop.button("Remove", key="btn_conv_unattach", icon=":material/close:", width="stretch",
                       help="Send the next message without these pictures"):
            st.session_state[state.picked_images(state.CONV)] = []
            st.rerun()
        cols = st.columns(min(len(pictures), 4) if len(pictures) > 1 else [2, 3])
        for i, picture in enumerate(pictures[:8]):
            with cols[i % len(cols)]:
                st.image(results.preview(picture.hash) or picture.data, width="stretch",
                         caption=f"{picture.width}×{picture.height}")


def scroll_to_newest(marker: str) -> None:
    """Bring the newest turn into view, whole when it fits, once its pictures have loaded.

    The script runs again only when ``marker`` changes (a new turn, or one that finished), so
    reading earlier turns is not interrupted by every click."""
    st.html(f"""<span data-newest-turn="{marker}" hidden></span><script>(() => {{
  const go = () => {{
    const turns = document.querySelectorAll('.st-key-{TURNS_BOX} [data-testid="stChatMessage"]');
    if (!turns.length) return;
    const reply = turns[turns.length - 1], asked = turns[turns.length - 2] || reply;
    let box = reply.parentElement;  // the page's scrolling area; its end sits above the pinned input
    while (box && !(box.scrollHeight > box.clientHeight && /auto|scroll/.test(getComputedStyle(box).overflowY)))
      box = box.parentElement;
    box = box || document.scrollingElement;
    box.scrollTop = box.scrollHeight;
    if (asked.getBoundingClientRect().top < 0) asked.scrollIntoView({{block: "start"}});
  }};
  document.querySelectorAll('.st-key-{TURNS_BOX} img').forEach(
    (img) => {{ if (!img.complete) img.addEventListener("load", go, {{once: true}}); }});
  [50, 300, 900].forEach((ms) => setTimeout(go, ms));
}})();</script>""", unsafe_allow_javascript=True)


def _message() -> str | None:
    # At the top level Streamlit pins the input to the bottom of the window and keeps the newest turn above it.
    return st.chat_input("Describe the picture, or what to change…", key=state.CONV_INPUT)


def render(bar: Sidebar, brief: bool) -> None:
    store = connection.require_history()
    talking = OpenConversation(st.session_state)
    talking.arrive(handed_over=bool(st.session_state.get(state.handoff_key(state.CONV))),
                   latest=lambda: store.latest_conversation(owner=people.subject()))

    st.title("Conversation")
    st.caption("Talk a picture into shape: each turn builds on the one before it. \"Continue from here\" on an earlier "
               "turn tries another direction from that point; the turns after it are kept.")
    # Pictures in turns fit the window, so the newest turn is seen whole above the pinned input.
    # The settings stay beside the newest turn while the transcript scrolls.
    st.html(f"<style>.st-key-{TURNS_BOX} [data-testid='stChatMessage'] [data-testid='stImage'] img"
            "{max-height:min(42vh,560px);width:auto;max-width:100%;object-fit:contain}"
            f"[data-testid='stColumn']:has(.st-key-{SETTINGS_BOX}){{position:sticky;top:4rem;align-self:flex-start;"
            "max-height:calc(100vh - 11rem);overflow-y:auto}</style>")

    settings, talk = st.columns([3, 8], gap="large")
    if brief:  # the same input in the same place: a message written meanwhile is sent by the full run
        _message()
        shortcuts.chat_sends_on_ctrl_enter()
        bar.hold_estimate()
        return

    with settings, st.container(key=SETTINGS_BOX):
        saved = store.conversations(100, owner=people.subject())
        titles: dict[int, str] = {NEW: "New conversation", **{c.id: f"{c.title} ({c.turns} turns)" for c in saved}}
        talking.before_picker(titles)
        picked = st.selectbox("Conversation", list(titles), key=state.CONV_PICKER, format_func=titles.__getitem__)
        talking.picked(picked, last_turn=lambda conv: last_turn_of(store, conv))

        if st.session_state.get(state.CONV_MAINLINE) not in MAINLINE_MODELS:
            st.session_state[state.CONV_MAINLINE] = catalog().default_responses_model
        mainline = st.selectbox("Conversation model", MAINLINE_MODELS, key=state.CONV_MAINLINE,
                                help="The model you talk to; it calls the image tool.")
        if state.CONV_MODEL not in st.session_state:
            st.session_state[state.CONV_MODEL] = catalog().default_tool_model
        info = options.model_picker(state.CONV_MODEL, label="Image model (tool)")
        if st.session_state.get(state.CONV_ACTION) not in ACTIONS:
            st.session_state[state.CONV_ACTION] = "auto"
        action = st.segmented_control("Action", list(ACTIONS), key=state.CONV_ACTION,
                                      help="'edit' changes the last picture, 'generate' makes a new one, 'auto' lets "
                                           "the model decide.") or "auto"
        if st.session_state.get(state.CONV_WINDOW) not in COMPLETION_WINDOWS:
            st.session_state[state.CONV_WINDOW] = "soonest"
        window = st.radio("Answer", list(COMPLETION_WINDOWS), key=state.CONV_WINDOW, format_func=WINDOW_LABELS.get,
                          horizontal=True,
                          help="A turn that can wait is sent for discounted background execution: it is not streamed "
                               "(no partial images) and arrives when it is done, within the window.")
        if window != "soonest":
            factor, unpublished = window_price(window)
            said = unpublished or f"the estimate shows {factor:.0%} of the standard price"
            st.caption(f"Sent in the background with a {window} completion window: {said}.")
        fidelity = options.fidelity_picker(info, state.CONV_FIDELITY)
        with st.expander("Image options", expanded=False):
            values = options.output_options(info, state.CONV_OPTS, allow_n=False, columns=2,
                                            allow_stream=window == "soonest")
        with st.expander("Attach images", expanded=bool(st.session_state.get(state.picked_images(state.CONV)))):
            attached = image_inputs.image_inputs(state.CONV, store, limit=16)
            attach_as = st.radio("Send attachments as", ["data_url", "file"], key=state.CONV_ATTACH_AS, horizontal=True,
                                 format_func={"data_url": "Data URLs", "file": "Files API (file_id)"}.get)
            mask_png = None
            mask_file = st.file_uploader("Mask for the first attachment (optional)", type=["png"],
                                         key=state.CONV_MASK_UPLOAD, disabled=not attached,
                                         help="Transparent (or white) areas are repainted; sent as input_image_mask.")
            if mask_file is not None and attached:
                try:
                    mask_png, _ = mask_from_alpha_or_luma(mask_file.getvalue(), (attached[0].width, attached[0].height))
                except MaskError as exc:
                    untrusted.say(exc.sentence)

    conv_id = talking.conv_id
    turns = store.turns(conv_id) if conv_id else []
    by_id = {t.id: t for t in turns}
    head_id = talking.head_id
    head = by_id.get(head_id) if head_id is not None else None
    branches = leaves(turns)

    with talk:
        # The newest branch through the head: where "Back to the full conversation" goes.
        tip = newest_leaf_under(turns, head_id)
        if len(branches) > 1:
            chosen = tip or branches[-1]
            labels = {b.id: f"Branch {i + 1}: {untrusted.theirs(shorten(b.prompt, 40))}"
                      for i, b in enumerate(branches)}
            choice = st.radio("Branch", list(labels), index=list(labels).index(chosen.id), format_func=labels.get,
                              horizontal=True, key=state.item(state.CONV_BRANCH, conv_id, len(branches), head_id))
            if choice != chosen.id:
                talking.continue_from(choice)
                st.rerun()
        path = branch_path(turns, head_id)
        counts = children_count(turns)
        hidden = max(len(path) - st.session_state.get(state.CONV_EARLIER, SHOWN_TURNS), 0)
        transcript = st.container(key=TURNS_BOX)
        with transcript:
            if hidden and st.button(f"Show {hidden} earlier turn(s)", key="btn_conv_earlier",
                                    icon=":material/expand_less:"):
                st.session_state[state.CONV_EARLIER] = len(path)
                st.rerun()
            for number, turn in enumerate(path[hidden:], start=hidden + 1):
                show_turn(store, number, turn, head_id, counts)
            if path:
                scroll_to_newest(f"{conv_id}-{path[-1].id}-{path[-1].status}")

        # Continuing from an earlier turn shows the conversation up to it: say so, and how to get back.
        if head is not None and tip is not None and tip.id != head.id:
            later = len(branch_path(turns, tip.id)) - len(path)
            first, last = len(path) + 1, len(path) + later
            which = f"turn {first}" if later == 1 else f"turns {first}–{last}"
            st.info(f"Branching from turn {len(path)}: {which} {'stays' if later == 1 else 'stay'} in the history "
                    "under the earlier branch. Your next message starts a new branch from here.",
                    icon=":material/call_split:")
            if st.button("Back to the full conversation", key="btn_conv_back", icon=":material/undo:",
                         help=f"Show all {len(path) + later} turns again and continue from the last one."):
                talking.continue_from(tip.id)
                st.rerun()

        ref_call = talking.ref_call
        spec = TurnSpec(mainline=mainline, model=info.name, prompt="", images=tuple(attached), action=action,
                        input_fidelity=fidelity, attach_as=attach_as, completion_window=window or "soonest",
                        previous_response_id=head.response_id if head else None, image_call_id=ref_call,
                        mask=MaskInput(mask_png, attached[0].width, attached[0].height, content_hash(mask_png),
                                       mask_edit_fraction(mask_png)) if mask_png and attached else None,
                        **{**values, "n": 1})
        est = estimate(spec)
        bar.show_estimate(est, [p for p in spec.problems() if p.param != "prompt"],
                          what=f"image tool {info.name} · {spec.size} · {spec.quality}; the conversation model's own "
                               "tokens are billed at its price")
        if ref_call:
            st.caption(f":material/link: The next turn builds on image `{ref_call}`.")
        if attached:
            show_attached(attached, mask=mask_png is not None)
        live = st.empty()

    prompt = _message()

    if prompt:
        spec = spec.with_changes(prompt=prompt)
        problems = spec.problems()
        if not problems and sidebar.ready() and conv_id is None:
            conv_id = store.new_conversation(prompt[:60], people.current())
            talking.started(conv_id)
        conn = connection.current_connection() if sidebar.ready() else None
        known = st.session_state.setdefault(state.CONV_FILE_IDS, {}).setdefault(
            (conn.base_url if conn else None) or "openai", {})
        job = TurnJob(store, conv_id or 0, head, file_ids=known)
        run_id = runs.submit(spec, problems, "turn", call=job.events, page="conversation", est=est, live=live,
                            parents=job.parents(spec), on_queued=lambda rid: job.queued(rid, spec),
                            on_finish=job.finished)
        if run_id is not None:
            talking.sent(job.turn_id)
            st.session_state[state.picked_images(state.CONV)] = []
            st.rerun()

    shortcuts.chat_sends_on_ctrl_enter()


show_page_with_first_view("Conversation", render)
