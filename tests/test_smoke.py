from django.test import Client


def test_schema_endpoint_answers(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
