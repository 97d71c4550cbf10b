"""Brand voice and persona API: CRUD, filters, roles, validation, query counts."""

import pytest

from webapp.brand.models import BrandVoice, Persona
from webapp.brand.services import do_create_brand_voice, do_create_persona

VOICES = "/api/v1/brand-voices/"
PERSONAS = "/api/v1/personas/"


def voice_payload(org, **overrides):
    data = {
        "organization": org.pk,
        "name": "Playful",
        "description": "Light and witty.",
        "tone_words": ["playful", "witty"],
        "required_phrases": ["Made in Lisbon"],
        "banned_words": ["cheap", "free!!!"],
        "example_copy": ["Sunshine in a jar.", "阳光装进瓶子里。"],
        "languages": ["en", "zh"],
        "allowed_domains": ["Acme.example"],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role_fixture", ["admin_user", "editor", "marketer"])
def test_content_roles_create_update_delete_brand_voice(
    request, role_fixture, org, api_client_for
):
    client = api_client_for(request.getfixturevalue(role_fixture))
    response = client.post(VOICES, voice_payload(org), format="json")
    assert response.status_code == 201, response.data
    assert response.data["allowed_domains"] == ["acme.example"]
    assert response.data["example_copy"][1] == "阳光装进瓶子里。"
    url = f"{VOICES}{response.data['id']}/"
    response = client.patch(url, {"banned_words": ["cheap"]}, format="json")
    assert response.status_code == 200, response.data
    assert BrandVoice.objects.get().banned_words == ["cheap"]
    assert client.delete(url).status_code == 204
    assert not BrandVoice.objects.exists()


def test_viewer_cannot_write_brand_voices_or_personas(
    org, voice, persona, viewer, api_client_for
):
    client = api_client_for(viewer)
    assert client.get(f"{VOICES}{voice.pk}/").status_code == 200
    assert client.post(VOICES, voice_payload(org), format="json").status_code == 403
    assert client.patch(f"{VOICES}{voice.pk}/", {"name": "x"}).status_code == 403
    assert client.delete(f"{VOICES}{voice.pk}/").status_code == 403
    body = {"organization": org.pk, "name": "Students"}
    assert client.post(PERSONAS, body, format="json").status_code == 403
    assert client.delete(f"{PERSONAS}{persona.pk}/").status_code == 403
    assert BrandVoice.objects.count() == 1
    assert Persona.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "n" * 121),
        ("description", "d" * 2001),
        ("tone_words", [f"t{i}" for i in range(21)]),
        ("banned_words", ["b" * 81]),
        ("example_copy", ["e" * 2001]),
        ("example_copy", [f"copy {i}" for i in range(21)]),
        ("example_copy", [""]),
        ("languages", ["fr"]),
        ("allowed_domains", ["https://acme.example/path"]),
        ("required_phrases", {"a": 1}),
    ],
)
def test_invalid_brand_voice_is_400_and_not_saved(
    org, marketer, api_client_for, field, value
):
    response = api_client_for(marketer).post(
        VOICES, voice_payload(org, **{field: value}), format="json"
    )
    assert response.status_code == 400
    assert field in response.data, response.data
    assert not BrandVoice.objects.exists()


def test_duplicate_brand_voice_name_is_a_name_error(
    org, voice, marketer, api_client_for
):
    response = api_client_for(marketer).post(
        VOICES, voice_payload(org, name=voice.name), format="json"
    )
    assert response.status_code == 400
    assert "already exists" in response.data["name"][0]


def test_same_brand_voice_name_in_another_org_is_fine(
    org, other_org, voice, outsider, api_client_for
):
    response = api_client_for(outsider).post(
        VOICES, voice_payload(other_org, name=voice.name), format="json"
    )
    assert response.status_code == 201, response.data


def test_brand_voice_language_filter_and_search(org, admin_user, api_client_for):
    do_create_brand_voice(org, name="English only", languages=["en"])
    do_create_brand_voice(org, name="中文", languages=["zh"], description="温暖")
    do_create_brand_voice(org, name="Both", languages=["en", "zh"])
    client = api_client_for(admin_user)

    def names(query):
        response = client.get(f"{VOICES}?{query}")
        assert response.status_code == 200, response.data
        return sorted(v["name"] for v in response.data["results"])

    assert names("language=zh") == ["Both", "中文"]
    assert names("language=en") == ["Both", "English only"]
    assert names("search=温暖") == ["中文"]
    assert [
        v["name"] for v in client.get(f"{VOICES}?ordering=name").data["results"]
    ] == [
        "Both",
        "English only",
        "中文",
    ]


def test_persona_crud_by_editor(org, editor, api_client_for):
    client = api_client_for(editor)
    body = {
        "organization": org.pk,
        "name": "Students",
        "age_min": 18,
        "age_max": 24,
        "interests": ["gaming", " music ", "Music"],
        "pain_points": ["tight budget"],
        "locale": "zh-CN",
    }
    response = client.post(PERSONAS, body, format="json")
    assert response.status_code == 201, response.data
    assert response.data["interests"] == ["gaming", "music"]
    url = f"{PERSONAS}{response.data['id']}/"
    assert client.patch(url, {"age_max": 30}, format="json").status_code == 200
    assert Persona.objects.get().age_max == 30
    assert client.delete(url).status_code == 204


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"age_min": 12}, "age_min"),
        ({"age_max": 121}, "age_max"),
        ({"age_min": 40, "age_max": 30}, "age_max"),
        ({"interests": [f"i{i}" for i in range(31)]}, "interests"),
        ({"pain_points": ["p" * 201]}, "pain_points"),
        ({"locale": "not a locale"}, "locale"),
        ({"name": "n" * 121}, "name"),
    ],
)
def test_invalid_persona_is_400_and_not_saved(
    org, marketer, api_client_for, changes, field
):
    body = {"organization": org.pk, "name": "Students", **changes}
    response = api_client_for(marketer).post(PERSONAS, body, format="json")
    assert response.status_code == 400
    assert field in response.data, response.data
    assert not Persona.objects.exists()


def test_partial_update_checks_age_order_against_stored_value(
    persona, marketer, api_client_for
):
    response = api_client_for(marketer).patch(
        f"{PERSONAS}{persona.pk}/", {"age_min": 50}, format="json"
    )
    assert response.status_code == 400
    assert "age_max" in response.data
    persona.refresh_from_db()
    assert persona.age_min == 28


def test_list_query_counts_do_not_grow(
    org, viewer, api_client_for, django_assert_num_queries
):
    client = api_client_for(viewer)
    for i in range(2):
        do_create_brand_voice(org, name=f"v{i}")
        do_create_persona(org, name=f"p{i}")
    # 1 count, 2 the page of rows (scoped by a membership subquery).
    with django_assert_num_queries(2):
        client.get(VOICES)
    with django_assert_num_queries(2):
        client.get(PERSONAS)
    for i in range(2, 12):
        do_create_brand_voice(org, name=f"v{i}")
        do_create_persona(org, name=f"p{i}")
    with django_assert_num_queries(2):
        assert client.get(VOICES).data["count"] == 12
    with django_assert_num_queries(2):
        assert client.get(PERSONAS).data["count"] == 12
