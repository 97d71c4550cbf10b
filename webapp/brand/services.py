"""Writes of brand voices and personas, shared by the API, UI, admin and tasks."""

from __future__ import annotations

from django.db import transaction

from webapp.accounts.models import Organization
from webapp.brand.models import BrandVoice, Persona

BRAND_VOICE_FIELDS = frozenset(
    {
        "name",
        "description",
        "tone_words",
        "required_phrases",
        "banned_words",
        "example_copy",
        "languages",
        "allowed_domains",
    }
)
PERSONA_FIELDS = frozenset(
    {"name", "description", "age_min", "age_max", "interests", "pain_points", "locale"}
)


def _assign(instance, allowed: frozenset[str], fields: dict) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(
            f"{type(instance).__name__} has no writable field(s) {sorted(unknown)}"
        )
    for name, value in fields.items():
        setattr(instance, name, value)


@transaction.atomic
def do_create_brand_voice(organization: Organization, **fields) -> BrandVoice:
    """Create a brand voice; ``full_clean`` normalises and bounds its lists."""
    voice = BrandVoice(organization=organization)
    _assign(voice, BRAND_VOICE_FIELDS, fields)
    voice.full_clean()
    voice.save()
    return voice


@transaction.atomic
def do_update_brand_voice(voice: BrandVoice, **fields) -> BrandVoice:
    _assign(voice, BRAND_VOICE_FIELDS, fields)
    voice.full_clean()
    voice.save()
    return voice


@transaction.atomic
def do_delete_brand_voice(voice: BrandVoice) -> None:
    """Delete a brand voice; its campaigns keep running without one."""
    voice.delete()


@transaction.atomic
def do_create_persona(organization: Organization, **fields) -> Persona:
    persona = Persona(organization=organization)
    _assign(persona, PERSONA_FIELDS, fields)
    persona.full_clean()
    persona.save()
    return persona


@transaction.atomic
def do_update_persona(persona: Persona, **fields) -> Persona:
    _assign(persona, PERSONA_FIELDS, fields)
    persona.full_clean()
    persona.save()
    return persona


@transaction.atomic
def do_delete_persona(persona: Persona) -> None:
    persona.delete()
