"""Template filters of the browser UI."""

from django import template

from webapp.campaigns.models import Channel, ContentType

register = template.Library()
_LABELS = {**dict(ContentType.choices), **dict(Channel.choices)}


@register.filter
def choice_labels(keys) -> str:
    """["ad_headline", "social"] -> "Ad headline, Social media" (escaped later)."""
    return ", ".join(_LABELS.get(k, k) for k in keys or [])
