"""A page's runs: sending them (``submit``), keeping a part of the page live while they go (``live``), how they
look (``cards``), and the sweep's grid and the models side by side (``sweep``, ``fanout``)."""

from components.runs.cards import (
    RUNS_PER_PAGE,
    SentCards,
    run_error,
    sending_html,
    sending_place,
    show_drawing_progress,
    show_job,
    show_progress_picture,
    show_record,
    show_runs,
    show_sent,
    show_turn_progress,
    watch_here,
    watched_cancel,
)
from components.runs.fanout import show_fanout
from components.runs.live import POLL_SECONDS, fragment_rerun, live_part
from components.runs.submit import ask_for_mask, cancel, mask_from_drawing, submit
from components.runs.sweep import show_sweep, show_sweep_grid

__all__ = [
    "POLL_SECONDS",
    "RUNS_PER_PAGE",
    "SentCards",
    "ask_for_mask",
    "cancel",
    "fragment_rerun",
    "live_part",
    "mask_from_drawing",
    "run_error",
    "sending_html",
    "sending_place",
    "show_drawing_progress",
    "show_fanout",
    "show_job",
    "show_progress_picture",
    "show_record",
    "show_runs",
    "show_sent",
    "show_sweep",
    "show_sweep_grid",
    "show_turn_progress",
    "submit",
    "watch_here",
    "watched_cancel",
]
