"""Money on screen: an offline run is $0 spent with what it would cost on OpenAI beside it, and each
image of a run shows its share."""

import re

from components import state
from imagelab.costs import format_dollars
from imagelab.store import Store

from .conftest import open_page, settle, shown


def test_an_offline_run_shows_nothing_spent_and_each_image_its_share(data_dir):
    at = open_page("pages/1_Generate.py").run()
    at.text_area(key=state.GEN_PROMPT).input("Three paper boats").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.number_input(key=f"{state.GEN_OPTS}_n").set_value(3).run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    assert not at.exception
    run = Store(data_dir).runs()[0]
    assert run.actual_dollars > 0 and not run.billed
    whole = format_dollars(run.actual_dollars)
    sidebar = " ".join(shown(at.sidebar.markdown)) + " ".join(c.value for c in at.sidebar.caption)
    assert re.search(r"\| spent \| [\d,]+ \| \$0\.00 \|", sidebar)
    assert f"| would cost on OpenAI | | ≈ {whole} |" in sidebar
    assert f"$0 spent · would cost ≈ {whole} on OpenAI" in sidebar  # this session
    assert f"$0 spent · would cost ≈ {whole} on OpenAI" in " ".join(shown(at.markdown))  # the run's card

    at.switch_page("pages/6_Gallery.py").run()
    assert not at.exception
    share = format_dollars(run.actual_dollars / 3)
    cards = [c for c in shown(at.caption) if c.startswith("gpt-image-2 · Generate")]
    assert len(cards) == 3 and all(f"$0 spent · would cost ≈ {share} on OpenAI" in c for c in cards)
    assert not any(whole in c for c in cards)
    at.session_state[state.GALLERY_SPEND_OPEN] = True  # the spend table is drawn once its fold is opened
    at.run()
    assert f"Total: $0 spent · would cost ≈ {whole} on OpenAI" in [c.value for c in at.caption]


def test_offline_money_is_said_right_in_the_headline_the_last_run_table_and_the_export(data_dir):
    """Each place that states money for an offline run: the sidebar's headline is $0 here (what OpenAI would
    charge beneath it), the Last run table's estimated tokens are the estimate's, and the export's manifest
    gives each picture $0 paid, marked unbilled, with its share of what OpenAI would charge."""
    import io
    import json
    import zipfile

    from imagelab.costs import estimated_tokens
    from imagelab.export import export_images

    at = open_page("pages/1_Generate.py").run()
    at.text_area(key=state.GEN_PROMPT).input("Two paper boats").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.number_input(key=f"{state.GEN_OPTS}_n").set_value(2).run()
    headings = shown(at.sidebar.header)
    assert headings == ["$0 here"], headings
    assert any(re.fullmatch(r"would cost ≈ \$[\d.]+ on OpenAI", c.value) for c in at.sidebar.caption)

    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    assert not at.exception
    store = Store(data_dir)
    run = store.runs()[0]
    tokens = estimated_tokens(run.estimate)
    assert tokens > 0
    table = " ".join(shown(at.sidebar.markdown))
    assert re.search(rf"\| estimated \| (≈ )?{tokens:,} \|", table), table

    images = store.images_of_run(run.id)
    with zipfile.ZipFile(io.BytesIO(export_images(store, [i.id for i in images]))) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        csv_text = zf.read("manifest.csv").decode()
    assert [m["actual_dollars"] for m in manifest] == [0.0, 0.0]
    assert [m["billed"] for m in manifest] == [False, False]
    assert [m["would_cost_dollars"] for m in manifest] == [round(run.actual_dollars / 2, 6)] * 2
    assert "billed,would_cost_dollars" in csv_text.splitlines()[0]
