"""Every error that carries a sentence for a person hangs from one root, ``imagelab.errors.ImageLabError``."""

import importlib
import inspect
import pkgutil

import pytest

import imagelab
from imagelab.catalog import model_info
from imagelab.errors import ImageLabError
from imagelab.extend import ExtendError, plan_extend
from imagelab.masks import MaskError, mask_from_alpha_or_luma
from imagelab.svg import NotAnSvg, sanitize_svg

# Errors for the code, not for a person: a job this version cannot read, the offline server's HTTP errors,
# a storage-internal signal.
NOT_FOR_PEOPLE = {"imagelab.runs.kinds.BadJob", "imagelab.offline.protocol.APIError",
                  "imagelab.history.storage._Missing"}


def every_error_class() -> dict[str, type[BaseException]]:
    found = {}
    for module in pkgutil.walk_packages(imagelab.__path__, "imagelab."):
        if module.name.endswith("__main__") or ".migrations" in module.name:  # scripts Alembic runs, not modules
            continue
        loaded = importlib.import_module(module.name)
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__.startswith("imagelab."):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_every_error_class_of_imagelab_is_an_imagelab_error_with_its_sentence():
    classes = every_error_class()
    assert {"imagelab.history.errors.StorageError", "imagelab.inputs.InputRefused", "imagelab.masks.MaskError",
            "imagelab.extend.ExtendError", "imagelab.svg.NotAnSvg", "imagelab.client.errors.BadKey",
            "imagelab.history.boards.BoardProblem"} <= set(classes)
    outside = sorted(name for name, cls in classes.items()
                     if not issubclass(cls, ImageLabError) and name not in NOT_FOR_PEOPLE)
    assert outside == []


@pytest.mark.parametrize("refusal", [
    lambda: mask_from_alpha_or_luma(b"not a picture", (64, 64)),
    lambda: sanitize_svg(b"<html>not an svg</html>"),
    lambda: plan_extend(64, 64, (32, 32), "centre", model_info("gpt-image-1")),
], ids=["mask", "svg", "extend"])
def test_a_refusal_says_its_sentence_as_its_text(refusal):
    with pytest.raises(ImageLabError) as caught:
        refusal()
    assert isinstance(caught.value, (MaskError, NotAnSvg, ExtendError))
    assert caught.value.sentence and str(caught.value) == caught.value.sentence
