"""Brand voices, personas and campaigns in Acme (org) and Globex (other_org)."""

import pytest

from webapp.brand.services import do_create_brand_voice, do_create_persona
from webapp.campaigns.services import do_create_campaign


@pytest.fixture
def voice(org):
    return do_create_brand_voice(
        org,
        name="Acme Friendly",
        tone_words=["warm", "direct"],
        banned_words=["cheap"],
        languages=["en"],
    )


@pytest.fixture
def persona(org):
    return do_create_persona(
        org, name="Busy parents", age_min=28, age_max=45, interests=["time saving"]
    )


@pytest.fixture
def campaign(org, voice, persona, admin_user):
    return do_create_campaign(
        org,
        admin_user,
        name="Spring launch",
        brand_voice=voice,
        personas=[persona],
        product_name="Acme Blender",
        keywords=["blender", "smoothie"],
        channels=["social"],
        content_types=["ad_headline", "slogan"],
        language="en",
    )


@pytest.fixture
def other_voice(other_org):
    return do_create_brand_voice(other_org, name="Globex Bold", languages=["en"])


@pytest.fixture
def other_persona(other_org):
    return do_create_persona(other_org, name="Globex buyers")


@pytest.fixture
def other_campaign(other_org, other_voice, other_persona, outsider):
    return do_create_campaign(
        other_org,
        outsider,
        name="Globex secret",
        brand_voice=other_voice,
        personas=[other_persona],
        product_name="Globex Widget",
        content_types=["slogan"],
    )
