"""Browser forms of model management; the services validate again on save."""

from __future__ import annotations

from django import forms

from webapp.campaigns.models import Campaign, ContentType
from webapp.models_registry.models import ModelStatus
from webapp.models_registry.services import versions_visible_to
from webapp.review.models import MAX_STARS, MIN_STARS
from webapp.training.services import NUMBER_OPTIONS


class DatasetFilterForm(forms.Form):
    min_rating = forms.TypedChoiceField(
        label="Minimum rating for SFT examples",
        choices=[(n, f"{n} stars") for n in range(MIN_STARS, MAX_STARS + 1)],
        coerce=int,
        initial=4,
    )
    since = forms.DateField(
        label="Generated on or after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label="Generated on or before",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    campaigns = forms.ModelMultipleChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        help_text="None chosen: every campaign.",
    )
    content_types = forms.MultipleChoiceField(
        choices=ContentType.choices,
        required=False,
        help_text="None chosen: every content type.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaigns"].queryset = Campaign.objects.filter(
            organization=organization
        ).order_by("name")

    def dataset_options(self) -> dict:
        data = self.cleaned_data
        return {
            "min_rating": data["min_rating"],
            "since": data["since"].isoformat() if data.get("since") else None,
            "until": data["until"].isoformat() if data.get("until") else None,
            "campaigns": [c.pk for c in data.get("campaigns") or []],
            "content_types": list(data.get("content_types") or []),
        }


def _number(name: str, label: str, integer: bool) -> forms.Field:
    default, low, high = NUMBER_OPTIONS[name]
    field = forms.IntegerField if integer else forms.FloatField
    return field(label=label, min_value=low, max_value=high, initial=default)


class LaunchTrainingForm(DatasetFilterForm):
    base_version = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="The active version",
        label="Start from",
    )
    max_steps = _number("max_steps", "Training steps", True)
    learning_rate = _number("learning_rate", "Learning rate", False)
    replay_ratio = _number(
        "replay_ratio", "Base-corpus rows replayed per feedback example", False
    )
    preference = forms.BooleanField(
        label="Also learn from preference pairs (DPO)", required=False
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, organization=organization, **kwargs)
        self.fields["base_version"].queryset = versions_visible_to(organization).filter(
            status=ModelStatus.READY
        )

    def training_options(self) -> dict:
        data = self.cleaned_data
        return {
            "max_steps": data["max_steps"],
            "learning_rate": data["learning_rate"],
            "replay_ratio": data["replay_ratio"],
            "preference": data["preference"],
            "dataset": self.dataset_options(),
        }


class CompareForm(forms.Form):
    version_a = forms.ModelChoiceField(queryset=None, label="Version A")
    version_b = forms.ModelChoiceField(queryset=None, label="Version B")
    campaign = forms.ModelChoiceField(queryset=None)
    content_type = forms.ChoiceField(choices=ContentType.choices)
    num_candidates = forms.IntegerField(
        label="Candidates per version", min_value=1, max_value=25, initial=4
    )
    seed = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        help_text="Empty: a random seed (the same for both versions).",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        versions = versions_visible_to(organization).filter(status=ModelStatus.READY)
        self.fields["version_a"].queryset = versions
        self.fields["version_b"].queryset = versions
        self.fields["campaign"].queryset = Campaign.objects.filter(
            organization=organization
        ).order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("version_a") and data.get("version_a") == data.get("version_b"):
            self.add_error("version_b", "choose two different versions to compare")
        return data


class UploadForm(forms.Form):
    name = forms.CharField(
        max_length=120,
        required=False,
        help_text="Empty: a name is made from the organization and the time.",
    )
    file = forms.FileField(
        label="Checkpoint zip",
        help_text="config.json, tokenizer.json, model.safetensors, metadata.json.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip"}),
    )


class RetrainingPolicyForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Retrain automatically")
    min_new_feedback = forms.IntegerField(
        min_value=1,
        max_value=100000,
        initial=50,
        label="After this many new rated or edited candidates",
    )
