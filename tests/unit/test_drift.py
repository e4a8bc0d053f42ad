"""Keep-exact compositing and the drift figure, checked pixel by pixel."""

import io

import numpy as np
import pytest
from PIL import Image

from imagelab.drift import (
    delta_e,
    drift_heatmap,
    keep_exact,
    keep_weights,
    measure_drift,
    pair_heatmap,
    postprocess_edit,
    srgb_to_lab,
)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _mask(w, h, box):
    """Opaque everywhere but ``box`` (x0, y0, x1, y1), which is transparent: the part to edit."""
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = 255
    x0, y0, x1, y1 = box
    rgba[y0:y1, x0:x1, 3] = 0
    return Image.fromarray(rgba, "RGBA")


def _noise(w, h, seed):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def test_lab_of_known_colours():
    lab = srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], np.uint8))
    assert lab[0] == pytest.approx([100, 0, 0], abs=0.05)
    assert lab[1] == pytest.approx([0, 0, 0], abs=0.05)
    assert lab[2] == pytest.approx([53.24, 80.09, 67.20], abs=0.05)


def test_composite_is_exact_outside_the_feather_and_the_model_beyond_it():
    original, result = _noise(200, 120, 1), _noise(200, 120, 2)
    mask = _mask(200, 120, (60, 30, 160, 100))
    kept = np.asarray(keep_exact(original, result, mask, feather=8)).astype(int)
    o, r = np.asarray(original).astype(int), np.asarray(result).astype(int)
    protected = np.ones((120, 200), bool)
    protected[30:100, 60:160] = False
    assert (kept[protected] == o[protected]).all()                      # every protected pixel exact
    assert (kept[39:91, 69:151] == r[39:91, 69:151]).all()                # deeper than the feather: the model's
    band = kept[50, 60:68]                                                # the seam: between the two
    assert not (band == o[50, 60:68]).all() and not (band == r[50, 60:68]).all()


def test_the_seam_is_smooth_and_monotone():
    protected = np.zeros((1, 40), bool)
    protected[0, :10] = True
    w = keep_weights(protected, feather=10)[0]
    assert (w[:10] == 1).all()
    assert (np.diff(w[10:]) <= 0).all() and (np.diff(w[10:21]) < 0).all()   # falls at every step of the band
    assert np.abs(np.diff(w)).max() <= 1 / 11 + 1e-6                     # no jump bigger than one step
    assert (w[20:] == 0).all()
    # on pictures: a flat grey kept over flat white gives a ramp of greys across the seam
    grey, white = Image.new("RGB", (40, 1), (0, 0, 0)), Image.new("RGB", (40, 1), (255, 255, 255))
    mask = _mask(40, 1, (10, 0, 40, 1))
    row = np.asarray(keep_exact(grey, white, mask, feather=10))[0, :, 0].astype(int)
    assert (row[:10] == 0).all() and (row[20:] == 255).all() and (np.diff(row[9:21]) > 0).all()


def test_feather_zero_is_a_hard_edge():
    original, result = _noise(50, 50, 3), _noise(50, 50, 4)
    mask = _mask(50, 50, (10, 10, 40, 40))
    kept = np.asarray(keep_exact(original, result, mask, feather=0))
    assert (kept[10:40, 10:40] == np.asarray(result)[10:40, 10:40]).all()
    assert (kept[:10] == np.asarray(original)[:10]).all()


def test_a_result_of_another_size_is_composited_at_its_own_size():
    original = Image.new("RGB", (100, 100), (10, 200, 30))
    result = Image.new("RGB", (150, 100), (250, 0, 0))
    kept = keep_exact(original, result, _mask(100, 100, (50, 0, 100, 100)), feather=4)
    assert kept.size == (150, 100)
    assert tuple(np.asarray(kept)[50, 10]) == (10, 200, 30)
    assert tuple(np.asarray(kept)[50, 140]) == (250, 0, 0)


def test_drift_is_zero_for_an_exact_result():
    original = _noise(64, 64, 5)
    result = np.asarray(original).copy()
    result[20:40, 20:40] = 0                                              # only the edited part changed
    drift = measure_drift(original, Image.fromarray(result), _mask(64, 64, (20, 20, 40, 40)))
    assert drift.mean_delta_e == 0 and drift.changed_share == 0 and drift.max_delta_e == 0
    assert "exactly" in drift.sentence()


def test_drift_of_a_known_change():
    # grey 128 everywhere; the model darkened one quarter of the protected pixels to 118
    original = Image.new("RGB", (40, 40), (128, 128, 128))
    result = np.full((40, 40, 3), 128, np.uint8)
    result[:, :20] = 255                                                   # the edited half: ignored
    result[:10, 20:] = 118                                                 # 200 of the 800 protected pixels
    mask = _mask(40, 40, (0, 0, 20, 40))
    one = float(delta_e(np.array([[128, 128, 128]], np.uint8), np.array([[118, 118, 118]], np.uint8))[0])
    assert one == pytest.approx(srgb_to_lab(np.array([128, 128, 128], np.uint8))[0]
                                - srgb_to_lab(np.array([118, 118, 118], np.uint8))[0], abs=1e-3)
    drift = measure_drift(original, Image.fromarray(result), mask)
    assert drift.mean_delta_e == pytest.approx(one / 4, rel=1e-4)
    assert drift.changed_share == pytest.approx(0.25)
    assert drift.max_delta_e == pytest.approx(one, rel=1e-4)


def test_heatmap_lights_up_where_the_model_drifted_only():
    original = Image.new("RGB", (40, 40), (128, 128, 128))
    result = np.full((40, 40, 3), 128, np.uint8)
    result[:10, 30:] = 100
    heat = np.asarray(drift_heatmap(original, Image.fromarray(result), _mask(40, 40, (0, 0, 10, 10)))).astype(int)
    assert heat.shape == (40, 40, 3)
    assert (heat[:10, 30:, 0] > 200).all()                                # drifted: bright red
    assert (heat[20:, :, 0] == heat[20:, :, 1]).all()                      # untouched: grey


def test_postprocess_makes_a_kept_copy_with_the_raw_drift():
    original = _noise(64, 48, 7)
    raw = np.asarray(original).astype(int)
    raw[:, 40:] = 0                                                       # the edit
    raw[:5, :5] += 3                                                      # a little drift outside
    mask = _mask(64, 48, (40, 0, 64, 48))
    [kept] = postprocess_edit(_png(Image.fromarray(raw.clip(0, 255).astype(np.uint8))), "png", _png(original),
                              _png(mask), 4)
    assert kept.variant == "kept" and kept.format == "png" and (kept.width, kept.height) == (64, 48)
    assert kept.drift["mean_delta_e"] > 0
    with Image.open(io.BytesIO(kept.data)) as img:
        assert (np.asarray(img)[:, :40] == np.asarray(original)[:, :40]).all()
    assert postprocess_edit(b"GIF89a", "gif", _png(original), _png(mask), 4) == []


def test_the_heatmap_of_a_saved_pair_matches_the_one_from_original_and_mask():
    original = _noise(60, 40, 11)
    raw = np.asarray(original).astype(int)
    raw[:, 30:] = 255 - raw[:, 30:]                                       # the edit
    raw[:10, :10] = (raw[:10, :10] + 9).clip(0, 255)                     # drift outside
    raw_img = Image.fromarray(raw.astype(np.uint8))
    mask = _mask(60, 40, (30, 0, 60, 40))
    kept = keep_exact(original, raw_img, mask, feather=0)
    a = np.asarray(pair_heatmap(raw_img, kept))
    b = np.asarray(drift_heatmap(original, raw_img, mask))
    assert (a == b).all()


def test_drift_is_said_in_plain_words_with_the_figures_left_for_the_help():
    from imagelab.drift import Drift

    assert Drift(0.0, 0.0, 0.0).in_words() == "Outside the mask, the picture did not change at all."
    assert Drift(0.4, 0.0, 2.0).in_words() == ("Outside the mask, the picture changed by too little to see: 0% of "
                                               "its pixels there visibly.")
    assert Drift(3.2, 0.41, 9.0).in_words() == ("Outside the mask, the picture changed by a visible amount: 41% of "
                                                "its pixels there visibly.")
    assert "ΔE" not in Drift(3.2, 0.41, 9.0).in_words() and "ΔE of 3.20" in Drift(3.2, 0.41, 9.0).sentence()
