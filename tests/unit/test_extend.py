"""Extending a canvas: the size sent, where the picture sits, the padded picture and its mask."""

import io

import numpy as np
import pytest
from PIL import Image

from imagelab.catalog import model_info
from imagelab.extend import ExtendError, aspect_canvas, extend_mask, padded_picture, plan_extend

CUSTOM = model_info("gpt-image-2")
STANDARD = model_info("gpt-image-1.5")


def _alpha(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        assert img.mode == "RGBA"
        return np.asarray(img.getchannel("A"))


def _picture(w, h, seed=1):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def test_square_to_landscape_on_the_left_keeps_the_picture_where_it_was():
    plan = plan_extend(1024, 1024, (1536, 1024), "left", CUSTOM)
    assert (plan.width, plan.height, plan.left, plan.top, plan.picture, plan.scale) == (1536, 1024, 0, 0,
                                                                                          (1024, 1024), 1.0)
    assert plan.notes == ()
    pic = _picture(1024, 1024)
    padded = np.asarray(padded_picture(pic, plan))
    assert padded.shape == (1024, 1536, 3)
    assert (padded[:, :1024] == np.asarray(pic)).all()
    # the new area continues the picture's right-hand column
    assert (padded[:, 1024:] == np.asarray(pic)[:, 1023:1024]).all()
    alpha = _alpha(extend_mask(plan))
    assert alpha.shape == (1024, 1536)
    assert (alpha[:, :1024] == 255).all() and (alpha[:, 1024:] == 0).all()


@pytest.mark.parametrize("placement,left,top", [("centre", 256, 0), ("right", 512, 0), ("left", 0, 0)])
def test_placements_along_the_width(placement, left, top):
    plan = plan_extend(1024, 1024, (1536, 1024), placement, CUSTOM)
    assert (plan.left, plan.top) == (left, top)
    alpha = _alpha(extend_mask(plan))
    assert (alpha[:, left:left + 1024] == 255).all()
    assert (alpha == 0).sum() == 512 * 1024


def test_a_corner_on_a_bigger_canvas():
    plan = plan_extend(800, 600, (1200, 900), "bottom right", CUSTOM)
    assert (plan.width, plan.height) == (1200, 912)          # 900 is rounded up to a multiple of 16
    assert (plan.left, plan.top) == (400, 312)
    assert any("multiples of 16" in n for n in plan.notes)
    alpha = _alpha(extend_mask(plan))
    assert (alpha[312:, 400:] == 255).all() and (alpha[:312] == 0).all() and (alpha[:, :400] == 0).all()


def test_aspect_presets_grow_the_picture_never_crop_it():
    assert aspect_canvas(1024, 1024, (16, 9)) == (1821, 1024)
    assert aspect_canvas(1024, 1024, (9, 16)) == (1024, 1821)
    assert aspect_canvas(1536, 1024, (1, 1)) == (1536, 1536)
    assert aspect_canvas(1024, 1024, (4, 5)) == (1024, 1280)


def test_a_canvas_above_the_model_limit_scales_the_picture_and_says_so():
    plan = plan_extend(2000, 2000, (4000, 2000), "centre", CUSTOM)
    assert plan.width % 16 == 0 and plan.height % 16 == 0
    assert plan.width <= 3840 and plan.height <= 2160 and plan.width * plan.height <= 8_294_400
    assert plan.scale < 1 and plan.picture[0] <= plan.width
    assert any("scaled to" in n for n in plan.notes)
    padded = padded_picture(_picture(2000, 2000), plan)
    assert padded.size == (plan.width, plan.height)


def test_a_model_with_standard_sizes_gets_the_nearest_shape_and_a_warning():
    plan = plan_extend(1024, 1024, (1821, 1024), "centre", STANDARD)
    assert (plan.width, plan.height) == (1536, 1024)
    assert plan.scale == pytest.approx(1536 / 1821)
    assert len(plan.notes) == 2  # another shape, and the scaling


@pytest.mark.parametrize("target,words", [((1000, 1024), "smaller than the picture"),
                                          ((1024, 1024), "own size"), ((4000, 1024), "3:1")])
def test_a_canvas_that_cannot_be_made_gets_a_sentence(target, words):
    with pytest.raises(ExtendError) as err:
        plan_extend(1024, 1024, target, "left", CUSTOM)
    assert words in err.value.sentence
