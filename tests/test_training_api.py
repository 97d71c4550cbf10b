"""/api/v1/training-jobs/ and /api/v1/model-versions/ (model management)."""

import io
import zipfile

import pytest

from tests.fixtures_training import make_candidates, zip_checkpoint
from webapp.models_registry.models import ModelActivation, ModelStatus, ModelVersion
from webapp.models_registry.services import (
    active_version_for,
    do_activate_version,
    do_register_model_version,
)
from webapp.review.services import do_decide, do_rate
from webapp.training.models import ModelEvent, TrainingJob, TrainingStatus

JOBS = "/api/v1/training-jobs/"
VERSIONS = "/api/v1/model-versions/"


@pytest.fixture
def approved(campaign, base_version, editor):
    (candidate,) = make_candidates(campaign, base_version, ["Good copy."])
    do_decide(candidate, editor, "approve")
    return candidate


@pytest.fixture
def child(org, base_version, tiny_checkpoint):
    """A second version of Acme whose parent is the base version."""
    version, _ = do_register_model_version(
        tiny_checkpoint, name="acme-child", organization=org
    )
    version.parent = base_version
    version.save(update_fields=["parent"])
    return version


def launch(client, org, **extra):
    return client.post(
        JOBS,
        {"organization": org.pk, "options": {"max_steps": 5}, **extra},
        format="json",
    )


# ---------------------------------------------------------------- training jobs


def test_admin_launches_a_job_from_the_active_version(
    api_client_for, admin_user, org, base_version, approved
):
    response = launch(api_client_for(admin_user), org)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["base_version"] == base_version.pk
    assert body["options"]["max_steps"] == 5
    assert body["data_card"]["count"] == 1
    assert (
        TrainingJob.objects.get(pk=body["id"]).celery_task_id == body["celery_task_id"]
    )


def test_editor_and_viewer_cannot_launch(api_client_for, editor, viewer, org, approved):
    for user in (editor, viewer):
        assert launch(api_client_for(user), org).status_code == 403


def test_outsider_cannot_launch_for_another_org_nor_see_its_jobs(
    api_client_for, admin_user, outsider, org, approved
):
    job_id = launch(api_client_for(admin_user), org).json()["id"]
    client = api_client_for(outsider)
    assert launch(client, org).status_code in (400, 403)
    assert client.get(f"{JOBS}{job_id}/").status_code == 404
    assert client.post(f"{JOBS}{job_id}/cancel/").status_code == 404
    assert client.get(JOBS).json()["results"] == []


def test_launch_errors_are_400_with_field_names(
    api_client_for, admin_user, org, base_version
):
    client = api_client_for(admin_user)
    response = launch(client, org)
    assert response.status_code == 400
    assert "no feedback to learn from" in response.json()["dataset"][0]
    response = client.post(
        JOBS,
        {"organization": org.pk, "options": {"max_steps": -1, "seed": "x"}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["max_steps"] == ["max_steps must be in [1, 20000], got -1"]
    assert body["seed"] == ["seed must be a whole number, got 'x'"]


def test_cancel_a_queued_job(api_client_for, admin_user, viewer, org, approved):
    job_id = launch(api_client_for(admin_user), org).json()["id"]
    assert api_client_for(viewer).post(f"{JOBS}{job_id}/cancel/").status_code == 403
    response = api_client_for(admin_user).post(f"{JOBS}{job_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = api_client_for(admin_user).post(f"{JOBS}{job_id}/cancel/")
    assert again.status_code == 400
    assert "already cancelled" in again.json()["non_field_errors"][0]


def test_job_list_query_count(
    api_client_for, admin_user, org, base_version, django_assert_num_queries
):
    for _ in range(5):
        TrainingJob.objects.create(
            organization=org, base_version=base_version, status=TrainingStatus.FAILED
        )
    client = api_client_for(admin_user)
    # Count and one page of jobs with their versions and creator joined.
    with django_assert_num_queries(2):
        response = client.get(JOBS)
    assert response.json()["count"] == 5


# ---------------------------------------------------------------- versions


def test_version_detail_has_lineage_stats_and_history(
    api_client_for, admin_user, org, base_version, child, campaign, editor
):
    (candidate,) = make_candidates(campaign, child, ["Child copy."])
    do_rate(candidate, editor, 4)
    do_decide(candidate, editor, "approve")
    body = api_client_for(admin_user).get(f"{VERSIONS}{child.pk}/").json()
    assert [v["name"] for v in body["lineage"]] == ["acme-child", "micro-base"]
    stats = body["rating_stats"]
    assert stats["candidates"] == 1 and stats["mean_stars"] == 4.0
    assert stats["approval_rate"] == 1.0
    assert len(stats["by_day"]) == 1


def test_activate_rollback_archive_restore_are_recorded(
    api_client_for, admin_user, org, base_version, child
):
    client = api_client_for(admin_user)
    response = client.post(f"{VERSIONS}{child.pk}/activate/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert active_version_for(org) == child
    # The active version cannot be archived.
    response = client.post(f"{VERSIONS}{child.pk}/archive/", {}, format="json")
    assert response.status_code == 400
    assert "is active for Acme" in response.json()["non_field_errors"][0]
    response = client.post(f"{VERSIONS}rollback/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["active"] == base_version.pk
    assert active_version_for(org) == base_version
    response = client.post(f"{VERSIONS}{child.pk}/archive/", {}, format="json")
    assert response.status_code == 200
    child.refresh_from_db()
    assert child.status == ModelStatus.ARCHIVED
    response = client.post(f"{VERSIONS}{child.pk}/restore/", {}, format="json")
    assert response.status_code == 200
    kinds = list(
        ModelEvent.objects.filter(organization=org)
        .order_by("created_at", "id")
        .values_list("kind", "user__username")
    )
    assert kinds == [
        ("activated", "acme-admin"),
        ("rolled_back", "acme-admin"),
        ("archived", "acme-admin"),
        ("restored", "acme-admin"),
    ]
    notes = list(
        ModelActivation.objects.filter(organization=org).values_list("note", flat=True)
    )
    assert any(note.startswith("rollback: from acme-child") for note in notes)


def test_rollback_steps_back_through_the_history(
    org, admin_user, base_version, child, tiny_checkpoint_factory
):
    from django.core.exceptions import ValidationError

    from webapp.training.services import do_activate, do_rollback

    third, _ = do_register_model_version(
        tiny_checkpoint_factory(steps=2, seed=99), name="third", organization=org
    )
    for version in (base_version, child, third):
        do_activate(version, org, admin_user)
    # Each rollback goes one step further back instead of toggling.
    assert do_rollback(org, admin_user).version == child
    assert do_rollback(org, admin_user).version == base_version
    assert active_version_for(org) == base_version
    with pytest.raises(ValidationError) as caught:
        do_rollback(org, admin_user)
    assert "nothing to roll back to" in str(caught.value)


def test_shared_version_cannot_be_archived_by_an_org_admin(
    api_client_for, admin_user, base_version, child
):
    response = api_client_for(admin_user).post(
        f"{VERSIONS}{base_version.pk}/archive/", {}, format="json"
    )
    assert response.status_code == 400
    assert "shared by every organization" in response.json()["non_field_errors"][0]


def test_non_admins_cannot_manage_and_outsiders_get_404(
    api_client_for, editor, outsider, child
):
    response = api_client_for(editor).post(f"{VERSIONS}{child.pk}/activate/")
    assert response.status_code == 403
    for path in ("", "lineage/", "stats/"):
        assert (
            api_client_for(outsider).get(f"{VERSIONS}{child.pk}/{path}").status_code
            == 404
        )
    assert (
        api_client_for(outsider).post(f"{VERSIONS}{child.pk}/archive/").status_code
        == 404
    )


# ---------------------------------------------------------------- upload


def upload(client, data: bytes, name="uploaded"):
    file = io.BytesIO(data)
    file.name = "ckpt.zip"
    return client.post(
        f"{VERSIONS}upload/", {"file": file, "name": name}, format="multipart"
    )


def test_upload_registers_a_valid_zip_for_the_organization(
    api_client_for, admin_user, org, base_version, tiny_checkpoint, tmp_path
):
    data = zip_checkpoint(tiny_checkpoint, tmp_path / "ok.zip").read_bytes()
    response = upload(api_client_for(admin_user), data)
    assert response.status_code == 201, response.json()
    version = ModelVersion.objects.get(name="uploaded")
    assert version.organization == org
    assert active_version_for(org) == base_version  # not activated
    assert ModelEvent.objects.filter(version=version, kind="uploaded").exists()
    # The same files again are refused, and nothing new is registered.
    again = upload(api_client_for(admin_user), data, name="again")
    assert again.status_code == 400
    assert "already registered as uploaded" in again.json()["file"][0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ckpt/pytorch_model.bin": b"\x80\x04"}, "pickle-based weights file"),
        ({"../evil.json": b"{}"}, "leaves the folder"),
        ({"/etc/passwd": b"x"}, "absolute path"),
        ({"ckpt/run.sh": b"rm -rf /"}, "unexpected file"),
    ],
)
def test_upload_refuses_pickles_traversal_and_strangers(
    api_client_for, admin_user, base_version, tiny_checkpoint, tmp_path, extra, message
):
    data = zip_checkpoint(tiny_checkpoint, tmp_path / "bad.zip", extra).read_bytes()
    response = upload(api_client_for(admin_user), data)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not ModelVersion.objects.filter(name="uploaded").exists()


def test_upload_refuses_corrupt_weights_oversize_and_non_zips(
    api_client_for, admin_user, base_version, tiny_checkpoint, tmp_path, settings
):
    client = api_client_for(admin_user)
    target = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for name in ("config.json", "tokenizer.json", "metadata.json"):
            archive.write(tiny_checkpoint / name, name)
        archive.writestr("model.safetensors", b"\x00" * 64)
    response = upload(client, target.read_bytes())
    assert response.status_code == 400
    assert "model.safetensors" in response.json()["file"][0]
    assert "uploads" not in response.json()["file"][0]  # no server paths
    response = upload(client, b"not a zip at all")
    assert response.status_code == 400
    assert "not a readable zip" in response.json()["file"][0]
    settings.MODEL_UPLOAD_MAX_BYTES = 1000
    data = zip_checkpoint(tiny_checkpoint, tmp_path / "big.zip").read_bytes()
    response = upload(client, data)
    assert response.status_code == 400
    assert "at most 1000 bytes" in response.json()["file"][0]
    assert ModelVersion.objects.count() == 1


def test_viewer_cannot_upload(api_client_for, viewer, tiny_checkpoint, tmp_path):
    data = zip_checkpoint(tiny_checkpoint, tmp_path / "ok.zip").read_bytes()
    assert upload(api_client_for(viewer), data).status_code == 403


# ---------------------------------------------------------------- compare


def test_compare_launches_the_same_request_on_both_versions(
    api_client_for, admin_user, org, base_version, child, campaign
):
    response = api_client_for(admin_user).post(
        f"{VERSIONS}compare/",
        {
            "version_a": base_version.pk,
            "version_b": child.pk,
            "campaign": campaign.pk,
            "content_type": "slogan",
            "num_candidates": 3,
            "seed": 42,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    from webapp.generation.models import GenerationJob

    job_a = GenerationJob.objects.get(pk=body["job_a"])
    job_b = GenerationJob.objects.get(pk=body["job_b"])
    assert job_a.model_version == base_version and job_b.model_version == child
    assert job_a.params == job_b.params and job_a.params["seed"] == 42
    assert job_a.variants == job_b.variants
    detail = api_client_for(admin_user).get(f"/api/v1/model-comparisons/{body['id']}/")
    assert detail.status_code == 200


def test_compare_refuses_the_same_version_twice(
    api_client_for, admin_user, base_version, campaign
):
    response = api_client_for(admin_user).post(
        f"{VERSIONS}compare/",
        {
            "version_a": base_version.pk,
            "version_b": base_version.pk,
            "campaign": campaign.pk,
            "content_type": "slogan",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["version_b"] == ["choose two different versions to compare"]


def test_another_orgs_version_cannot_be_activated(
    api_client_for, admin_user, other_org, tiny_checkpoint, base_version
):
    theirs, _ = do_register_model_version(
        tiny_checkpoint, name="globex-own", organization=other_org
    )
    do_activate_version(theirs, other_org, None)
    response = api_client_for(admin_user).post(f"{VERSIONS}{theirs.pk}/activate/")
    assert response.status_code == 404
