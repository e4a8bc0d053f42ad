"""ImageLab's core: catalog, specs, costs, images, client, store, the run engine and the offline backend.

Nothing here imports Streamlit; the pages and components build on it.
"""

__all__ = ["catalog", "specs", "costs", "client", "store", "jobs"]
