"""Text ImageLab did not write, through AppTest: still scrubbed of anything key-shaped on its one way to the page."""

from imagelab.store import Store

from .conftest import open_page, page_text

KEY = "sk-proj-abcdef1234567890"


def test_a_stored_error_request_id_and_prompt_lose_their_key_on_the_way_to_the_page(data_dir):
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", f"a cat {KEY}", {}, requested=1)
    store.finish_run(run, "failed", error=f"The request failed: Incorrect API key provided: {KEY}",
                     request_id=f"req_{KEY}")
    at = open_page("pages/1_Generate.py").run()
    assert not at.exception
    text = page_text(at.main)
    assert "The request failed: Incorrect API key provided: [redacted]" in text and "req_[redacted]" in text
    assert "a cat [redacted]" in text
    assert "abcdef1234567890" not in text
