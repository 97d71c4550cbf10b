"""Model registry: register_model, the activation log, and /api/v1/models/."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.fixtures_worker import build_tiny_checkpoint
from webapp.models_registry.models import ModelActivation, ModelStatus, ModelVersion
from webapp.models_registry.services import (
    active_version_for,
    do_activate_version,
    do_register_model_version,
)

MODELS = "/api/v1/models/"


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    return settings.MODEL_DIR


def register(path, *args):
    out = StringIO()
    call_command("register_model", str(path), *args, stdout=out)
    return out.getvalue()


def test_register_model_validates_copies_and_records_metadata(
    db, tiny_checkpoint, model_dir
):
    output = register(tiny_checkpoint, "--name", "tiny-v1")
    version = ModelVersion.objects.get()
    assert output.startswith("registered tiny-v1 [tiny]")
    assert Path(version.checkpoint_dir).parent == Path(model_dir).resolve()
    assert (Path(version.checkpoint_dir) / "model.safetensors").is_file()
    assert version.metrics == {"val_loss": 5.9}
    assert version.config["dim"] == 32
    assert version.status == ModelStatus.READY
    assert active_version_for(None) is None


def test_register_model_twice_is_a_no_op(db, tiny_checkpoint, model_dir):
    register(tiny_checkpoint)
    output = register(tiny_checkpoint, "--global-default")
    assert output.startswith("already registered as tiny-test-0")
    assert ModelVersion.objects.count() == 1
    register(tiny_checkpoint, "--global-default")
    assert ModelActivation.objects.count() == 1
    assert active_version_for(None) == ModelVersion.objects.get()


def test_register_model_refuses_a_broken_checkpoint_in_one_line(
    db, tiny_checkpoint, model_dir, tmp_path
):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_checkpoint, broken)
    (broken / "config.json").write_text('{"dim": -1}')
    with pytest.raises(CommandError) as error:
        register(broken)
    assert "is not a valid checkpoint" in str(error.value)
    assert "\n" not in str(error.value)
    with pytest.raises(CommandError, match="does not exist"):
        register(tmp_path / "missing")
    assert not ModelVersion.objects.exists()


def test_register_model_refuses_a_taken_name_for_other_files(
    db, tiny_checkpoint, model_dir, tmp_path
):
    register(tiny_checkpoint, "--name", "prod")
    other = build_tiny_checkpoint(tmp_path / "other", seed=1)
    with pytest.raises(CommandError, match="'prod' is already registered"):
        register(other, "--name", "prod")


def test_register_model_command_exits_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "register_model", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "VAR_DIR": str(tmp_path)},
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode != 0
    assert "does not exist" in result.stderr.strip().splitlines()[-1]


def test_org_activation_overrides_default_and_rolls_back(
    org, admin_user, tiny_model, tiny_checkpoint, tmp_path
):
    other, _ = do_register_model_version(
        build_tiny_checkpoint(tmp_path / "v2", seed=2), name="v2"
    )
    assert active_version_for(org) == tiny_model
    do_activate_version(other, org, admin_user, note="try v2")
    assert active_version_for(org) == other
    assert active_version_for(None) == tiny_model
    # Archiving the active version falls back to the previous activation.
    other.status = ModelStatus.ARCHIVED
    other.save()
    assert active_version_for(org) == tiny_model


@pytest.fixture
def private_version(other_org, tmp_path, tiny_model):
    version, _ = do_register_model_version(
        build_tiny_checkpoint(tmp_path / "globex", seed=3),
        name="globex-finetune",
        organization=other_org,
    )
    return version


def test_members_list_shared_and_own_versions_only(
    org, viewer, tiny_model, private_version, api_client_for
):
    client = api_client_for(viewer)
    response = client.get(MODELS)
    assert response.status_code == 200
    assert [m["name"] for m in response.data["results"]] == [tiny_model.name]
    result = response.data["results"][0]
    assert result["is_global_default"] is True
    assert result["active_for"] == [org.pk]
    assert client.get(f"{MODELS}{private_version.pk}/").status_code == 404


def test_admin_activates_version_for_their_org(
    org, admin_user, tiny_model, api_client_for
):
    response = api_client_for(admin_user).post(
        f"{MODELS}{tiny_model.pk}/activate/", {"note": "go"}, format="json"
    )
    assert response.status_code == 201, response.data
    activation = ModelActivation.objects.get(organization=org)
    assert activation.activated_by == admin_user and activation.note == "go"


@pytest.mark.parametrize("role_fixture", ["marketer", "editor", "viewer"])
def test_non_admins_cannot_activate(
    request, role_fixture, org, tiny_model, api_client_for
):
    client = api_client_for(request.getfixturevalue(role_fixture))
    body = {"organization": org.pk}
    response = client.post(f"{MODELS}{tiny_model.pk}/activate/", body, format="json")
    assert response.status_code == 403
    assert not ModelActivation.objects.filter(organization=org).exists()


def test_admin_cannot_activate_for_another_org_or_its_private_version(
    org, other_org, admin_user, tiny_model, private_version, api_client_for
):
    client = api_client_for(admin_user)
    body = {"organization": other_org.pk}
    response = client.post(f"{MODELS}{tiny_model.pk}/activate/", body, format="json")
    assert response.status_code == 400
    assert "organization" in response.data
    response = client.post(f"{MODELS}{private_version.pk}/activate/", format="json")
    assert response.status_code == 404
    assert not ModelActivation.objects.filter(organization__isnull=False).exists()


def test_model_list_query_count(
    org, viewer, tiny_model, api_client_for, django_assert_num_queries
):
    client = api_client_for(viewer)
    # 1 roles of the user, 2 active version look-ups (own org, then global),
    # 1 global default, 1 count, 1 select of versions with their parents.
    with django_assert_num_queries(6):
        response = client.get(MODELS)
    assert response.data["count"] == 1
