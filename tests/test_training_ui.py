"""Model-management pages: what admins see and do, and what others cannot."""

import io

import pytest
from django.test import Client

from tests.fixtures_training import make_candidates, zip_checkpoint
from webapp.models_registry.services import (
    active_version_for,
    do_register_model_version,
)
from webapp.review.services import do_decide, do_rate
from webapp.training.models import ModelComparison, TrainingJob, TrainingStatus


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def child(org, base_version, tiny_checkpoint):
    version, _ = do_register_model_version(
        tiny_checkpoint, name="<script>alert(1)</script>", organization=org
    )
    version.parent = base_version
    version.metadata = {
        **version.metadata,
        "loss_curve": [{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.5}],
    }
    version.save(update_fields=["parent", "metadata"])
    return version


def test_version_page_shows_lineage_charts_and_escapes_names(
    admin_user, base_version, child, campaign, editor, django_assert_max_num_queries
):
    (candidate,) = make_candidates(campaign, child, ["Child <b>copy</b>."])
    do_rate(candidate, editor, 5)
    do_decide(candidate, editor, "approve")
    client = browser(admin_user)
    # Session, user, profile, memberships, version, active version (2),
    # training job, lineage, 2 statistics queries, history (2), children,
    # rollback target: bounded, independent of how many candidates exist.
    with django_assert_max_num_queries(20):
        response = client.get(f"/models/{child.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "micro-base" in html  # the parent in the lineage
    assert html.count("<svg") >= 2  # loss curve and rating chart
    assert "Activate for Acme" in html and "Compare with its parent" in html


def test_non_admins_get_403_and_other_orgs_versions_404(
    editor, viewer, outsider, child
):
    for user in (editor, viewer):
        assert browser(user).get(f"/models/{child.pk}/").status_code == 403
        assert browser(user).post(f"/models/{child.pk}/archive/").status_code == 403
    assert browser(outsider).get(f"/models/{child.pk}/").status_code == 404


def test_activate_then_roll_back_from_the_page(admin_user, org, base_version, child):
    client = browser(admin_user)
    response = client.post(f"/models/{child.pk}/make-active/")
    assert response.status_code == 302
    assert active_version_for(org) == child
    page = client.get(f"/models/{child.pk}/").content.decode()
    assert "Roll back to micro-base" in page
    response = client.post("/models/rollback/")
    assert response.status_code == 302
    assert response["Location"] == f"/models/{base_version.pk}/"
    assert active_version_for(org) == base_version
    history = client.get(f"/models/{child.pk}/").content.decode()
    assert "activated by acme-admin" in history


def test_launch_training_from_the_page_and_watch_its_progress(
    admin_user, org, campaign, base_version, editor
):
    (candidate,) = make_candidates(campaign, base_version, ["Good."])
    do_decide(candidate, editor, "approve")
    client = browser(admin_user)
    assert client.get("/models/training/").status_code == 200
    response = client.post(
        "/models/training/",
        {
            "min_rating": "4",
            "max_steps": "5",
            "learning_rate": "0.0003",
            "replay_ratio": "1.0",
        },
    )
    job = TrainingJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/models/training/{job.pk}/"
    page = client.get(f"/models/training/{job.pk}/").content.decode()
    assert f'hx-get="/models/training/{job.pk}/progress/"' in page
    TrainingJob.objects.filter(pk=job.pk).update(
        status=TrainingStatus.RUNNING, progress=0.4, progress_message="step 2 of 5"
    )
    progress = client.get(
        f"/models/training/{job.pk}/progress/", HTTP_ACCEPT="application/json"
    ).json()
    assert progress["progress"] == 0.4 and progress["status"] == "running"
    fragment = client.get(f"/models/training/{job.pk}/progress/").content.decode()
    assert 'aria-valuenow="40"' in fragment and "step 2 of 5" in fragment


def test_launch_form_errors_are_shown_and_nothing_is_saved(admin_user, base_version):
    response = browser(admin_user).post(
        "/models/training/",
        {
            "min_rating": "4",
            "max_steps": "0",
            "learning_rate": "x",
            "replay_ratio": "1",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ensure this value is greater than or equal to 1" in html
    assert not TrainingJob.objects.exists()
    response = browser(admin_user).post(
        "/models/training/",
        {
            "min_rating": "4",
            "max_steps": "5",
            "learning_rate": "0.001",
            "replay_ratio": "1",
        },
    )
    assert response.status_code == 400
    assert "no feedback to learn from" in response.content.decode()


def test_compare_page_launches_both_jobs_and_shows_them_side_by_side(
    admin_user, base_version, child, campaign
):
    client = browser(admin_user)
    response = client.post(
        "/models/compare/",
        {
            "version_a": base_version.pk,
            "version_b": child.pk,
            "campaign": campaign.pk,
            "content_type": "slogan",
            "num_candidates": "2",
            "seed": "5",
        },
    )
    comparison = ModelComparison.objects.get()
    assert response.status_code == 302
    make_candidates(campaign, base_version, ["Side A text."])
    page = client.get(f"/models/comparisons/{comparison.pk}/").content.decode()
    assert "micro-base" in page and "seed 5" in page


def test_upload_page_refuses_a_pickle_with_a_form_error(
    admin_user, base_version, tiny_checkpoint, tmp_path
):
    data = zip_checkpoint(
        tiny_checkpoint, tmp_path / "bad.zip", {"ckpt/model.pt": b"\x80"}
    ).read_bytes()
    file = io.BytesIO(data)
    file.name = "bad.zip"
    response = browser(admin_user).post("/models/upload/", {"file": file})
    assert response.status_code == 400
    assert "pickle-based weights file" in response.content.decode()


def test_feedback_page_shows_cards_and_downloads_jsonl(
    admin_user, campaign, base_version, editor
):
    (candidate,) = make_candidates(campaign, base_version, ["Good."])
    do_rate(candidate, editor, 5)
    client = browser(admin_user)
    page = client.get("/models/feedback/").content.decode()
    assert "Download sft.jsonl (1 rows)" in page
    response = client.get("/models/feedback/sft.jsonl?min_rating=5")
    assert response.status_code == 200
    assert b'"completion": "Good."' in response.content
    assert client.get("/models/feedback/sft.jsonl?min_rating=9").status_code == 400
