"""Drift and keep-exact through the real openai SDK against the offline backend: the drift setting,
and the run engine saving a raw result and its kept-exact composite."""

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from imagelab import client as cl
from imagelab.catalog import model_info
from imagelab.drift import KeepExact
from imagelab.extend import extend_mask, padded_picture, plan_extend
from imagelab.runs.engine import JobRequest, RunEngine
from imagelab.specs import EditSpec, InputImage, MaskInput
from imagelab.store import Store, content_hash

FAULT = "x-imagelab-fault"


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def noise(w, h, seed=3):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def box_mask(w, h, box):
    m = Image.new("RGBA", (w, h), (0, 0, 0, 255))
    ImageDraw.Draw(m).rectangle(box, fill=(0, 0, 0, 0))
    return m


def test_drift_setting_moves_the_kept_pixels_a_little(client):
    src, mask = noise(1024, 1024), box_mask(1024, 1024, (0, 0, 511, 1023))
    keep = np.asarray(mask)[..., 3] > 0

    def edit(**headers):
        r = client.images.edit(model="gpt-image-1.5", image=("in.png", png(src), "image/png"),
                               mask=("mask.png", png(mask), "image/png"), prompt="a blue sky", quality="low",
                               extra_headers=headers)
        return pixels(base64.b64decode(r.data[0].b64_json))

    exact, drifted = edit(), edit(**{FAULT: "drift:8"})
    original = np.asarray(src).astype(int)
    assert (exact[keep] == original[keep]).all()                       # by default: kept exactly
    moved = np.abs(drifted[keep] - original[keep])
    assert moved.max() <= 8 and (moved.max(axis=-1) > 0).mean() > 0.5   # with drift: small changes everywhere
    assert (drifted[~keep] == exact[~keep]).all()                       # the repainted part is the same


def _input(img: Image.Image) -> InputImage:
    data = png(img)
    return InputImage(data, "in.png", "image/png", img.width, img.height, content_hash(data))


def _connection(server):
    return cl.Connection(server.base_url, "sk-offline", label="Offline backend", offline=True, timeout=30,
                         max_retries=0)


def test_engine_saves_the_raw_result_and_the_kept_exact_one(compatible_server, tmp_path):
    server = compatible_server(faults="drift:6")
    store = Store(tmp_path)
    engine = RunEngine(store, workers=1)
    src = _input(noise(1024, 1024))
    mask_png = png(box_mask(1024, 1024, (300, 300, 700, 700)))
    spec = EditSpec(prompt="a red ball", model="gpt-image-2", images=(src,), quality="low",
                    mask=MaskInput(mask_png, 1024, 1024, content_hash(mask_png), 0.15))
    run_id = engine.submit(JobRequest(spec, cl.edit, _connection(server), "mask_edit", parents=(src.hash,),
                                      postprocess=KeepExact(src.data, mask_png, feather=8)))
    job = engine.wait(run_id)
    assert job.status == "ok" and store.run(run_id).status == "ok"
    raw, kept = store.images_of_run(run_id)
    assert (raw.variant, kept.variant) == ("raw", "kept") and raw.index == kept.index == 0
    assert [r.hash for r in job.images] == [kept.hash]                  # the page shows the kept one
    keep = np.asarray(Image.open(io.BytesIO(mask_png)))[..., 3] > 0
    original = pixels(src.data)
    assert (pixels(store.read_bytes(kept.hash))[keep] == original[keep]).all()
    assert not (pixels(store.read_bytes(raw.hash))[keep] == original[keep]).all()
    assert kept.drift["mean_delta_e"] > 0.5 and kept.drift["changed_share"] > 0
    assert set(store.parents_of(kept.id)) == {raw.hash, src.hash}
    engine.shutdown()


def test_extend_through_the_engine_keeps_the_picture(offline_server, tmp_path):
    store = Store(tmp_path)
    engine = RunEngine(store, workers=1)
    picture = noise(1024, 1024, seed=9)
    plan = plan_extend(1024, 1024, (1536, 1024), "left", model_info("gpt-image-2"))
    canvas = _input(padded_picture(picture, plan))
    mask_png = extend_mask(plan)
    spec = EditSpec(prompt="a wide meadow", model="gpt-image-2", images=(canvas,), size=plan.size, quality="low",
                    mask=MaskInput(mask_png, plan.width, plan.height, content_hash(mask_png), plan.new_share))
    run_id = engine.submit(JobRequest(spec, cl.edit, _connection(offline_server), "extend",
                                      postprocess=KeepExact(canvas.data, mask_png, feather=8)))
    assert engine.wait(run_id).status == "ok"
    kept = [r for r in store.images_of_run(run_id) if r.variant == "kept"][0]
    out = pixels(store.read_bytes(kept.hash))
    assert out.shape == (1024, 1536, 3) and (kept.width, kept.height) == (1536, 1024)
    assert (out[:, :1024] == np.asarray(picture)).all()
    assert (np.abs(out[:, 1100:] - out[:, 1023:1024]).sum(axis=-1) > 0).mean() > 0.5  # the new part is painted
    engine.shutdown()
