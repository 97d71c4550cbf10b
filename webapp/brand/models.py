"""Brand voices and audience personas of an organization."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from webapp.accounts.models import Language, Organization
from webapp.accounts.validation import (
    ListLimit,
    clean_model_lists,
    validate_domain,
    validate_locale,
)

# Bounds of the list fields, used by the models' clean(), the API and the forms.
BRAND_VOICE_LISTS = {
    "tone_words": ListLimit(max_items=20, max_length=40),
    "required_phrases": ListLimit(max_items=20, max_length=120),
    "banned_words": ListLimit(max_items=100, max_length=80),
    "example_copy": ListLimit(max_items=20, max_length=2000),
    "languages": ListLimit(
        max_items=len(Language.values), max_length=8, choices=tuple(Language.choices)
    ),
    "allowed_domains": ListLimit(max_items=20, max_length=253),
}
PERSONA_LISTS = {
    "interests": ListLimit(max_items=30, max_length=80),
    "pain_points": ListLimit(max_items=30, max_length=200),
}
AGE_MIN, AGE_MAX = 13, 120


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

    def clean(self) -> None:
        clean_model_lists(self, BRAND_VOICE_LISTS)
        try:
            self.allowed_domains = [
                validate_domain(d, f"allowed_domains[{i}]")
                for i, d in enumerate(self.allowed_domains)
            ]
        except ValidationError as exc:
            raise ValidationError({"allowed_domains": exc.messages}) from None


class Persona(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="personas"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    age_min = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(AGE_MIN), MaxValueValidator(AGE_MAX)],
    )
    age_max = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(AGE_MIN), MaxValueValidator(AGE_MAX)],
    )
    interests = models.JSONField(default=list, blank=True)
    pain_points = models.JSONField(default=list, blank=True)
    locale = models.CharField(max_length=16, blank=True, validators=[validate_locale])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_persona_name"
            ),
            models.CheckConstraint(
                condition=models.Q(age_min__isnull=True)
                | models.Q(age_max__isnull=True)
                | models.Q(age_min__lte=models.F("age_max")),
                name="persona_age_range_ordered",
                violation_error_message="age_min must not be greater than age_max",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        clean_model_lists(self, PERSONA_LISTS)
        if (
            self.age_min is not None
            and self.age_max is not None
            and self.age_min > self.age_max
        ):
            raise ValidationError(
                {
                    "age_max": f"age_max must be at least age_min ({self.age_min}), "
                    f"got {self.age_max}"
                }
            )

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
