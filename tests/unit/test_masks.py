"""Masks from canvas strokes and uploads: checked pixel by pixel."""

import io

import numpy as np
import pytest
from PIL import Image

from imagelab.masks import (
    CanvasFit,
    MaskError,
    canvas_fit,
    markup_from_strokes,
    mask_edit_fraction,
    mask_from_alpha_or_luma,
    mask_from_black_and_white,
    mask_from_model_drawing,
    mask_from_strokes,
    mask_preview,
    validate_mask,
)


def _open(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def _alpha(png: bytes) -> np.ndarray:
    img = _open(png)
    assert img.format == "PNG" and img.mode == "RGBA"
    return np.asarray(img.getchannel("A"))


def _canvas(w, h):
    return np.zeros((h, w, 4), dtype=np.uint8)


def _paint(canvas, x0, y0, x1, y1, rgba=(255, 0, 0, 255)):
    canvas[y0:y1, x0:x1] = rgba
    return canvas


def _png(img: Image.Image, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


# ----------------------------------------------------------------- canvas_fit


def test_canvas_fit_same_aspect_fills_canvas():
    fit = canvas_fit((1536, 1024), (600, 400))
    assert fit == CanvasFit(0.0, 0.0, 600.0, 400.0)


def test_canvas_fit_letterboxes_portrait_into_square():
    fit = canvas_fit((1024, 1536), (500, 500))
    assert fit.top == 0 and fit.height == 500
    assert fit.width == pytest.approx(1024 * 500 / 1536)
    assert fit.left == pytest.approx((500 - fit.width) / 2)


def test_canvas_fit_from_background_fit_dict_matches():
    fit = canvas_fit((1024, 1536), (500, 500))
    scale = 500 / 1536
    bg = {"natural_width": 1024, "natural_height": 1536, "scale_x": scale, "scale_y": scale,
          "offset_x": (500 - 1024 * scale) / 2, "offset_y": 0.0}
    other = CanvasFit.from_background_fit(bg)
    assert other.left == pytest.approx(fit.left) and other.width == pytest.approx(fit.width)
    fab = CanvasFit.from_fabric_background({"width": 1024, "height": 1536, "scaleX": scale,
                                            "scaleY": scale, "left": fit.left, "top": 0})
    assert fab.height == pytest.approx(500)


# ----------------------------------------------------------------- strokes -> mask


def test_strokes_landscape_canvas_maps_to_image_pixels():
    canvas = _paint(_canvas(600, 400), 100, 50, 200, 150)  # canvas px; x2.56 to the image
    png = mask_from_strokes(canvas, (1536, 1024))
    a = _alpha(png)
    assert a.shape == (1024, 1536)
    assert set(np.unique(a)) == {0, 255}
    assert a[int(100 * 2.56), int(150 * 2.56)] == 0  # canvas centre of the painted box
    assert a[900, 1400] == 255 and a[0, 0] == 255
    # the painted region is the box scaled: x in [256, 512), y in [128, 384)
    assert a[128:384, 257:511].max() == 0
    assert a[:126, :].min() == 255 and a[:, 514:].min() == 255
    rgb = np.asarray(_open(png).convert("RGB"))
    assert rgb.max() == 0


def test_strokes_letterboxed_portrait_offset_respected():
    image = (1024, 1536)
    fit = canvas_fit(image, (500, 500))  # image drawn at x ~ 83.3 .. 416.7
    canvas = _canvas(500, 500)
    _paint(canvas, 0, 0, 80, 500)  # only in the left margin: ignored
    _paint(canvas, 90, 10, 110, 30)  # top-left corner of the picture
    a = _alpha(mask_from_strokes(canvas, image, fit=fit))
    assert a.shape == (1536, 1024)
    s = 1536 / 500
    x = int((100 - fit.left) * s)
    y = int(20 * s)
    assert a[y, x] == 0
    assert a[y, 0] == 255  # image column 0 is canvas x ~83.4, not painted
    assert a[1500, 1000] == 255
    # painted region starts at canvas x=90 -> image x ~ (90 - 83.33) * 3.072 ~ 20.5
    assert a[y, 25] == 0 and a[y, 17] == 255


def test_strokes_without_fit_would_be_wrong_by_the_offset():
    image = (1024, 1536)
    fit = canvas_fit(image, (500, 500))
    canvas = _paint(_canvas(500, 500), 240, 240, 260, 260)  # centre of canvas = centre of image
    a_fit = _alpha(mask_from_strokes(canvas, image, fit=fit))
    assert a_fit[768, 512] == 0


def test_invert_swaps_meaning():
    canvas = _paint(_canvas(600, 400), 100, 50, 200, 150)
    a = _alpha(mask_from_strokes(canvas, (1536, 1024), invert=True))
    assert a[256, 384] == 255 and a[900, 1400] == 0 and a[0, 0] == 0


def test_antialiased_edge_counts_as_painted_and_empty_canvas_is_opaque():
    canvas = _canvas(100, 100)
    canvas[10, 10] = (255, 255, 255, 1)
    a = _alpha(mask_from_strokes(canvas, (100, 100)))
    assert a[10, 10] == 0 and (a == 0).sum() == 1
    assert _alpha(mask_from_strokes(None, (64, 32))).shape == (32, 64)
    assert _alpha(mask_from_strokes(_canvas(10, 10), (64, 32))).min() == 255


def test_odd_sizes_exact_dimensions():
    for image, canvas_size in [((1000, 999), (333, 777)), ((17, 3), (600, 400)), ((3840, 2160), (640, 360))]:
        fit = canvas_fit(image, canvas_size)
        canvas = _paint(_canvas(*canvas_size), 0, 0, canvas_size[0], canvas_size[1])
        a = _alpha(mask_from_strokes(canvas, image, fit=fit))
        assert a.shape == (image[1], image[0])
        assert a.max() == 0  # all of the picture area was painted


def test_many_strokes_on_a_half_size_canvas_map_to_every_picture_pixel():
    """Forty strokes on a 768x512 canvas over a 1536x1024 picture: each canvas pixel covers a 2x2
    block of the picture, painted blocks transparent, the rest opaque. (Its speed is in the bench.)"""
    canvas = _canvas(768, 512)
    rng = np.random.default_rng(0)
    for _ in range(40):
        x, y = rng.integers(0, 700), rng.integers(0, 450)
        _paint(canvas, x, y, x + 60, y + 40)
    painted = canvas[..., 3] > 0
    assert 0.05 < painted.mean() < 0.95  # a real mix of painted and untouched
    a = _alpha(mask_from_strokes(canvas, (1536, 1024), fit=canvas_fit((1536, 1024), (768, 512))))
    assert a.shape == (1024, 1536)
    expected = np.where(painted.repeat(2, axis=0).repeat(2, axis=1), 0, 255)
    assert (a == expected).all()


def test_markup_keeps_colours_and_transparency():
    canvas = _paint(_canvas(600, 400), 100, 50, 200, 150, rgba=(0, 200, 50, 255))
    png = markup_from_strokes(canvas, (1536, 1024))
    img = _open(png)
    assert img.mode == "RGBA" and img.size == (1536, 1024)
    arr = np.asarray(img)
    assert tuple(arr[256, 384]) == (0, 200, 50, 255)
    assert tuple(arr[900, 1400]) == (0, 0, 0, 0)


def test_markup_letterboxed():
    image = (1024, 1536)
    fit = canvas_fit(image, (500, 500))
    canvas = _paint(_canvas(500, 500), 0, 0, 80, 500, rgba=(0, 0, 255, 255))  # margin only
    _paint(canvas, 240, 240, 260, 260, rgba=(255, 255, 0, 255))
    arr = np.asarray(_open(markup_from_strokes(canvas, image, fit=fit)))
    assert arr.shape == (1536, 1024, 4)
    assert tuple(arr[768, 512]) == (255, 255, 0, 255)
    assert arr[:, :5, 3].max() == 0  # margin strokes not carried over


# ----------------------------------------------------------------- uploads


def _bw(size, box, white_box=True):
    img = Image.new("L", size, 0 if white_box else 255)
    img.paste(255 if white_box else 0, box)
    return img


def test_black_and_white_white_is_edit():
    data = _png(_bw((200, 100), (10, 10, 50, 50)))
    a = _alpha(mask_from_black_and_white(data, (200, 100)))
    assert a[20, 20] == 0 and a[80, 150] == 255


def test_black_and_white_black_is_edit_and_resized():
    data = _png(_bw((100, 50), (10, 10, 30, 30), white_box=False).convert("RGB"), "JPEG")
    a = _alpha(mask_from_black_and_white(data, (400, 200), edit_colour="black"))
    assert a.shape == (200, 400)
    assert a[80, 80] == 0 and a[180, 350] == 255
    assert set(np.unique(a)) == {0, 255}


def test_black_and_white_transparent_counts_as_keep():
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    img.paste((255, 255, 255, 255), (0, 0, 10, 10))
    a = _alpha(mask_from_black_and_white(_png(img), (50, 50)))
    assert a[5, 5] == 0 and a[40, 40] == 255
    a = _alpha(mask_from_black_and_white(_png(img), (50, 50), edit_colour="black"))
    assert a[5, 5] == 255 and a[40, 40] == 255


def test_alpha_or_luma_reads_an_api_mask_as_is():
    api = Image.new("RGBA", (40, 40), (0, 0, 0, 255))
    api.paste((0, 0, 0, 0), (0, 0, 20, 20))
    png, how = mask_from_alpha_or_luma(_png(api), (80, 80))
    assert how == "alpha"
    a = _alpha(png)
    assert a[10, 10] == 0 and a[70, 70] == 255
    png, how = mask_from_alpha_or_luma(_png(_bw((40, 40), (0, 0, 20, 20))), (40, 40))
    assert how == "luma" and _alpha(png)[5, 5] == 0


def test_model_drawing_subject_transparent():
    drawing = Image.new("RGB", (1024, 1024), "black")
    drawing.paste((250, 250, 250), (256, 256, 768, 768))
    a = _alpha(mask_from_model_drawing(_png(drawing), (1536, 1024)))
    assert a.shape == (1024, 1536)
    assert a[512, 768] == 0 and a[10, 10] == 255
    assert set(np.unique(a)) == {0, 255}
    grown = _alpha(mask_from_model_drawing(_png(drawing), (1024, 1024), grow_px=4))
    assert grown[253, 512] == 0 and grown[240, 512] == 255


def test_unreadable_mask_upload():
    with pytest.raises(MaskError) as e:
        mask_from_black_and_white(b"nope", (10, 10))
    assert "PNG" in e.value.sentence


# ----------------------------------------------------------------- preview and checks


def test_preview_tints_only_the_editable_area():
    image = _png(Image.new("RGB", (60, 40), (0, 0, 255)))
    canvas = _paint(_canvas(60, 40), 0, 0, 30, 40)
    mask = mask_from_strokes(canvas, (60, 40))
    prev = np.asarray(_open(mask_preview(image, mask, colour=(255, 0, 0), opacity=0.5)).convert("RGB"))
    assert prev.shape == (40, 60, 3)
    assert np.abs(prev[20, 10].astype(int) - (128, 0, 128)).max() <= 1
    assert tuple(prev[20, 50]) == (0, 0, 255)
    assert mask_edit_fraction(mask) == pytest.approx(0.5)


def test_preview_of_a_big_photo_is_display_sized_and_tinted_in_place():
    photo = io.BytesIO()
    Image.new("RGB", (4000, 3000), (0, 0, 255)).save(photo, "JPEG", quality=90)
    mask = mask_from_strokes(_paint(_canvas(40, 30), 0, 0, 20, 30), (4000, 3000))  # left half to edit
    prev = _open(mask_preview(photo.getvalue(), mask, colour=(255, 0, 0), opacity=0.5, max_side=800))
    assert prev.size == (800, 600)
    px = np.asarray(prev.convert("RGB"), dtype=int)
    assert np.abs(px[300, 200] - (128, 0, 128)).max() <= 3     # tinted on the left
    assert np.abs(px[300, 600] - (0, 0, 255)).max() <= 3       # untouched on the right


def test_validate_mask_good():
    mask = mask_from_strokes(_paint(_canvas(10, 10), 0, 0, 5, 5), (100, 100))
    assert validate_mask(mask, (100, 100)) == []


def test_validate_mask_sentences():
    opaque = mask_from_strokes(_canvas(10, 10), (100, 100))
    assert validate_mask(opaque, (100, 100)) == [
        "Paint over the part to change: the mask has no transparent area."]
    msgs = validate_mask(opaque, (200, 100))
    assert any("100x100" in m and "200x100" in m and "same size" in m for m in msgs)
    no_alpha = _png(Image.new("RGB", (100, 100)))
    assert any("no alpha channel" in m for m in validate_mask(no_alpha, (100, 100)))
    jpeg = _png(Image.new("RGB", (100, 100)), "JPEG")
    assert any("must be a PNG" in m for m in validate_mask(jpeg, (100, 100)))
    assert any("not an image" in m for m in validate_mask(b"xx", (100, 100)))


def test_validate_mask_fully_transparent_is_only_a_note():
    full = mask_from_strokes(_canvas(10, 10), (50, 50), invert=True)
    assert validate_mask(full, (50, 50)) == ["The mask is fully transparent, so the whole image may change."]
    assert validate_mask(full, (50, 50), include_notes=False) == []


def test_validate_mask_partial_alpha_and_size_limit():
    img = Image.new("RGBA", (20, 20), (0, 0, 0, 255))
    img.paste((0, 0, 0, 0), (0, 0, 5, 5))
    img.paste((0, 0, 0, 100), (10, 10, 20, 20))
    msgs = validate_mask(_png(img), (20, 20))
    assert msgs == ["25.0% of the mask is only partly transparent; only fully transparent pixels are edited."]
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (1200, 1200, 4), dtype=np.uint8))
    big = _png(noise)
    assert len(big) > 4_000_000
    assert any("under 4 MB" in m for m in validate_mask(big, (1200, 1200)))


def test_mask_png_round_trips_random_pattern_exactly():
    rng = np.random.default_rng(7)
    canvas = _canvas(97, 61)
    canvas[:, :, 3] = rng.integers(0, 2, (61, 97)) * 255
    a = _alpha(mask_from_strokes(canvas, (97, 61)))
    assert np.array_equal(a == 0, canvas[:, :, 3] > 0)


def test_eraser_strokes_take_paint_away_where_drawn_later():
    import io as _io

    import numpy as _np
    from PIL import Image as _Image

    from imagelab.masks import mask_from_strokes, paint_minus_eraser

    paint, eraser = (255, 0, 80), (0, 160, 255)
    canvas = _np.zeros((100, 100, 4), _np.uint8)
    canvas[10:60, 10:60] = (*paint, 150)            # painted square
    canvas[30:60, 30:60] = (60, 110, 200, 214)      # eraser composited over it: nearer the eraser colour
    canvas[70:90, 70:90] = (*eraser, 150)           # eraser over nothing
    kept = paint_minus_eraser(canvas, paint, eraser)
    mask = _np.asarray(_Image.open(_io.BytesIO(mask_from_strokes(kept, (200, 200)))))
    assert mask[40, 40, 3] == 0          # painted, not erased -> edit
    assert mask[100, 100, 3] == 255      # erased -> keep
    assert mask[160, 160, 3] == 255      # eraser alone -> keep
    assert mask[5, 5, 3] == 255          # never touched -> keep
