"""Brand-safety checks on finished candidates (webapp/generation/safety.py)."""

import pytest

from webapp.generation.safety import SafetyRules, check_candidate, find_personal_data

RULES = SafetyRules(
    required_phrases=["Acme"],
    banned_words=["cheap"],
    allowed_domains=["acme.com"],
)


def codes(text, content_type="social_post", rules=RULES):
    return [flag["code"] for flag in check_candidate(text, content_type, rules)]


@pytest.mark.parametrize(
    "text",
    [
        "Write to hello@example.org for a sample",
        "Questions? jane.doe+promo@mail.acme.co.uk",
    ],
)
def test_email_addresses_are_flagged(text):
    assert [f["code"] for f in find_personal_data(text)] == ["email"]


@pytest.mark.parametrize(
    "text",
    [
        "Call +1 415-555-0132 today",
        "Ring +44 20 7946 0958 for details",
        "Call (555) 123-4567 now",
        "咨询电话 13812345678",
        "热线 +86 139 1234 5678",
        "客服 86-137-1234-5678",
    ],
)
def test_international_and_chinese_mobile_numbers_are_flagged(text):
    flags = find_personal_data(text)
    assert [f["code"] for f in flags] == ["phone"], flags


@pytest.mark.parametrize(
    "text",
    [
        "Save 50% on 2 blenders in 2025",
        "Only 19.99 for 12 months",
        "Model X200, 1200 W, 3 speeds",
        "订单号 20241231 已发货",
    ],
)
def test_numbers_that_are_not_phone_numbers_pass(text):
    assert find_personal_data(text) == []


def test_urls_off_the_allow_list_are_flagged_and_allowed_ones_pass():
    flags = find_personal_data(
        "Shop at https://acme.com/spring, www.shop.acme.com or http://deals.evil.io/x",
        allowed_domains=["acme.com"],
    )
    assert [f["code"] for f in flags] == ["url"]
    assert "deals.evil.io" in flags[0]["message"]


def test_bare_domains_count_as_urls():
    assert [f["code"] for f in find_personal_data("Visit cheapblenders.net now")] == [
        "url"
    ]


def test_missing_required_phrase_is_flagged():
    text = "A blender that makes mornings easy, quiet and quick."
    assert codes(text) == ["missing_required_phrase"]
    assert codes("Acme: " + text) == []


def test_banned_word_variant_that_slipped_through_is_flagged():
    assert "banned_word" in codes("Acme blenders, CHEAP and cheerful, for everyone!")
    assert "banned_word" not in codes("Acme blenders, cheaper than ever for you all!")


def test_length_limits_follow_the_content_type():
    from generator.prompt import LENGTH_LIMITS

    low, high = LENGTH_LIMITS["ad_headline"]
    assert "too_short" in codes("Acme", "ad_headline")
    assert "too_long" in codes("Acme " + "x" * high, "ad_headline")
    assert codes("Acme " + "x" * (low + 1), "ad_headline") == []


def test_wide_characters_count_double_for_length():
    # "Acme " plus five CJK characters is 15 columns, over the 10 minimum.
    assert "too_short" not in codes("Acme 超级搅拌机", "ad_headline")


def test_clean_candidate_has_no_flags():
    text = "Acme blends your breakfast in seconds. See acme.com/spring for more."
    assert check_candidate(text, "social_post", RULES) == []
