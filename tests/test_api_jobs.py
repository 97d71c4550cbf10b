"""Jobs and candidates API: launch validation, roles, isolation, query counts.

No worker here: in a `db` test the on-commit enqueue never fires, so these
tests see jobs as the web process leaves them. Worker behaviour is in
test_generation_worker.py.
"""

import pytest

from webapp.brand.services import do_create_persona
from webapp.generation.models import Candidate, GenerationJob, JobStatus
from webapp.generation.services import do_launch_job

JOBS = "/api/v1/jobs/"
CANDIDATES = "/api/v1/candidates/"


def launch_body(campaign, **overrides):
    body = {
        "campaign": campaign.pk,
        "content_type": "slogan",
        "num_candidates": 3,
        "params": {"max_new_tokens": 8, "temperature": 0.9, "seed": 5},
    }
    body.update(overrides)
    return body


@pytest.fixture
def job(campaign, marketer, tiny_model):
    return do_launch_job(
        campaign=campaign, content_type="slogan", user=marketer, num_candidates=2
    )


@pytest.fixture
def other_job(other_campaign, outsider, tiny_model):
    return do_launch_job(
        campaign=other_campaign, content_type="slogan", user=outsider, num_candidates=2
    )


def make_candidates(job, texts, flagged=()):
    for index, text in enumerate(texts):
        Candidate.objects.create(
            job=job,
            organization=job.organization,
            campaign=job.campaign,
            index=index,
            content_type=job.content_type,
            text=text,
            score=-1.5,
            model_version=job.model_version,
            seed=1,
            flagged=index in flagged,
            safety_flags=[{"code": "email", "message": "x"}]
            if index in flagged
            else [],
        )


@pytest.mark.parametrize("role_fixture", ["admin_user", "marketer"])
def test_launch_roles_queue_a_job_with_a_frozen_spec(
    request, role_fixture, campaign, tiny_model, api_client_for
):
    client = api_client_for(request.getfixturevalue(role_fixture))
    response = client.post(JOBS, launch_body(campaign), format="json")
    assert response.status_code == 201, response.data
    job = GenerationJob.objects.get(pk=response.data["id"])
    assert job.status == JobStatus.QUEUED
    assert response.data["status"] == "queued"
    assert response.data["progress"] == 0.0
    assert job.model_version == tiny_model
    spec = job.variants[0]["spec"]
    assert spec["product"] == "Acme Blender"
    assert spec["tone"] == ["warm", "direct"]
    assert spec["keywords"] == ["blender", "smoothie"]
    assert job.params["seed"] == 5 and job.params["temperature"] == 0.9


def test_brand_banned_words_go_to_decoding(
    campaign, marketer, tiny_model, api_client_for
):
    body = launch_body(campaign, params={"bad_words": ["spam"]})
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 201, response.data
    assert response.data["params"]["bad_words"] == ["spam", "cheap"]


def test_preset_gives_default_params_that_explicit_params_override(
    campaign, marketer, tiny_model, api_client_for
):
    from webapp.generation.presets import PRESETS, default_max_new_tokens

    body = launch_body(campaign, preset="safe", params={"seed": 9, "top_k": 10})
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 201, response.data
    params = response.data["params"]
    assert params["temperature"] == PRESETS["safe"]["temperature"]
    assert params["no_repeat_ngram_size"] == PRESETS["safe"]["no_repeat_ngram_size"]
    assert params["max_new_tokens"] == default_max_new_tokens("slogan")
    assert params["seed"] == 9 and params["top_k"] == 10


def test_unknown_preset_is_a_field_error(
    campaign, marketer, tiny_model, api_client_for
):
    body = launch_body(campaign, preset="wild")
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 400
    assert "preset" in response.data


def test_banned_word_inside_the_product_name_is_refused_at_launch(
    campaign, marketer, tiny_model, api_client_for
):
    body = launch_body(campaign, params={"bad_words": ["blend"]})
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 400
    assert "'blend' appears in the product 'Acme Blender'" in str(
        response.data["params"]
    )


@pytest.mark.parametrize("role_fixture", ["viewer", "editor"])
def test_viewer_and_editor_cannot_launch_job(
    request, role_fixture, campaign, tiny_model, api_client_for
):
    client = api_client_for(request.getfixturevalue(role_fixture))
    response = client.post(JOBS, launch_body(campaign), format="json")
    assert response.status_code == 403
    assert not GenerationJob.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"params": {"top_p": 1.5}}, "params", "top_p must be in (0, 1], got 1.5"),
        ({"params": {"max_new_tokens": 600}}, "params", "max_new_tokens"),
        ({"params": {"nucleus": 0.5}}, "params", "unknown generation parameters"),
        ({"params": {"num_return_sequences": 3}}, "params", "set by the job"),
        ({"num_candidates": 51}, "num_candidates", "50"),
        ({"num_candidates": 0}, "num_candidates", "1"),
        ({"content_type": "poem"}, "content_type", "poem"),
        ({"params": "hot"}, "params", "object"),
    ],
)
def test_launch_rejects_bad_input_with_field_errors(
    overrides, field, message, campaign, marketer, tiny_model, api_client_for
):
    body = launch_body(campaign, **overrides)
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 400
    assert message in " ".join(str(m) for m in response.data[field])
    assert not GenerationJob.objects.exists()


def test_launch_with_other_orgs_campaign_reads_like_a_missing_one(
    other_campaign, marketer, tiny_model, api_client_for
):
    response = api_client_for(marketer).post(
        JOBS, launch_body(other_campaign), format="json"
    )
    assert response.status_code == 400
    assert "no campaign with id" in str(response.data["campaign"])


def test_launch_with_other_orgs_persona_is_refused(
    campaign, other_persona, marketer, tiny_model, api_client_for
):
    body = launch_body(campaign, persona=other_persona.pk)
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 400
    assert "persona" in response.data


def test_launch_without_any_active_model_says_how_to_get_one(
    campaign, marketer, api_client_for
):
    response = api_client_for(marketer).post(JOBS, launch_body(campaign), format="json")
    assert response.status_code == 400
    assert "no model version is active" in str(response.data["model_version"])


def test_per_persona_job_has_one_variant_per_persona_with_its_attributes(
    org, campaign, persona, marketer, tiny_model, api_client_for
):
    students = do_create_persona(org, name="Students", interests=["budget"])
    campaign.personas.add(students)
    body = launch_body(campaign, per_persona=True, num_candidates=2)
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 201, response.data
    job = GenerationJob.objects.get(pk=response.data["id"])
    assert job.total_candidates == 4
    by_persona = {v["persona_id"]: v["spec"]["persona"] for v in job.variants}
    assert by_persona[persona.pk]["name"] == "Busy parents"
    assert by_persona[persona.pk]["age"] == "28-45"
    assert by_persona[students.pk]["interests"] == ["budget"]


def test_per_persona_total_is_bounded(campaign, marketer, tiny_model, api_client_for):
    body = launch_body(campaign, per_persona=True, num_candidates=50)
    campaign.personas.add(do_create_persona(campaign.organization, name="Students"))
    response = api_client_for(marketer).post(JOBS, body, format="json")
    assert response.status_code == 400
    assert "100" in str(response.data["num_candidates"])


def test_members_read_jobs_with_status_and_progress(job, viewer, api_client_for):
    response = api_client_for(viewer).get(f"{JOBS}{job.pk}/")
    assert response.status_code == 200
    assert response.data["status"] == "queued"
    assert response.data["progress"] == 0.0
    assert response.data["progress_message"] == "waiting for a worker"


def test_other_orgs_job_is_404(other_job, marketer, api_client_for):
    client = api_client_for(marketer)
    assert client.get(f"{JOBS}{other_job.pk}/").status_code == 404
    assert client.post(f"{JOBS}{other_job.pk}/cancel/").status_code == 404
    assert client.get(JOBS).data["count"] == 0


def test_marketer_cancels_queued_job(job, marketer, api_client_for):
    response = api_client_for(marketer).post(f"{JOBS}{job.pk}/cancel/")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "cancelled"


def test_viewer_cannot_cancel_job(job, viewer, api_client_for):
    assert api_client_for(viewer).post(f"{JOBS}{job.pk}/cancel/").status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_cancelling_a_finished_job_is_400(job, marketer, api_client_for):
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    response = api_client_for(marketer).post(f"{JOBS}{job.pk}/cancel/")
    assert response.status_code == 400
    assert "already succeeded" in str(response.data)


def test_running_job_is_asked_to_stop_at_its_next_batch(job, marketer, api_client_for):
    from datetime import timedelta

    from django.utils import timezone

    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, lease_expires_at=timezone.now() + timedelta(60)
    )
    response = api_client_for(marketer).post(f"{JOBS}{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.data["status"] == "running"
    assert response.data["cancel_requested"] is True


def test_job_list_filters_by_status_and_campaign(job, campaign, viewer, api_client_for):
    client = api_client_for(viewer)
    assert client.get(JOBS, {"status": "queued"}).data["count"] == 1
    assert client.get(JOBS, {"status": "running"}).data["count"] == 0
    assert client.get(JOBS, {"campaign": campaign.pk}).data["count"] == 1


def test_job_list_query_count(
    campaign, marketer, tiny_model, api_client_for, django_assert_num_queries
):
    for _ in range(3):
        do_launch_job(campaign=campaign, content_type="slogan", user=marketer)
    client = api_client_for(marketer)
    # 1 count for the page, 1 select of jobs joined with model version and user.
    with django_assert_num_queries(2):
        response = client.get(JOBS)
    assert response.data["count"] == 3


def test_candidates_filter_by_job_flagged_and_status(job, viewer, api_client_for):
    make_candidates(job, ["one", "two", "three"], flagged={1})
    client = api_client_for(viewer)
    assert client.get(CANDIDATES, {"job": job.pk}).data["count"] == 3
    flagged = client.get(CANDIDATES, {"flagged": "true"}).data
    assert [c["index"] for c in flagged["results"]] == [1]
    assert flagged["results"][0]["safety_flags"][0]["code"] == "email"
    assert client.get(CANDIDATES, {"status": "new"}).data["count"] == 3
    assert client.get(CANDIDATES, {"status": "approved"}).data["count"] == 0
    assert client.get(CANDIDATES, {"campaign": job.campaign_id}).data["count"] == 3


def test_candidates_are_read_only(job, admin_user, api_client_for):
    make_candidates(job, ["one"])
    candidate = Candidate.objects.get()
    client = api_client_for(admin_user)
    response = client.patch(
        f"{CANDIDATES}{candidate.pk}/", {"text": "x"}, format="json"
    )
    assert response.status_code == 405


def test_other_orgs_candidates_are_404(other_job, marketer, api_client_for):
    make_candidates(other_job, ["secret"])
    candidate = Candidate.objects.get()
    client = api_client_for(marketer)
    assert client.get(f"{CANDIDATES}{candidate.pk}/").status_code == 404
    assert client.get(CANDIDATES).data["count"] == 0
    assert client.get(CANDIDATES, {"job": other_job.pk}).data["count"] == 0


def test_candidate_list_query_count(
    job, viewer, api_client_for, django_assert_num_queries
):
    make_candidates(job, [f"text {i}" for i in range(5)])
    client = api_client_for(viewer)
    # 1 count for the page, 1 select of candidates (all columns are local).
    with django_assert_num_queries(2):
        response = client.get(CANDIDATES)
    assert response.data["count"] == 5
