"""Names the unused-code check (vulture, run by scripts/lint.sh) cannot see used, each with who uses it.

Keep it short: unused code is deleted, not listed here. ``_`` stands for any object, as in vulture's own
whitelists; only the name after it counts.
"""

# read by libraries and frameworks, not by our own code
_.down_revision  # Alembic, in each migration of imagelab/history/migrations/versions
_.compress_type  # zipfile, as each member of an export is written (imagelab/export.py)
_.max_in_memory_upload_chunks  # boto3's transfer config (imagelab/history/storage.py)
_.should_exit  # uvicorn's server loop, to stop the offline backend (imagelab/offline)
_.model_name  # the error sentences' templates: "{c.model_name}" (imagelab/client/errors.py RULES)
_.exc_text  # likewise: "{c.exc_text}"
_.upload_hash  # st.cache_data's key for a mask upload (components/mask_canvas.py _from_upload)
_.added_at  # a board item's row field, kept for its order in time (imagelab/history/boards.py)

_.__qualname__  # Streamlit names a fragment by its function's qualified name (components/runs/live.py live_part)

# public API the tests drive (tests/ is not scanned: pytest calls fixtures and tests by name)
_.boards_of  # Store: which boards hold a picture
_.count_images  # Store
_.remove_orphans  # Store
_.db_path  # Store
_.wait_all  # RunEngine
_.recovered  # RunEngine: what start-up marked interrupted
_.settled_at_start  # QueuedEngine: the runs of dead processes it settled when it started
_.from_background_fit  # masks.CanvasFit
_.from_fabric_background  # masks.CanvasFit
_.to_sweep  # sweeps.Preset
