"""The Sweep page through AppTest: a preset, the confirm step, a concurrent run with one failure."""

from components import state
from imagelab.store import Store

from .conftest import as_read, open_page, page_text, settle, shown


def test_offline_sweeps_spend_nothing_so_nothing_asks_for_confirmation(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.selectbox(key=state.SWEEP_PRESET).select("Furniture on a white backdrop").run()
    at.number_input(key=state.SWEEP_THRESHOLD).set_value(0.5).run()
    assert any("8 request(s), 8 image(s): $0 on the offline backend; on OpenAI it would cost" in i.value
               for i in at.info)
    assert not at.checkbox  # no "Yes, spend about …": nothing is spent
    assert not at.button(key=state.SWEEP_BUTTON).disabled


def test_preset_sweep_asks_before_spending_and_runs_every_combination(data_dir, compatible_server):
    from components.connection import CUSTOM

    server = compatible_server()  # a billed connection: any server behind a custom base URL
    at = open_page("pages/5_Sweep.py")
    at.session_state[state.BACKEND_CHOICE] = CUSTOM
    at.session_state[state.BASE_URL] = server.base_url
    at.run()
    at.selectbox(key=state.SWEEP_PRESET).select("Furniture on a white backdrop").run()
    assert not at.exception
    assert any("8 request(s), 8 image(s), estimated" in i.value for i in at.info)
    assert not at.button(key=state.SWEEP_BUTTON).disabled  # under the $1 default threshold
    at.number_input(key=state.SWEEP_THRESHOLD).set_value(0.5).run()
    assert at.button(key=state.SWEEP_BUTTON).disabled  # over it: confirm first
    at.checkbox(key=state.SWEEP_CONFIRM).check().run()
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception
    store = Store(data_dir)
    runs = [r for r in store.runs() if r.page == "sweep"]
    assert len(runs) == 8 and all(r.status == "ok" and r.billed for r in runs)
    prompts = {r.prompt for r in runs}
    assert any("dining chair" in p for p in prompts) and any("speaker" in p for p in prompts)
    assert {r.params["quality"] for r in runs} == {"low", "high"}
    assert any("8 of 8 request(s) made pictures" in m.value for m in at.markdown)
    heads, rows = _grid(at)  # four items down, two qualities across
    assert [h for h, _ in rows] == ["item=dining chair", "item=fruit bowl", "item=speaker", "item=bench"]
    assert heads == [["quality=low"], ["quality=high"]] and all(len(cells) == 2 for _, cells in rows)


def test_one_failure_does_not_stop_the_rest(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} on a table").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_thing").input("red cup\nforbidden object\nblue vase").run()
    at.multiselect(key=f"{state.SWEEP_AXIS}_quality").select("low").run()
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception
    store = Store(data_dir)
    runs = sorted((r for r in store.runs() if r.page == "sweep"), key=lambda r: r.prompt)
    assert [r.status for r in runs] == ["ok", "failed", "ok"]  # blue vase, forbidden object, red cup
    assert store.count_images() == 2
    assert any("safety system" in e for e in shown(at.error))
    assert any("2 of 3 request(s) made pictures" in m.value for m in at.markdown)


def test_template_problems_are_sentences(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} in {place}").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_thing").input("cat").run()
    warnings = " ".join(w.value for w in at.warning)
    assert "place" in warnings
    assert at.button(key=state.SWEEP_BUTTON).disabled


def _grid(at) -> tuple[list[list[str]], list[tuple[str, list[list[str]]]]]:
    """The sweep grid as a person reads it, top to bottom: the column headings, then each row's heading
    and its cells, each cell as its texts and its pictures' ids (from each picture's own "use as
    reference" button)."""
    from streamlit.testing.v1.element_tree import Block, Button, Caption, Markdown

    def texts(node) -> list[str]:
        out: list[str] = []
        if isinstance(node, (Markdown, Caption)):
            out.append(as_read(node.value).replace("*", ""))
        if isinstance(node, Button) and "_ref_" in (node.key or ""):
            out.append(f"image {node.key.rsplit('_', 1)[1]}")
        for child in getattr(node, "children", {}).values():
            out += texts(child)
        return out

    def heads_block(node) -> bool:  # the column heads: the axes' caption, then a row of columns
        kids = list(getattr(node, "children", {}).values())
        return isinstance(node, Block) and bool(kids) and isinstance(kids[0], Caption) and "↓" in kids[0].value

    def find(node):
        kids = list(getattr(node, "children", {}).values())
        if kids and heads_block(kids[0]):
            return kids
        for k in kids:
            found = find(k)
            if found:
                return found
        return None

    kids = find(at.main)
    assert kids, "no sweep grid on the page"
    heads = [texts(col) for col in list(kids[0].children.values())[1].children.values()]
    rows: list[tuple[str, list[list[str]]]] = []
    heading = ""
    for k in kids[1:]:
        if isinstance(k, Markdown):
            heading = texts(k)[0]
        else:
            rows.append((heading, [texts(col) for col in k.children.values()]))
    return heads, rows


def test_two_axes_show_as_rows_by_columns_of_their_pictures(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} on a table").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_thing").input("red cup\nblue vase").run()
    at.multiselect(key=f"{state.SWEEP_AXIS}_quality").select("low").select("high").run()
    plan = page_text(at.main)
    assert "4 requests in a grid of 2 rows by 2 columns: thing (red cup, blue vase) down, quality (low, high)" in plan
    at.button(key=state.SWEEP_BUTTON).click().run()
    settle(at, data_dir)
    assert not at.exception
    heads, rows = _grid(at)
    assert heads == [["quality=low"], ["quality=high"]]
    assert [heading for heading, _ in rows] == ["thing=red cup", "thing=blue vase"]
    store = Store(data_dir)
    for (_, cells), thing in zip(rows, ["red cup", "blue vase"], strict=True):
        assert len(cells) == 2  # one cell a column
        for cell, quality in zip(cells, ["low", "high"], strict=True):
            ids = [int(t.split()[1]) for t in cell if t.startswith("image ")]
            assert len(ids) == 1, cell
            run = store.run(store.image(ids[0]).run_id)
            assert thing in run.prompt and run.params["quality"] == quality


def test_the_form_survives_a_trip_to_another_page(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} in {place}").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_thing").input("red cup\nblue vase").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_place").input("a kitchen").run()
    at.multiselect(key=f"{state.SWEEP_AXIS}_quality").select("low").select("high").run()
    at.selectbox(key=f"{state.SWEEP_OPTS}_format").select("webp").run()
    at.switch_page("pages/1_Generate.py").run()
    assert not at.exception
    at.switch_page("pages/5_Sweep.py").run()
    assert not at.exception
    assert at.text_area(key=state.SWEEP_TEMPLATE).value == "A {thing} in {place}"
    assert at.text_area(key=f"{state.SWEEP_VALUES}_thing").value == "red cup\nblue vase"
    assert at.text_area(key=f"{state.SWEEP_VALUES}_place").value == "a kitchen"
    assert at.multiselect(key=f"{state.SWEEP_AXIS}_quality").value == ["low", "high"]
    assert at.selectbox(key=f"{state.SWEEP_OPTS}_format").value == "webp"
    assert any("4 request(s), 4 image(s)" in i.value for i in at.info)


def test_a_finished_sweep_is_one_folded_entry_in_the_tray_below_the_page_list(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.selectbox(key=state.SWEEP_PRESET).select("Furniture on a white backdrop").run()
    at.button(key=state.SWEEP_BUTTON).click().run()
    settle(at, data_dir)
    at.switch_page("pages/6_Gallery.py").run()  # elsewhere: the sweep's runs finished while the person was away
    assert not at.exception
    links = [link.proto.label for link in at.sidebar.get("page_link")]
    finished = [label for label in links if label.startswith("Sweep ")]
    assert finished == ["Sweep of 8 · 8/8 done"], links
    # the page list comes first and the entry sits in a fold that is closed
    assert links.index("Gallery") < links.index(finished[0])
    folds = [e for e in at.sidebar.expander if e.label.startswith("Finished elsewhere")]
    assert len(folds) == 1 and folds[0].label == "Finished elsewhere · 1" and not folds[0].proto.expanded


def _history_full_after(monkeypatch, method: str, allowed: int) -> list[bool]:
    """The history takes ``allowed`` calls of ``method`` (a run row, a group's rows), then its disk is full until
    the returned list is emptied."""
    import errno
    from pathlib import Path

    from imagelab.history.runs import RunRepository
    from imagelab.store import StorageError

    real = getattr(RunRepository, method)
    calls = []
    still_full = [True]

    def full(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > allowed and still_full:
            raise StorageError(Path(self.root), OSError(errno.ENOSPC, "No space left on device"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(RunRepository, method, full)
    return still_full


def _three_cups(at):
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} on a table").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_thing").input("red cup\nblue cup\ngreen cup").run()
    at.multiselect(key=f"{state.SWEEP_AXIS}_quality").select("low").run()


def test_a_history_that_fills_up_part_way_says_how_many_went_and_shows_them(data_dir, monkeypatch):
    at = open_page("pages/5_Sweep.py").run()
    _three_cups(at)
    disk = _history_full_after(monkeypatch, "start_run", 1)
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    assert any(w.startswith("2 of the 3 requests were not sent (1 went). ImageLab cannot use its history folder")
               and "Free some disk space" in w for w in shown(at.warning))
    disk.clear()  # space again: the page goes on with what went
    settle(at, data_dir)
    runs = [r for r in Store(data_dir).runs() if r.page == "sweep"]
    assert [r.status for r in runs] == ["ok"]
    assert any("1 of 1 request(s) made pictures" in m.value for m in at.markdown)


def test_a_batch_the_history_cannot_record_is_not_sent_and_says_so(data_dir, monkeypatch):
    at = open_page("pages/5_Sweep.py").run()
    _three_cups(at)
    at.toggle(key=state.SWEEP_AS_BATCH).set_value(True).run()
    _history_full_after(monkeypatch, "start_runs", 0)
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    assert any(e.startswith("Nothing was sent. ImageLab cannot use its history folder") for e in shown(at.error))
    assert [r for r in Store(data_dir).runs() if r.page == "sweep"] == []
