"""Campaigns: what is being marketed, to whom, where, and in which formats."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from webapp.accounts.models import Language, Organization
from webapp.accounts.validation import ListLimit, clean_model_lists
from webapp.brand.models import BrandVoice, Persona


class ContentType(models.TextChoices):
    """Same keys as generator.prompt.CONTENT_TYPES."""

    AD_HEADLINE = "ad_headline", "Ad headline"
    AD_DESCRIPTION = "ad_description", "Ad description"
    SLOGAN = "slogan", "Slogan"
    PRODUCT_DESCRIPTION = "product_description", "Product description"
    SOCIAL_POST = "social_post", "Social post"
    EMAIL_SUBJECT = "email_subject", "Email subject"
    VIDEO_SCRIPT = "video_script", "Video script"


class Channel(models.TextChoices):
    SEARCH = "search", "Search ads"
    SOCIAL = "social", "Social media"
    DISPLAY = "display", "Display ads"
    EMAIL = "email", "Email"
    WEBSITE = "website", "Website"
    VIDEO = "video", "Video"
    MARKETPLACE = "marketplace", "Marketplace"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


CAMPAIGN_LISTS = {
    "key_facts": ListLimit(max_items=30, max_length=300),
    "keywords": ListLimit(max_items=50, max_length=80),
    "channels": ListLimit(
        max_items=len(Channel.values), max_length=16, choices=tuple(Channel.choices)
    ),
    "content_types": ListLimit(
        max_items=len(ContentType.values),
        max_length=32,
        choices=tuple(ContentType.choices),
    ),
}
MAX_CAMPAIGN_PERSONAS = 20


class Campaign(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(max_length=160)
    brand_voice = models.ForeignKey(
        BrandVoice,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    product_name = models.CharField(max_length=120)
    product_description = models.TextField(max_length=4000, blank=True)
    key_facts = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    personas = models.ManyToManyField(Persona, blank=True, related_name="campaigns")
    channels = models.JSONField(default=list, blank=True)
    content_types = models.JSONField(default=list, blank=True)
    language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_campaigns",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        clean_model_lists(self, CAMPAIGN_LISTS)
        if (
            self.brand_voice_id is not None
            and self.organization_id is not None
            and self.brand_voice.organization_id != self.organization_id
        ):
            message = "brand_voice must belong to the campaign's organization"
            raise ValidationError({"brand_voice": message})
