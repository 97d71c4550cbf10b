"""Brand voices and audience personas of an organization."""

from django.db import models

from webapp.accounts.models import Organization


class BrandVoice(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="brand_voices"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    # Lists of short strings; bounds are enforced by the serializers and forms.
    tone_words = models.JSONField(default=list, blank=True)
    required_phrases = models.JSONField(default=list, blank=True)
    banned_words = models.JSONField(default=list, blank=True)
    example_copy = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    # Domains a candidate may link to; other URLs are flagged.
    allowed_domains = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_brand_voice_name"
            )
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Persona(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="personas"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    age_min = models.PositiveSmallIntegerField(null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(null=True, blank=True)
    interests = models.JSONField(default=list, blank=True)
    pain_points = models.JSONField(default=list, blank=True)
    locale = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_persona_name"
            )
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def prompt_attributes(self) -> dict:
        """The persona as the generator's prompt format expects it."""
        attributes = {"name": self.name}
        if self.age_min is not None or self.age_max is not None:
            attributes["age"] = f"{self.age_min or ''}-{self.age_max or ''}".strip("-")
        if self.interests:
            attributes["interests"] = list(self.interests)
        if self.pain_points:
            attributes["pain_points"] = list(self.pain_points)
        if self.locale:
            attributes["locale"] = self.locale
        return attributes
