"""Load the demo data: two organizations, a user per role, voices, personas, campaigns.

Idempotent: objects are looked up by their natural keys (username, slug,
organization + name) and updated in place, so running it again changes no
counts. Writes go through the same ``do_*`` services as the API and UI.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from webapp.accounts.models import Membership, Organization, Role
from webapp.accounts.services import do_add_member, do_update_profile
from webapp.brand.models import BrandVoice, Persona
from webapp.brand.services import (
    do_create_brand_voice,
    do_create_persona,
    do_update_brand_voice,
    do_update_persona,
)
from webapp.campaigns.models import Campaign
from webapp.campaigns.services import do_create_campaign, do_update_campaign

DEMO_PASSWORD = "copydesk-demo"

ORGANIZATIONS = {
    "northwind": "Northwind Coffee",
    "lumen": "Lumen Skincare",
}

# username -> (display name, default language, staff?, {org slug: role})
USERS = {
    "demo-admin": ("Alex Admin", "en", True, {"northwind": Role.ADMIN}),
    "demo-editor": ("李娜 (Editor)", "zh", False, {"northwind": Role.EDITOR}),
    "demo-marketer": (
        "Maya Marketer",
        "en",
        False,
        {"northwind": Role.MARKETER, "lumen": Role.VIEWER},
    ),
    "demo-viewer": ("Victor Viewer", "en", False, {"northwind": Role.VIEWER}),
    "lumen-admin": ("Lena Lumen", "en", False, {"lumen": Role.ADMIN}),
    "lumen-marketer": ("王伟 (Marketer)", "zh", False, {"lumen": Role.MARKETER}),
}

BRAND_VOICES = {
    "northwind": [
        {
            "name": "Northwind Warm",
            "description": "Friendly, knowledgeable baristas talking to regulars.",
            "tone_words": ["warm", "friendly", "confident"],
            "required_phrases": ["Roasted in small batches"],
            "banned_words": ["cheap", "best ever", "guaranteed"],
            "example_copy": [
                "Start your morning with beans roasted in small batches, just days "
                "ago.",
                "Coffee that tastes like the hillside it came from.",
                "Your new favourite cup is one click away.",
            ],
            "languages": ["en"],
            "allowed_domains": ["northwind.example"],
        },
        {
            "name": "北风 亲切",
            "description": "面向中国城市白领的亲切、专业的咖啡品牌语气。",
            "tone_words": ["亲切", "专业", "温暖"],
            "required_phrases": ["小批量烘焙"],
            "banned_words": ["最便宜", "第一", "绝对"],
            "example_copy": [
                "每一杯都来自小批量烘焙的新鲜咖啡豆。",
                "清晨的第一口，唤醒整座城市。",
            ],
            "languages": ["zh"],
            "allowed_domains": ["northwind.example"],
        },
    ],
    "lumen": [
        {
            "name": "Lumen Clinical",
            "description": "Calm, precise and reassuring; never over-promises.",
            "tone_words": ["calm", "precise", "reassuring"],
            "required_phrases": ["Dermatologist tested"],
            "banned_words": ["miracle", "cure", "anti-aging"],
            "example_copy": [
                "Dermatologist tested care for skin that reacts to everything.",
                "Three ingredients. No fragrance. Nothing to hide.",
            ],
            "languages": ["en", "zh"],
            "allowed_domains": ["lumen.example"],
        }
    ],
}

PERSONAS = {
    "northwind": [
        {
            "name": "Remote workers",
            "description": "Work from home and make coffee between calls.",
            "age_min": 25,
            "age_max": 40,
            "interests": ["home office", "specialty coffee", "productivity"],
            "pain_points": ["afternoon slump", "bland supermarket coffee"],
            "locale": "en-US",
        },
        {
            "name": "Gift shoppers",
            "description": "Looking for a thoughtful present for a coffee lover.",
            "age_min": 30,
            "age_max": 60,
            "interests": ["gifts", "food"],
            "pain_points": ["running out of gift ideas"],
            "locale": "en-GB",
        },
        {
            "name": "上海白领",
            "description": "在上海工作的年轻白领，注重品质与效率。",
            "age_min": 22,
            "age_max": 35,
            "interests": ["精品咖啡", "健身", "旅行"],
            "pain_points": ["通勤时间长", "下午犯困"],
            "locale": "zh-CN",
        },
    ],
    "lumen": [
        {
            "name": "Sensitive skin",
            "description": "Skin that reacts to fragrance and harsh actives.",
            "age_min": 18,
            "age_max": 45,
            "interests": ["skincare", "clean beauty"],
            "pain_points": ["redness", "irritation from fragrance"],
            "locale": "en-US",
        }
    ],
}

CAMPAIGNS = {
    "northwind": [
        {
            "name": "Spring Single-Origin Launch",
            "brand_voice": "Northwind Warm",
            "personas": ["Remote workers"],
            "product_name": "Ethiopia Yirgacheffe",
            "product_description": "A washed single-origin coffee with notes of "
            "jasmine, lemon and honey.",
            "key_facts": [
                "Roasted in small batches every Monday",
                "Ships within 48 hours of roasting",
                "Notes of jasmine, lemon and honey",
            ],
            "keywords": ["single origin", "Ethiopian coffee", "fresh roast"],
            "channels": ["search", "social"],
            "content_types": ["ad_headline", "ad_description", "social_post"],
            "language": "en",
            "status": "active",
        },
        {
            "name": "Holiday Gift Box",
            "brand_voice": "Northwind Warm",
            "personas": ["Gift shoppers"],
            "product_name": "Northwind Discovery Box",
            "product_description": "Four 100 g bags from four continents in a "
            "recyclable gift box.",
            "key_facts": ["Four origins", "Recyclable packaging", "Gift note included"],
            "keywords": ["coffee gift", "gift box"],
            "channels": ["email", "website"],
            "content_types": ["email_subject", "product_description", "slogan"],
            "language": "en",
            "status": "draft",
        },
        {
            "name": "冷萃咖啡上市",
            "brand_voice": "北风 亲切",
            "personas": ["上海白领"],
            "product_name": "北风冷萃咖啡",
            "product_description": "低温慢萃 12 小时，口感顺滑，低酸度。",
            "key_facts": ["低温慢萃 12 小时", "每瓶 250 毫升", "无添加糖"],
            "keywords": ["冷萃", "精品咖啡", "提神"],
            "channels": ["social", "video", "marketplace"],
            "content_types": ["slogan", "social_post", "video_script"],
            "language": "zh",
            "status": "active",
        },
    ],
    "lumen": [
        {
            "name": "Barrier Serum Launch",
            "brand_voice": "Lumen Clinical",
            "personas": ["Sensitive skin"],
            "product_name": "Lumen Barrier Serum",
            "product_description": "A fragrance-free serum with ceramides and "
            "niacinamide.",
            "key_facts": ["Fragrance free", "Ceramides and niacinamide", "30 ml"],
            "keywords": ["sensitive skin serum", "ceramides"],
            "channels": ["search", "display", "email"],
            "content_types": ["ad_headline", "product_description", "email_subject"],
            "language": "en",
            "status": "active",
        },
        {
            "name": "Summer SPF",
            "brand_voice": "Lumen Clinical",
            "personas": ["Sensitive skin"],
            "product_name": "Lumen Mineral SPF 50",
            "key_facts": ["Mineral filters only", "No white cast"],
            "keywords": ["mineral sunscreen"],
            "channels": ["social"],
            "content_types": ["slogan", "ad_description"],
            "language": "en",
            "status": "paused",
        },
        {
            "name": "夏季防晒",
            "brand_voice": "Lumen Clinical",
            "personas": ["Sensitive skin"],
            "product_name": "Lumen 矿物防晒霜 SPF 50",
            "key_facts": ["纯物理防晒", "不泛白"],
            "keywords": ["防晒", "敏感肌"],
            "channels": ["social", "marketplace"],
            "content_types": ["slogan", "social_post"],
            "language": "zh",
            "status": "draft",
        },
    ],
}


class Command(BaseCommand):
    help = "Create or refresh the demo organizations, users and content."

    @transaction.atomic
    def handle(self, *args, **options):
        organizations = {
            slug: Organization.objects.update_or_create(
                slug=slug, defaults={"name": name}
            )[0]
            for slug, name in ORGANIZATIONS.items()
        }
        User = get_user_model()
        for username, (display, language, staff, roles) in USERS.items():
            user, _ = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = staff
            user.save()
            for slug, role in roles.items():
                do_add_member(organizations[slug], user, role)
            do_update_profile(
                user,
                display_name=display,
                default_language=language,
                current_organization=organizations[next(iter(roles))],
            )
        owner = User.objects.get(username="demo-marketer")
        lumen_owner = User.objects.get(username="lumen-marketer")
        for slug, organization in organizations.items():
            for data in BRAND_VOICES[slug]:
                data = dict(data)
                voice = BrandVoice.objects.filter(
                    organization=organization, name=data["name"]
                ).first()
                if voice is None:
                    do_create_brand_voice(organization, **data)
                else:
                    do_update_brand_voice(voice, **data)
            for data in PERSONAS[slug]:
                persona = Persona.objects.filter(
                    organization=organization, name=data["name"]
                ).first()
                if persona is None:
                    do_create_persona(organization, **data)
                else:
                    do_update_persona(persona, **data)
            for data in CAMPAIGNS[slug]:
                data = dict(data)
                data["brand_voice"] = BrandVoice.objects.get(
                    organization=organization, name=data["brand_voice"]
                )
                personas = list(
                    Persona.objects.filter(
                        organization=organization, name__in=data.pop("personas")
                    )
                )
                campaign = Campaign.objects.filter(
                    organization=organization, name=data["name"]
                ).first()
                campaign_owner = owner if slug == "northwind" else lumen_owner
                if campaign is None:
                    do_create_campaign(
                        organization, campaign_owner, personas=personas, **data
                    )
                else:
                    do_update_campaign(
                        campaign, personas=personas, owner=campaign_owner, **data
                    )
        self._report(organizations)

    def _report(self, organizations):
        out = self.stdout
        out.write(self.style.SUCCESS("Demo data ready."))
        for organization in organizations.values():
            out.write(
                f"  {organization.name}: {organization.brand_voices.count()} brand "
                f"voices, {organization.personas.count()} personas, "
                f"{organization.campaigns.count()} campaigns"
            )
        out.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        memberships = Membership.objects.filter(
            user__username__in=USERS
        ).select_related("user", "organization")
        for username in USERS:
            roles = ", ".join(
                f"{m.role} in {m.organization.name}"
                for m in memberships
                if m.user.username == username
            )
            staff = " (Django admin)" if USERS[username][2] else ""
            out.write(f"  {username:<15} {roles}{staff}")
