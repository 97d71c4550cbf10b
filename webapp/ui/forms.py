"""Browser forms. Bounds come from the models' declared limits, so the UI, the
API and the admin refuse the same input with the same messages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from webapp.accounts.models import Language, Profile
from webapp.accounts.validation import ListLimit, clean_limited_list, split_lines
from webapp.brand.models import BRAND_VOICE_LISTS, PERSONA_LISTS, BrandVoice, Persona
from webapp.campaigns.models import (
    CAMPAIGN_LISTS,
    MAX_CAMPAIGN_PERSONAS,
    Campaign,
    CampaignStatus,
    Channel,
    ContentType,
)


class LinesField(forms.CharField):
    """A list of short strings edited as a textarea, one item per line."""

    def __init__(self, *, limit: ListLimit, item_name: str = "line", **kwargs):
        self.limit = limit
        self.item_name = item_name
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget", forms.Textarea(attrs={"rows": 4, "spellcheck": "true"})
        )
        help_text = kwargs.pop("help_text", "")
        bound = (
            f"One per line; at most {limit.max_items} lines of "
            f"{limit.max_length} characters."
        )
        kwargs["help_text"] = f"{help_text} {bound}".strip()
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        return split_lines(value or "")

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def clean(self, value):
        items = self.to_python(value)
        self.validate(items)
        try:
            return clean_limited_list(items, self.label or "list", self.limit)
        except ValidationError as exc:
            # Say "line 3" (1-based, what the person sees) instead of "[2]".
            messages = [_line_numbers(m, self.label or "list") for m in exc.messages]
            raise ValidationError(messages) from None


class ExampleCopyField(LinesField):
    """Example copy: several paragraphs, separated by a line with ``---``."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n---\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        chunks = [c.strip() for c in (value or "").replace("\r\n", "\n").split("\n---")]
        return [c.lstrip("-").strip() for c in chunks if c.lstrip("-").strip()]


def _line_numbers(message: str, label: str) -> str:
    import re

    return re.sub(
        rf"^{re.escape(label)}\[(\d+)\]",
        lambda m: f"Line {int(m.group(1)) + 1}",
        message,
    )


class OrgScopedModelForm(forms.ModelForm):
    """A model form for objects that belong to an organization.

    ``organization`` is set on the instance before validation, so the models'
    clean() sees it, and the name is checked to be unique in the organization
    (Django skips constraints on fields that are not in the form).
    """

    def __init__(self, *args, organization, **kwargs):
        self.organization = organization
        super().__init__(*args, **kwargs)
        self.instance.organization = organization

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = type(self.instance).objects.filter(
            organization=self.organization, name__iexact=name
        )
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(
                f"{name!r} is already used in this organization; choose another name"
            )
        return name


class BrandVoiceForm(OrgScopedModelForm):
    tone_words = LinesField(
        limit=BRAND_VOICE_LISTS["tone_words"],
        label="Tone words",
        help_text="E.g. warm.",
    )
    required_phrases = LinesField(
        limit=BRAND_VOICE_LISTS["required_phrases"],
        label="Required phrases",
        help_text="Candidates without them are flagged.",
    )
    banned_words = LinesField(
        limit=BRAND_VOICE_LISTS["banned_words"],
        label="Banned words",
        help_text="Never generated (sent to decoding as bad words).",
    )
    example_copy = ExampleCopyField(
        limit=BRAND_VOICE_LISTS["example_copy"],
        label="Example copy",
        help_text="Separate examples with a line containing only ---.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    allowed_domains = LinesField(
        limit=BRAND_VOICE_LISTS["allowed_domains"],
        label="Allowed link domains",
        help_text="Host names like example.com; other URLs are flagged.",
    )
    languages = forms.MultipleChoiceField(
        choices=Language.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = BrandVoice
        fields = [
            "name",
            "description",
            "tone_words",
            "required_phrases",
            "banned_words",
            "example_copy",
            "languages",
            "allowed_domains",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class PersonaForm(OrgScopedModelForm):
    interests = LinesField(limit=PERSONA_LISTS["interests"], label="Interests")
    pain_points = LinesField(limit=PERSONA_LISTS["pain_points"], label="Pain points")

    class Meta:
        model = Persona
        fields = [
            "name",
            "description",
            "age_min",
            "age_max",
            "interests",
            "pain_points",
            "locale",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"age_min": "Youngest age", "age_max": "Oldest age"}
        help_texts = {"locale": "Like en, en-US or zh-CN."}


class CampaignForm(OrgScopedModelForm):
    key_facts = LinesField(
        limit=CAMPAIGN_LISTS["key_facts"],
        label="Product key facts",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    keywords = LinesField(limit=CAMPAIGN_LISTS["keywords"], label="Keywords")
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    content_types = forms.MultipleChoiceField(
        choices=ContentType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The formats this campaign needs; generation offers these first.",
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "status",
            "language",
            "brand_voice",
            "product_name",
            "product_description",
            "key_facts",
            "keywords",
            "personas",
            "channels",
            "content_types",
        ]
        widgets = {
            "product_description": forms.Textarea(attrs={"rows": 4}),
            "personas": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, organization=organization, **kwargs)
        self.fields["brand_voice"].queryset = BrandVoice.objects.filter(
            organization=organization
        )
        self.fields["brand_voice"].empty_label = "(none)"
        self.fields["personas"].queryset = Persona.objects.filter(
            organization=organization
        )

    def clean_name(self):
        # Campaign names need not be unique; only trim them.
        return self.cleaned_data["name"].strip()

    def clean_personas(self):
        personas = self.cleaned_data["personas"]
        if len(personas) > MAX_CAMPAIGN_PERSONAS:
            raise ValidationError(
                f"A campaign can target at most {MAX_CAMPAIGN_PERSONAS} personas, "
                f"got {len(personas)}"
            )
        return personas


class CampaignFilterForm(forms.Form):
    """Search and filters of the campaign list (all optional)."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *CampaignStatus.choices]
    )
    content_type = forms.ChoiceField(
        required=False,
        label="Content type",
        choices=[("", "Any content type"), *ContentType.choices],
    )
    language = forms.ChoiceField(
        required=False, choices=[("", "Any language"), *Language.choices]
    )
    mine = forms.BooleanField(required=False, label="Only mine")


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "default_language"]
        labels = {"default_language": "Language"}
        help_texts = {"default_language": "Default language of new campaigns."}


class GenerateForm(forms.Form):
    """What to generate for a campaign; parameters are checked by GenerationParams.

    The advanced fields are optional overrides of the chosen preset; blank means
    "the preset's value". The combined parameters are validated by the same
    ``GenerationParams.from_kwargs`` the worker uses, so a launch the worker
    would refuse is refused here, next to the field at fault.
    """

    ADVANCED = (
        "max_new_tokens",
        "min_new_tokens",
        "temperature",
        "top_k",
        "top_p",
        "repetition_penalty",
        "no_repeat_ngram_size",
        "num_beams",
        "length_penalty",
        "seed",
    )

    content_type = forms.ChoiceField(label="Content type")
    persona = forms.ModelChoiceField(
        queryset=Persona.objects.none(),
        required=False,
        empty_label="(no persona)",
        label="Persona",
    )
    per_persona = forms.BooleanField(
        required=False,
        label="One set of variants per persona of the campaign",
    )
    num_candidates = forms.IntegerField(
        label="Number of candidates", min_value=1, max_value=50, initial=8
    )
    preset = forms.ChoiceField(
        label="Creativity",
        widget=forms.RadioSelect,
        initial="balanced",
    )
    # Advanced: raw decoding parameters (blank = the preset's value).
    max_new_tokens = forms.IntegerField(required=False, label="max_new_tokens")
    min_new_tokens = forms.IntegerField(required=False, label="min_new_tokens")
    temperature = forms.FloatField(required=False, label="temperature")
    top_k = forms.IntegerField(required=False, label="top_k")
    top_p = forms.FloatField(required=False, label="top_p")
    repetition_penalty = forms.FloatField(required=False, label="repetition_penalty")
    no_repeat_ngram_size = forms.IntegerField(
        required=False, label="no_repeat_ngram_size"
    )
    num_beams = forms.IntegerField(required=False, label="num_beams")
    length_penalty = forms.FloatField(required=False, label="length_penalty")
    seed = forms.IntegerField(required=False, label="seed")

    def __init__(self, *args, campaign, **kwargs):
        from webapp.generation.presets import PRESET_CHOICES

        super().__init__(*args, **kwargs)
        self.campaign = campaign
        wanted = [c for c in ContentType.choices if c[0] in campaign.content_types]
        others = [c for c in ContentType.choices if c[0] not in campaign.content_types]
        if wanted and others:
            self.fields["content_type"].choices = [
                ("This campaign", wanted),
                ("Other formats", others),
            ]
        else:
            self.fields["content_type"].choices = ContentType.choices
        if wanted:
            self.fields["content_type"].initial = wanted[0][0]
        self.fields["persona"].queryset = campaign.personas.all()
        self.fields["preset"].choices = PRESET_CHOICES
        for name in self.ADVANCED:
            self.fields[name].widget.attrs["placeholder"] = "preset"
            if isinstance(self.fields[name], forms.FloatField):
                self.fields[name].widget.attrs["step"] = "any"

    def clean(self):
        from generator.params import GenerationParams
        from webapp.generation.presets import params_for

        data = super().clean()
        if self.errors or "content_type" not in data or "preset" not in data:
            return data
        if data.get("per_persona") and data.get("persona"):
            self.add_error(
                "per_persona",
                "choose one persona or one set per persona, not both",
            )
            return data
        overrides = {name: data.get(name) for name in self.ADVANCED}
        params = params_for(data["preset"], data["content_type"], overrides)
        try:
            GenerationParams.from_kwargs(**params)
        except ValueError as exc:
            message = str(exc)
            field = message.split(" ", 1)[0]
            self.add_error(field if field in self.fields else None, message)
            return data
        data["params"] = params
        return data
