"""Validation shared by models, API serializers, admin and UI forms.

Lists of short strings (keywords, facts, tone words ...) are stored in JSON
fields, so the database cannot bound them. The one function here does it, and
everything that accepts such a list calls it: the models' ``clean()``, the API's
``StringListField`` and the browser forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class ListLimit:
    """Bounds of one list-of-strings field."""

    max_items: int
    max_length: int
    # Plain values or (value, label) pairs such as ``Language.choices``.
    choices: tuple | None = None
    min_items: int = 0


def clean_string_list(
    value: object,
    *,
    name: str,
    max_items: int,
    max_length: int,
    choices: Iterable | None = None,
    min_items: int = 0,
) -> list[str]:
    """Return ``value`` as a list of stripped, de-duplicated, non-empty strings.

    Raises ``ValidationError`` with a message that names the field, the item and
    the bound, e.g. ``keywords[3] is 95 characters long; at most 80 allowed``.
    A comma- or newline-separated string is not accepted here: forms split their
    text input first, so that a stray comma inside a fact is never a surprise.
    """
    if value is None:
        value = []
    if not isinstance(value, list | tuple):
        raise ValidationError(
            f"{name} must be a list of strings, got {type(value).__name__}",
            code="not_a_list",
        )
    allowed = None
    if choices is not None:
        # Accepts plain values or Django-style (value, label) pairs.
        allowed = tuple(c[0] if isinstance(c, tuple | list) else c for c in choices)
    cleaned: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ValidationError(
                f"{name}[{index}] must be a string, got {type(item).__name__}",
                code="not_a_string",
            )
        text = item.strip()
        if not text:
            raise ValidationError(
                f"{name}[{index}] is empty; remove it or write some text",
                code="blank_item",
            )
        if len(text) > max_length:
            raise ValidationError(
                f"{name}[{index}] is {len(text)} characters long; "
                f"at most {max_length} allowed",
                code="item_too_long",
            )
        if allowed is not None and text not in allowed:
            raise ValidationError(
                f"{name}[{index}] must be one of {', '.join(allowed)}; got {text!r}",
                code="invalid_choice",
            )
        key = text.casefold()
        if key in seen:
            continue
        seen.add(key)
        cleaned.append(text)
    if len(cleaned) > max_items:
        raise ValidationError(
            f"{name} has {len(cleaned)} items; at most {max_items} allowed",
            code="too_many_items",
        )
    if len(cleaned) < min_items:
        raise ValidationError(
            f"{name} needs at least {min_items} item(s), got {len(cleaned)}",
            code="too_few_items",
        )
    return cleaned


def clean_limited_list(value: object, name: str, limit: ListLimit) -> list[str]:
    """``clean_string_list`` with the bounds of a ``ListLimit``."""
    return clean_string_list(
        value,
        name=name,
        max_items=limit.max_items,
        max_length=limit.max_length,
        choices=limit.choices,
        min_items=limit.min_items,
    )


def split_lines(text: str) -> list[str]:
    """Split a textarea's content into list items, one per line.

    For browser forms: blank lines are dropped here (a person leaves them by
    accident) and the result goes through ``clean_string_list``.
    """
    return [line for line in (text or "").splitlines() if line.strip()]


def clean_model_lists(instance: object, limits: dict[str, ListLimit]) -> None:
    """Normalise every list field of a model instance in place.

    Collects one message per field and raises them together, so the admin and
    forms show each error next to its field.
    """
    errors: dict[str, list[str]] = {}
    for field, limit in limits.items():
        try:
            setattr(
                instance,
                field,
                clean_limited_list(getattr(instance, field), field, limit),
            )
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)


_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$"
)
_LOCALE_RE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def validate_domain(value: str, name: str = "domain") -> str:
    """A bare host name such as ``example.com`` (no scheme, path or port)."""
    domain = value.strip().lower()
    if not _DOMAIN_RE.match(domain):
        raise ValidationError(
            f"{name} must be a host name like example.com, got {value!r}",
            code="invalid_domain",
        )
    return domain


def validate_locale(value: str) -> None:
    """A BCP 47-like tag such as ``en``, ``en-US`` or ``zh-CN``."""
    if value and not _LOCALE_RE.match(value):
        raise ValidationError(
            f"locale must look like en, en-US or zh-CN, got {value!r}",
            code="invalid_locale",
        )


# The preferences the browser UI stores per user, with what each may hold.
# Unknown keys are refused so the JSON column stays small and meaningful.
UI_PREFERENCE_CHOICES: dict[str, tuple[str, ...]] = {
    "theme": ("light", "dark", "system"),
    "density": ("comfortable", "compact"),
}
UI_PREFERENCE_INTS: dict[str, tuple[int, int]] = {"cards_per_page": (1, 100)}
UI_PREFERENCE_BOOLS: tuple[str, ...] = ("show_token_counts", "show_scores")


def clean_ui_preferences(value: object) -> dict:
    """Validate a user's UI preferences against the declared keys above."""
    if not isinstance(value, dict):
        raise ValidationError(
            f"ui_preferences must be an object, got {type(value).__name__}",
            code="not_an_object",
        )
    known = (
        set(UI_PREFERENCE_CHOICES) | set(UI_PREFERENCE_INTS) | set(UI_PREFERENCE_BOOLS)
    )
    cleaned: dict = {}
    for key, item in value.items():
        if key not in known:
            raise ValidationError(
                f"ui_preferences has unknown key {key!r}; "
                f"known keys: {', '.join(sorted(known))}",
                code="unknown_key",
            )
        if key in UI_PREFERENCE_CHOICES:
            options = UI_PREFERENCE_CHOICES[key]
            if item not in options:
                raise ValidationError(
                    f"ui_preferences.{key} must be one of {', '.join(options)}, "
                    f"got {item!r}",
                    code="invalid_choice",
                )
        elif key in UI_PREFERENCE_INTS:
            low, high = UI_PREFERENCE_INTS[key]
            if isinstance(item, bool) or not isinstance(item, int):
                raise ValidationError(
                    f"ui_preferences.{key} must be an integer, got {item!r}",
                    code="not_an_integer",
                )
            if not low <= item <= high:
                raise ValidationError(
                    f"ui_preferences.{key} must be in [{low}, {high}], got {item}",
                    code="out_of_range",
                )
        elif not isinstance(item, bool):
            raise ValidationError(
                f"ui_preferences.{key} must be true or false, got {item!r}",
                code="not_a_boolean",
            )
        cleaned[key] = item
    return cleaned
