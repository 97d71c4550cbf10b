"""The OpenAPI schema generates without warnings and the docs page renders."""

import yaml
from django.core.management import call_command
from django.test import Client


def test_schema_generates_without_warnings_and_validates(tmp_path, db):
    """Fails on any drf-spectacular warning (untyped field, duplicate enum ...)."""
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/organizations/",
        "/api/v1/organizations/{id}/members/",
        "/api/v1/organizations/{id}/members/{username}/",
        "/api/v1/brand-voices/",
        "/api/v1/brand-voices/{id}/",
        "/api/v1/personas/{id}/",
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{id}/",
    ]:
        assert path in paths, path
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_documents_bounds_and_filters(db):
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    campaign = schema["components"]["schemas"]["CampaignRequest"]["properties"]
    assert campaign["keywords"]["maxItems"] == 50
    assert campaign["keywords"]["items"]["maxLength"] == 80
    assert campaign["key_facts"]["maxItems"] == 30
    assert campaign["content_types"]["items"]["$ref"].endswith("/ContentTypeEnum")
    params = {
        p["name"] for p in schema["paths"]["/api/v1/campaigns/"]["get"]["parameters"]
    }
    assert {
        "organization",
        "status",
        "language",
        "brand_voice",
        "content_type",
        "search",
        "ordering",
        "page",
    } <= params
    token = schema["paths"]["/api/v1/auth/token/"]["post"]
    response = token["responses"]["200"]["content"]["application/json"]["schema"]
    assert response["$ref"].endswith("/TokenResponse")


def test_docs_page_renders_from_sidecar(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "drf_spectacular_sidecar" in html  # served locally, not from a CDN
