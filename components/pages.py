"""Every page of the app, once: its key in the history, its file, its name, icon and one-line purpose."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Page", "PAGES", "HOME", "by_key", "name_of", "path_of", "ICON"]


@dataclass(frozen=True)
class Page:
    key: str          # how runs name the page in the history (runs.page)
    path: str         # the file Streamlit serves
    name: str
    icon: str
    purpose: str = ""


HOME = Page("home", "app.py", "Home", ":material/home:")
PAGES = (
    HOME,
    Page("generate", "pages/1_Generate.py", "Generate", ":material/auto_awesome:",
         "Text to image, with every option the model accepts and streamed previews."),
    Page("reference_edit", "pages/2_Reference_edit.py", "Reference edit", ":material/collections:",
         "A new picture from up to 16 reference images."),
    Page("mask_edit", "pages/3_Mask_edit.py", "Mask edit", ":material/brush:",
         "Paint over what should change; the rest stays pixel for pixel."),
    Page("conversation", "pages/4_Conversation.py", "Conversation", ":material/forum:",
         "Talk a picture into shape, turn by turn, and branch from any turn."),
    Page("sweep", "pages/5_Sweep.py", "Sweep", ":material/grid_view:",
         "One template over lists of values and options, priced before it runs."),
    Page("gallery", "pages/6_Gallery.py", "Gallery", ":material/photo_library:",
         "Everything made, with its parameters, usage, cost and lineage; export and present."),
    Page("compare", "pages/7_Compare.py", "Compare", ":material/compare:"),
    Page("present", "pages/8_Present.py", "Present", ":material/slideshow:"),
    Page("extend", "pages/9_Extend.py", "Extend", ":material/open_in_full:",
         "Grow the canvas to a new shape; the model paints the new part, the picture stays exact."),
    Page("boards", "pages/10_Boards.py", "Boards", ":material/bookmarks:"),
    Page("team", "pages/11_Team.py", "Team", ":material/group:"),  # admins only, with login
)
_BY_KEY = {p.key: p for p in PAGES}


def by_key(key: str) -> Page | None:
    return _BY_KEY.get(key)


def name_of(key: str) -> str:
    """The page's name for a history key; unknown keys are shown as they are."""
    page = _BY_KEY.get(key)
    return page.name if page else key


def path_of(key: str) -> str:
    """The file of a page, for links and page switches."""
    return _BY_KEY[key].path


# The tab icon. An emoji is drawn by the browser itself; a ``:material/…:`` page icon would be fetched
# from a font server on the internet, which fails offline.
ICON = "🎨"
