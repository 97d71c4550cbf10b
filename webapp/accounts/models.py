"""Organizations (tenants), memberships with roles, and user profiles."""

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    MARKETER = "marketer", "Marketer"
    VIEWER = "viewer", "Viewer"


# What each role may do. Admins can do everything editors and marketers can.
CAN_EDIT_CONTENT = {Role.ADMIN, Role.MARKETER, Role.EDITOR}
CAN_LAUNCH = {Role.ADMIN, Role.MARKETER}
CAN_REVIEW = {Role.ADMIN, Role.EDITOR}
CAN_MANAGE = {Role.ADMIN}


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    CHINESE = "zh", "Chinese"


class Organization(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organizations"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="unique_membership"
            )
        ]
        ordering = ["organization__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=80, blank=True)
    default_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # Small UI settings such as {"cards_per_page": 24, "theme": "light"}.
    ui_preferences = models.JSONField(default=dict, blank=True)
    # The organization the browser UI shows; the API takes ?organization= instead.
    current_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()
