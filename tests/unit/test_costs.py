import pytest

from imagelab.costs import actual, estimate, format_dollars, input_image_tokens, output_tokens_per_image, text_tokens
from imagelab.specs import GenerateSpec


def test_gpt_image_1_family_table_is_exact():
    assert output_tokens_per_image("gpt-image-1-mini", "low", "1024x1024") == (272, True)
    assert output_tokens_per_image("gpt-image-1.5", "medium", "1024x1536") == (1584, True)
    assert output_tokens_per_image("gpt-image-1.5", "high", "1536x1024") == (6208, True)


def test_gpt_image_2_points_and_approximations():
    assert output_tokens_per_image("gpt-image-2", "high", "1024x1024") == (7024, True)
    assert output_tokens_per_image("gpt-image-2", "high", "1536x1024") == (5488, True)
    assert output_tokens_per_image("gpt-image-2", "low", "1024x1024") == (196, True)
    tokens, exact = output_tokens_per_image("gpt-image-2", "medium", "1024x1024")
    assert not exact and 196 < tokens < 7024
    assert output_tokens_per_image("gpt-image-2", "high", "auto")[1] is False
    assert output_tokens_per_image("gpt-image-2", "high", "2048x2048")[0] == 7024 * 4


def test_estimate_price_and_n_and_partials():
    spec = GenerateSpec(prompt="a" * 40, model="gpt-image-1-mini", quality="low", size="1024x1024", n=3)
    est = estimate(spec)
    assert est.text_tokens == 10 and est.output_tokens == 272 * 3 and not est.approximate
    assert est.dollars == pytest.approx((10 * 2 + 816 * 8) / 1e6)
    streamed = estimate(GenerateSpec(prompt="a" * 40, model="gpt-image-1-mini", quality="low", size="1024x1024",
                                     n=3, partial_images=2))
    assert streamed.output_tokens == (272 + 200) * 3


def test_estimate_changes_with_quality():
    low = estimate(GenerateSpec(prompt="x", quality="low", size="1024x1024"))
    high = estimate(GenerateSpec(prompt="x", quality="high", size="1024x1024"))
    assert high.dollars > low.dollars * 10


def test_input_tokens_formula():
    assert input_image_tokens(1024, 1024) == 194
    assert input_image_tokens(1536, 1024) == 323
    assert input_image_tokens(1024, 1024, high_fidelity=True) == 194 + 4160


def test_actual_prices_the_usage():
    usage = {"input_tokens": 50, "input_tokens_details": {"text_tokens": 40, "image_tokens": 10},
             "output_tokens": 1000, "total_tokens": 1050}
    cost = actual(usage, "gpt-image-2")
    assert (cost.text_tokens, cost.image_input_tokens, cost.output_tokens) == (40, 10, 1000)
    assert cost.dollars == pytest.approx((40 * 5 + 10 * 8 + 1000 * 30) / 1e6)


def test_text_tokens_and_money_format():
    assert text_tokens("") == 0 and text_tokens("abcde") == 2
    assert format_dollars(0.2107) == "$0.211" and format_dollars(0.0008) == "$0.0008"
    assert format_dollars(12.5) == "$12.50"


def test_borrowed_token_tables_are_approximate():
    assert output_tokens_per_image("chatgpt-image-latest", "low", "1024x1024") == (272, False)
    assert output_tokens_per_image("gpt-image-1.5", "low", "1024x1024") == (272, True)
