"""Every session-state key the app uses, in one place."""

# Widget keys share a prefix per page (kept across pages); buttons, uploaders and canvases
# start with "btn_", "upl_" and "canvas_" instead, because Streamlit forbids setting them.

# Every page keeps these widgets' values alive, so nothing typed is lost on a trip to another page.
KEPT_PREFIXES = ("common_", "conn_", "gen_", "ref_", "mask_", "conv_", "gallery_", "ext_", "sweep_")
DRAFT_TAB = "draft_tab"               # this browser tab's draft name (also in the address as ?w=…)
KEPT_VALUES = "kept_values"           # the last value of every kept widget, by key (never a widget's own state)

# connection (the key lives only in this browser session)
API_KEY = "conn_api_key"
BASE_URL = "conn_base_url"
BACKEND_CHOICE = "conn_backend"
TIMEOUT = "conn_timeout"

# choices that carry across pages (components/options.py): the model, size, quality and n picked last
COMMON_CHOICES = "common_choices"    # {name: (value, version)}; plain state, no widget has this key
COMMON_SEEN = "common_seen"          # {widget key: version of the common choice it last took}
COMMON_VERSION = "common_version"
MODELS_OLDER = "common_models_older"  # the picker's "show retiring and retired models" switch (kept on every page)

# the session's first view (components/first_view.py)
VIEW_SEEN = "view_seen"              # a page has been drawn in this session

# usage shown in the sidebar
SESSION_RUN_IDS = "usage_session_run_ids"  # ids of the runs this session submitted, oldest first
TRAY_SEEN = "tray_seen"              # finished runs whose page the person has seen since
SCROLLED_RUNS = "scrolled_runs"      # runs of this session already scrolled into view once
LIVE_SEEN = "live_seen"              # prefix: the engine version a live part of a page last drew
LIVE_POLLING = "live_polling"        # prefix: whether a page's live part was drawn polling, in its last full run
LIVE_WATCH = "live_watch"            # prefix: runs a page's form sent since its last full run (the form shows them)
LIVE_DRAWN = "live_drawn"            # prefix: the runs a page's live part drew in this full run (drawn once)
BUDGET = "budget_limit"              # prefix: budget_limit_session / _day / _month (seeded from the store)
BUDGET_MODERATION = "budget_moderation"
GEN_FANOUT_TARGETS = "gen_fanout_targets"
GEN_FANOUT_GROUP = "gen_fanout_group"  # the group of the last "Compare models" send
GEN_FANOUT_BUTTON = "btn_gen_fanout"
GEN_FANOUT_OPEN = "fold_gen_fanout"  # the "Compare models" fold (drawn only while open)
SWEEP_AS_BATCH = "sweep_as_batch"

# Generate page
GEN_PROMPT = "gen_prompt"
GEN_MODEL = "gen_model"
GEN_OPTS = "gen_opt"                 # prefix for the output option widgets
GEN_BUTTON = "btn_gen_run"
GEN_SHOWN = "gen_shown"             # how many runs the results column shows

# Generate's prompt tools: improve, describe, library
PROMPT_TOOLS = "gen_prompt_tools"    # the tools' expander (open or not)
WORDS_MODEL = "gen_words_model"      # the text model that describes and rewrites
IMPROVE_RUN = "words_improve_run"    # run id of the last "Improve my prompt" request
IMPROVE_EDIT = "gen_improve_edit"    # the rewrite, as the person edits it before accepting
IMPROVE_DONE = "words_improve_done"  # run ids accepted or rejected (their panel is closed)
DESCRIBE = "describe"                # prefix of the describe picker's state; also its hand-over key
DESCRIBE_RUN = "words_describe_run"  # run id of the last "Describe this picture" request
DESCRIBE_ASKED = "words_describe_asked"  # + picture id: Describe was clicked under that result
DESCRIBED = "words_described"        # + picture id: run id of that result's description
LIBRARY_QUERY = "gen_library_query"
LIBRARY_TAGS = "gen_library_tags"
LIBRARY_TITLE = "gen_library_title"
LIBRARY_NEW_TAGS = "gen_library_new_tags"

# Reference edit page
REF = "ref"                          # prefix of the input picker's state (ref_images, …)
REF_PROMPT = "ref_prompt"
REF_MODEL = "ref_model"
REF_OPTS = "ref_opt"
REF_FIDELITY = "ref_fidelity"
REF_SHOWN = "ref_shown"
REF_BUTTON = "btn_ref_run"

# Mask edit page
MASK = "mask"
MASK_PROMPT = "mask_prompt"
MASK_MODEL = "mask_model"
MASK_OPTS = "mask_opt"
MASK_FIDELITY = "mask_fidelity"
MASK_SHOWN = "mask_shown"
MASK_BUTTON = "btn_mask_run"
MASK_MODE = "mask_mode"              # paint a mask, upload one, ask the model, or markup
MASK_TOOL = "mask_tool"              # brush or eraser
MASK_BRUSH = "mask_brush"
MASK_INVERT = "mask_invert"
MASK_CANVAS = "canvas_mask"          # prefix; a new suffix clears the canvas
MASK_CANVAS_ROUND = "mask_canvas_round"
MASK_UPLOAD = "upl_mask_bw"
MASK_EDIT_COLOUR = "mask_edit_colour"
MASK_SUBJECT = "mask_subject"
MASK_DRAWN = "mask_drawn"            # (image hash, mask PNG or None, problem or None) of the model-drawn mask
MASK_DRAWING_RUN = "mask_drawing_run"  # run id of the drawing being made for the mask

MASK_KEEP = "mask"                   # prefix of the keep-exact setting (mask_keep_exact, mask_feather)

# Extend page
EXT = "ext"                          # prefix of the input picker's state (ext_images, …) and keep-exact setting
EXT_PROMPT = "ext_prompt"
EXT_MODEL = "ext_model"
EXT_SHAPE = "ext_shape"              # a preset aspect or custom
EXT_WIDTH = "ext_width"
EXT_HEIGHT = "ext_height"
EXT_PLACE = "ext_place"
EXT_QUALITY = "ext_quality"
EXT_FORMAT = "ext_format"
EXT_N = "ext_n"
EXT_SHOWN = "ext_shown"
EXT_BUTTON = "btn_ext_run"

# Conversation page
CONV = "conv"                        # prefix of the attachment picker's state (conv_images, …)
CONV_ID = "conv_id"                  # the open conversation, None for a new one
CONV_HEAD = "conv_head"              # the turn the next turn continues from
CONV_REF_CALL = "conv_ref_call"      # an earlier image_generation_call id the next turn builds on
CONV_MAINLINE = "conv_mainline"
CONV_MODEL = "conv_model"
CONV_OPTS = "conv_opt"
CONV_ACTION = "conv_action"
CONV_FIDELITY = "conv_fidelity"
CONV_ATTACH_AS = "conv_attach_as"
CONV_WINDOW = "conv_window"          # the completion window: soonest, or 2h / 8h for a turn that can wait
CONV_MASK_UPLOAD = "upl_conv_mask"
CONV_PICKER = "conv_picker"
CONV_PICK_NEXT = "pick_next_conversation"  # set after a widget ran; applied before it is drawn again
CONV_INPUT = "btn_conv_input"        # chat input; cannot be set through session state
CONV_FILE_IDS = "conv_file_ids"      # {base_url: {image hash: file id}} uploaded this session
CONV_EARLIER = "conv_earlier"        # how many earlier turns are unfolded


def handoff_key(page_key: str) -> str:
    """Where another page leaves image hashes for ``page_key``'s inputs."""
    return f"handoff_{page_key}"


# Gallery page
GALLERY_FIRST = "gallery_first"         # where in the matches the grid's page starts (survives a density change)
GALLERY_DENSITY = "gallery_density"     # "Comfortable" or "Dense"
GALLERY_TEXT = "gallery_text"
GALLERY_PAGES = "gallery_pages"
GALLERY_MODELS = "gallery_models"
GALLERY_DATES = "gallery_dates"
GALLERY_STARRED = "gallery_starred"
GALLERY_WHOSE = "gallery_whose"        # with login: Mine, Everyone or one person's subject
GALLERY_DETAIL = "gallery_detail"        # image id shown in detail
GALLERY_DELETED = "gallery_deleted"     # this session's deletions (imagelab.trash.Deletion), newest last, for Undo
# folded parts drawn only while open (what they hold costs a view time): not kept across pages
GALLERY_SPEND_OPEN = "fold_gallery_spend"
GALLERY_LOAD_OPEN = "fold_gallery_load"
EXPORT_MADE = "export_made"  # item(EXPORT_MADE, key): (what was exported, its link or links, when) of a zip

GALLERY_BOARD = "gallery_board"          # the board whose pictures the Gallery shows (None: every picture)

# Boards page and the "Add to board" control
BOARD_OPEN = "board_open"                # the id of the board the Boards page shows (None: the list)
BOARDS_WHOSE = "boards_whose"            # with login: Mine, Everyone or one person's boards in the list
BOARD_LINK = "board_link"                # (board id, URL) of the link just made: its token is shown only then
BOARD_CONFIRM_DELETE = "board_confirm_delete"
PRESENT_BOARD = "present_board"          # the board Present shows (None: the Gallery's selection)
BOARD_REACTED = "board_reacted"          # a shared view's sentence after a reaction was sent, by picture

# Sweep page
SWEEP_TEMPLATE = "sweep_template"
SWEEP_PRESET = "sweep_preset"
SWEEP_MODEL = "sweep_model"
SWEEP_OPTS = "sweep_opt"
SWEEP_AXIS = "sweep_axis"            # prefix: sweep_axis_quality, sweep_axis_size, sweep_axis_model
SWEEP_VALUES = "sweep_values"        # prefix: sweep_values_<variable>
SWEEP_THRESHOLD = "sweep_threshold"
SWEEP_CONFIRM = "sweep_confirm"
SWEEP_DENSITY = "sweep_density"      # the grid: "Comfortable" (pictures with their actions) or "Compact"
SWEEP_BUTTON = "btn_sweep_run"
SWEEP_GROUP = "sweep_group"          # the group id of the sweep the results column shows

LOAD_NOTES = "load_notes"            # sentences about settings that could not be loaded

# A selection of images (ids) shared by Gallery, Compare, Presentation and export
SELECTION = "selection"


# --- composed keys: one widget of many (a card, a turn, a variable), or a picker's parts ----------------

# Prefixes of widgets drawn once per item; ``item`` adds the item's id.
CONV_FROM = "btn_conv_from"          # "Continue from here" on a turn
CONV_BUILD_ON = "btn_conv_ref"       # "Build on this image" on a turn
CONV_IMAGE = "turn"                  # a turn's picture card; not "conv_": a kept prefix would reassign its buttons
CONV_BRANCH = "conv_branch"          # the branch picker, per conversation, branch count and head
GALLERY_SELECT = "gallery_sel"       # a card's Select box
GALLERY_STAR = "btn_gallery_star"
GALLERY_OPEN = "btn_gallery_detail"  # a card's Open button
GALLERY_RAW = "gallery_raw"          # a kept-exact card's switch to its raw output
GALLERY_OPEN_CHILD = "btn_gallery_open"  # Open on an image made from the one in detail
GALLERY_CARD = "card"                # a card's container; CSS frames a starred one by its key
GALLERY_CARD_STARRED = "card_starred"
BOARD_ADD = "board_add"              # an "Add to board" control (popover); + _pick, _name, _go: its parts
BOARD_NOTE = "board_note"            # a picture's note on its board
BOARD_UP = "btn_board_up"
BOARD_DOWN = "btn_board_down"
BOARD_REMOVE = "btn_board_remove"
BOARD_OPEN_ONE = "btn_board_open"    # Open on a board in the list
SHARE_REVOKE = "btn_share_revoke"
REACT = "react"                      # a shared view's reaction form, per picture


def item(prefix: str, *ids: object) -> str:
    """The key of one widget among many of its kind: ``item(GALLERY_STAR, 12)`` is ``btn_gallery_star_12``."""
    return "_".join([prefix, *(str(i) for i in ids)])


def picked_images(picker: str) -> str:
    """The list of input images an image picker keeps (``picked_images(REF)`` is ``ref_images``)."""
    return f"{picker}_images"


def sweep_values(variable: str) -> str:
    """The text area of one template variable's values."""
    return item(SWEEP_VALUES, variable)


def sweep_axis(axis: str) -> str:
    """The multiselect of one option axis: ``quality``, ``size`` or ``model``."""
    return item(SWEEP_AXIS, axis)
