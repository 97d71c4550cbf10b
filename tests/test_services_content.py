"""The do_* services and the shared list validation, without the API in between."""

import pytest
from django.core.exceptions import ValidationError

from tests.fixtures_accounts import make_user
from webapp.accounts.models import Role
from webapp.accounts.services import (
    LastAdminError,
    do_add_member,
    do_change_member_role,
    do_remove_member,
)
from webapp.accounts.validation import clean_string_list, split_lines
from webapp.brand.models import Persona
from webapp.brand.services import do_create_brand_voice, do_create_persona
from webapp.campaigns.models import Campaign
from webapp.campaigns.services import do_create_campaign, do_update_campaign


def test_clean_string_list_strips_dedupes_and_bounds():
    assert clean_string_list(
        [" a ", "A", "b"], name="tags", max_items=2, max_length=3
    ) == ["a", "b"]
    with pytest.raises(ValidationError, match=r"tags has 3 items; at most 2"):
        clean_string_list(["a", "b", "c"], name="tags", max_items=2, max_length=3)
    with pytest.raises(ValidationError, match=r"tags\[1\] is empty"):
        clean_string_list(["a", " "], name="tags", max_items=5, max_length=3)
    with pytest.raises(ValidationError, match=r"must be one of en, zh; got 'fr'"):
        clean_string_list(
            ["fr"], name="languages", max_items=2, max_length=2, choices=["en", "zh"]
        )
    with pytest.raises(ValidationError, match="must be a list of strings, got str"):
        clean_string_list("a,b", name="tags", max_items=5, max_length=3)


def test_split_lines_drops_blank_lines():
    assert split_lines("one\n\n  \ntwo\r\n") == ["one", "two"]


def test_services_validate_like_the_api(org):
    with pytest.raises(ValidationError) as error:
        do_create_brand_voice(org, name="V", banned_words=["x" * 81])
    assert "banned_words" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        do_create_persona(org, name="P", age_min=50, age_max=20)
    assert "age_max" in error.value.message_dict
    assert not Persona.objects.exists()


def test_campaign_service_refuses_other_org_persona_and_saves_nothing(
    org, other_persona, admin_user
):
    with pytest.raises(ValidationError) as error:
        do_create_campaign(
            org, admin_user, name="C", product_name="P", personas=[other_persona]
        )
    assert "personas" in error.value.message_dict
    assert not Campaign.objects.exists()


def test_campaign_service_refuses_other_org_brand_voice(campaign, other_voice):
    with pytest.raises(ValidationError) as error:
        do_update_campaign(campaign, brand_voice=other_voice)
    assert "brand_voice" in error.value.message_dict
    campaign.refresh_from_db()
    assert campaign.brand_voice_id != other_voice.pk


def test_persona_age_order_is_a_database_constraint_too(org):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Persona.objects.create(organization=org, name="Bad", age_min=60, age_max=20)


def test_last_admin_is_kept_by_every_membership_service(org, admin_user):
    with pytest.raises(LastAdminError):
        do_change_member_role(org, admin_user, Role.VIEWER)
    with pytest.raises(LastAdminError):
        do_add_member(org, admin_user, Role.EDITOR)
    with pytest.raises(LastAdminError):
        do_remove_member(org, admin_user)
    second = make_user("second-admin")
    do_add_member(org, second, Role.ADMIN)
    do_remove_member(org, admin_user)
    assert list(org.memberships.values_list("user__username", flat=True)) == [
        "second-admin"
    ]
