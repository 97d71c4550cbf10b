"""Writes of campaigns, shared by the API, UI, admin and tasks."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from webapp.accounts.models import Organization
from webapp.brand.models import Persona
from webapp.campaigns.models import MAX_CAMPAIGN_PERSONAS, Campaign, CampaignStatus

CAMPAIGN_FIELDS = frozenset(
    {
        "name",
        "brand_voice",
        "product_name",
        "product_description",
        "key_facts",
        "keywords",
        "channels",
        "content_types",
        "language",
        "status",
        "owner",
    }
)


def _check_personas(campaign: Campaign, personas: Iterable[Persona]) -> list[Persona]:
    personas = list(dict.fromkeys(personas))
    if len(personas) > MAX_CAMPAIGN_PERSONAS:
        raise ValidationError(
            {
                "personas": f"a campaign may target at most {MAX_CAMPAIGN_PERSONAS} "
                f"personas, got {len(personas)}"
            }
        )
    foreign = [
        p.name for p in personas if p.organization_id != campaign.organization_id
    ]
    if foreign:
        raise ValidationError(
            {
                "personas": "personas must belong to the campaign's organization: "
                + ", ".join(foreign)
            }
        )
    return personas


def _assign(campaign: Campaign, fields: dict) -> None:
    unknown = set(fields) - CAMPAIGN_FIELDS
    if unknown:
        raise TypeError(f"Campaign has no writable field(s) {sorted(unknown)}")
    for name, value in fields.items():
        setattr(campaign, name, value)


@transaction.atomic
def do_create_campaign(
    organization: Organization,
    owner: AbstractBaseUser | None,
    *,
    personas: Iterable[Persona] = (),
    **fields,
) -> Campaign:
    """Create a campaign with its personas; everything or nothing is saved."""
    campaign = Campaign(organization=organization, owner=owner)
    _assign(campaign, fields)
    campaign.full_clean()
    personas = _check_personas(campaign, personas)
    campaign.save()
    campaign.personas.set(personas)
    return campaign


@transaction.atomic
def do_update_campaign(
    campaign: Campaign, *, personas: Iterable[Persona] | None = None, **fields
) -> Campaign:
    """Update fields and, when given, replace the personas."""
    _assign(campaign, fields)
    campaign.full_clean()
    if personas is not None:
        personas = _check_personas(campaign, personas)
    campaign.save()
    if personas is not None:
        campaign.personas.set(personas)
    return campaign


def do_set_campaign_status(campaign: Campaign, status: CampaignStatus) -> Campaign:
    return do_update_campaign(campaign, status=status)


@transaction.atomic
def do_delete_campaign(campaign: Campaign) -> None:
    campaign.delete()
