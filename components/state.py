"""Every session-state key the app uses, in one place."""

# Widget keys share a prefix per page (kept across pages); button keys start with "btn_".

# Every page keeps these widgets' values alive, so nothing typed is lost on a trip to another page.
KEPT_PREFIXES = ("conn_", "gen_", "ref_", "mask_", "conv_", "gallery_")

# connection (the key lives only in this browser session)
API_KEY = "conn_api_key"
BASE_URL = "conn_base_url"
BACKEND_CHOICE = "conn_backend"
TIMEOUT = "conn_timeout"
CLIENT = "client_cached"              # (Connection, openai.OpenAI) for this session

# usage shown in the sidebar
LAST_RUN = "usage_last_run"          # RunResult of the most recent run on any page
SESSION_COST = "usage_session_cost"  # Cost summed over this session's runs
SESSION_RUNS = "usage_session_runs"  # number of runs this session

# Generate page
GEN_PROMPT = "gen_prompt"
GEN_MODEL = "gen_model"
GEN_OPTS = "gen_opt"                 # prefix for the output option widgets
GEN_RESULTS = "gen_results"          # list of RunResult, newest first
GEN_BUTTON = "btn_gen_run"
GEN_SHOWN = "gen_shown"             # how many runs the results column shows

# Gallery page
GALLERY_PAGE = "gallery_page"
