"""The upload cap (server.maxUploadSize, 50 MB) as a person meets it: a file just under it is taken,
one byte over it is refused before it reaches the app."""

import io
import struct
import zlib

import pytest
from PIL import Image

from .conftest import wait_idle

pytestmark = pytest.mark.e2e

# .streamlit/config.toml: maxUploadSize = 50 (MB). Streamlit's page counts a megabyte as 1,000,000
# bytes outside Windows (its server as 1,048,576), so the cap a person meets here is 50,000,000 bytes.
CAP = 50_000_000


def padded_png(total: int) -> bytes:
    """A valid 64x64 PNG of exactly ``total`` bytes: the padding is an ancillary chunk readers skip."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 120, 200)).save(buf, "PNG")
    png = buf.getvalue()
    pad = total - len(png) - 12
    chunk = struct.pack(">I", pad) + b"paDd" + b"\0" * pad
    chunk += struct.pack(">I", zlib.crc32(b"paDd" + b"\0" * pad))
    out = png[:-12] + chunk + png[-12:]  # before IEND
    assert len(out) == total
    return out


def test_uploads_are_capped(app_server, page, tmp_path):
    under, over = tmp_path / "under.png", tmp_path / "over.png"
    under.write_bytes(padded_png(CAP - 4096))
    over.write_bytes(padded_png(CAP + 1))
    page.goto(app_server["url"] + "/Reference_edit")
    wait_idle(page)
    uploader = page.locator('[class*="st-key-upl_ref_"] input[type=file]')

    uploader.set_input_files(str(over))
    page.get_by_text("File must be 50.0MB or smaller.").wait_for(timeout=30_000)
    wait_idle(page)
    chosen = page.locator('[class*="st-key-btn_ref_remove_"]')  # one per image in the request
    assert chosen.count() == 0 and page.get_by_text("No image chosen yet.").is_visible()

    page.goto(app_server["url"] + "/Reference_edit")
    wait_idle(page)
    uploader.set_input_files(str(under))
    page.get_by_text("64×64 · 48,824 KB").wait_for(timeout=120_000)
    wait_idle(page)
    assert chosen.count() == 1 and "under.png" in page.locator('[data-testid="stMain"]').inner_text()
    assert not page.locator('[data-testid="stAlertContentError"], [data-testid="stException"]').count()
