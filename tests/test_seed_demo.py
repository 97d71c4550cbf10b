"""seed_demo loads usable demo data and is idempotent."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from webapp.accounts.management.commands.seed_demo import DEMO_PASSWORD
from webapp.accounts.models import Membership, Organization, Profile, Role
from webapp.brand.models import BrandVoice, Persona
from webapp.campaigns.models import Campaign


def counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "organizations": Organization.objects.count(),
        "memberships": Membership.objects.count(),
        "profiles": Profile.objects.count(),
        "brand_voices": BrandVoice.objects.count(),
        "personas": Persona.objects.count(),
        "campaigns": Campaign.objects.count(),
        "campaign_personas": Campaign.personas.through.objects.count(),
    }


def test_seed_demo_twice_is_idempotent(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    assert first["organizations"] == 2
    assert first["campaigns"] >= 4
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first
    assert DEMO_PASSWORD in out.getvalue()
    assert "demo-viewer" in out.getvalue()


def test_seed_demo_covers_roles_languages_and_content_types(db):
    call_command("seed_demo", stdout=StringIO())
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    for user in get_user_model().objects.all():
        assert user.check_password(DEMO_PASSWORD)
    assert set(Campaign.objects.values_list("language", flat=True)) == {"en", "zh"}
    content_types = {ct for c in Campaign.objects.all() for ct in c.content_types}
    assert len(content_types) >= 5
    chinese = BrandVoice.objects.filter(languages__icontains='"zh"').first()
    assert chinese is not None and chinese.example_copy and chinese.banned_words
    assert all(v.required_phrases for v in BrandVoice.objects.all())
    # Every campaign's voice and personas belong to its own organization.
    for campaign in Campaign.objects.select_related("brand_voice"):
        assert campaign.brand_voice.organization_id == campaign.organization_id
        assert {p.organization_id for p in campaign.personas.all()} == {
            campaign.organization_id
        }
        campaign.full_clean()


def test_seed_demo_restores_changed_demo_data(db):
    call_command("seed_demo", stdout=StringIO())
    user = get_user_model().objects.get(username="demo-viewer")
    user.set_password("changed")
    user.save()
    Campaign.objects.update(status="archived")
    call_command("seed_demo", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert Campaign.objects.exclude(status="archived").exists()
