"""Generation through a real Celery worker process (Redis in CI, else the
filesystem broker), launched through the API and polled like a client would.
"""

import re
import time
from pathlib import Path

import pytest

from tests.fixtures_worker import wait_until
from webapp.generation.models import Candidate, GenerationJob, JobStatus
from webapp.generation.tasks import run_generation_job

pytestmark = pytest.mark.integration

JOBS = "/api/v1/jobs/"


def launch(client, campaign, **overrides):
    body = {
        "campaign": campaign.pk,
        "content_type": "slogan",
        "num_candidates": 3,
        "params": {"max_new_tokens": 8, "seed": 21},
    }
    body.update(overrides)
    response = client.post(JOBS, body, format="json")
    assert response.status_code == 201, response.data
    return response.data["id"]


def poll(client, job_id, statuses=("succeeded", "failed", "cancelled"), timeout=90):
    """GET the job through the API until it reaches one of statuses."""

    def finished():
        data = client.get(f"{JOBS}{job_id}/").data
        return data if data["status"] in statuses else None

    return wait_until(finished, timeout=timeout, interval=0.25, what=f"job {statuses}")


def test_job_launched_through_the_api_succeeds_with_all_candidates(
    campaign, marketer, tiny_model, api_client_for, celery_worker
):
    client = api_client_for(marketer)
    job_id = launch(client, campaign, num_candidates=3)

    data = poll(client, job_id)

    assert data["status"] == "succeeded", data
    assert data["progress"] == 1.0
    assert data["error_message"] == ""
    assert data["started_at"] and data["finished_at"]
    candidates = client.get("/api/v1/candidates/", {"job": job_id}).data
    assert candidates["count"] == 3
    assert [c["index"] for c in candidates["results"]] == [0, 1, 2]
    for candidate in candidates["results"]:
        assert candidate["text"].strip()
        assert candidate["score"] < 0
        assert candidate["model_version"] == tiny_model.pk
        assert candidate["status"] == "new"


def _words(texts):
    counts = {}
    for text in texts:
        for word in re.findall(r"[A-Za-z]{3,}", text):
            counts[word.lower()] = counts.get(word.lower(), 0) + 1
    return sorted(counts, key=lambda w: -counts[w])


def test_brand_banned_words_never_appear(
    campaign, voice, marketer, tiny_model, api_client_for, celery_worker
):
    client = api_client_for(marketer)
    params = {"max_new_tokens": 16, "seed": 3}
    # A first job shows which words this model writes with these seeds ...
    first = launch(client, campaign, num_candidates=6, params=params)
    assert poll(client, first)["status"] == "succeeded"
    written = Candidate.objects.filter(job_id=first).values_list("text", flat=True)
    spec_words = {"acme", "blender", "smoothie"}  # filled in, not decoded
    banned = [w for w in _words(written) if w not in spec_words][:3]
    assert banned, list(written)
    # ... then the brand bans them and the same request must avoid them.
    voice.banned_words = banned
    voice.save()
    second = launch(client, campaign, num_candidates=6, params=params)

    data = poll(client, second)

    assert data["status"] == "succeeded", data
    assert set(banned) <= set(data["params"]["bad_words"])
    texts = list(Candidate.objects.filter(job_id=second).values_list("text", flat=True))
    assert len(texts) == 6
    for text in texts:
        for word in banned:
            assert word not in text.lower(), (word, text)


def test_candidates_missing_a_required_phrase_are_flagged_not_dropped(
    campaign, voice, marketer, tiny_model, api_client_for, celery_worker
):
    voice.required_phrases = ["Only at Acme"]
    voice.save()
    client = api_client_for(marketer)
    job_id = launch(client, campaign, num_candidates=2)

    assert poll(client, job_id)["status"] == "succeeded"

    flagged = client.get("/api/v1/candidates/", {"job": job_id, "flagged": "true"})
    assert flagged.data["count"] == 2
    codes = {f["code"] for c in flagged.data["results"] for f in c["safety_flags"]}
    assert "missing_required_phrase" in codes


def test_per_persona_job_writes_candidates_for_each_persona(
    org, campaign, persona, marketer, tiny_model, api_client_for, celery_worker
):
    from webapp.brand.services import do_create_persona

    students = do_create_persona(org, name="Students", interests=["budget"])
    campaign.personas.add(students)
    client = api_client_for(marketer)
    job_id = launch(client, campaign, num_candidates=2, per_persona=True)

    assert poll(client, job_id)["status"] == "succeeded"

    rows = Candidate.objects.filter(job_id=job_id).values_list("index", "persona_id")
    assert sorted(rows) == [
        (0, persona.pk),
        (1, persona.pk),
        (2, students.pk),
        (3, students.pk),
    ]


def slow_job(client, campaign, n=8):
    """Many one-candidate batches of many tokens: slow enough to interrupt."""
    return launch(
        client,
        campaign,
        num_candidates=n,
        params={"max_new_tokens": 30, "min_new_tokens": 30, "seed": 9},
    )


def written(job_id):
    return Candidate.objects.filter(job_id=job_id).count()


def test_killed_worker_job_resumes_on_a_new_worker_without_duplicates(
    campaign, marketer, tiny_model, api_client_for, celery_worker_factory
):
    env = {
        "GENERATION_BATCH_SIZE": "1",
        "GENERATION_LEASE_SECONDS": "3",
        # Redis gives an unacked message back after this long (the dead worker
        # never acks); the filesystem broker relies on recover_stale_jobs.
        "CELERY_VISIBILITY_TIMEOUT": "4",
    }
    worker = celery_worker_factory(**env)
    client = api_client_for(marketer)
    job_id = slow_job(client, campaign)
    wait_until(lambda: written(job_id) >= 2, timeout=90, what="two candidates")

    worker.kill()
    left = written(job_id)
    assert 2 <= left < 8
    assert GenerationJob.objects.get(pk=job_id).status == JobStatus.RUNNING
    time.sleep(3.5)  # the dead worker's lease runs out
    worker.start()
    data = poll(client, job_id, timeout=120)

    assert data["status"] == "succeeded", data
    assert data["progress"] == 1.0
    indices = list(
        Candidate.objects.filter(job_id=job_id).values_list("index", flat=True)
    )
    assert sorted(indices) == list(range(8))
    assert data["attempts"] == 2


def test_duplicate_delivery_of_a_running_job_does_nothing(
    campaign, marketer, tiny_model, api_client_for, celery_worker_factory
):
    celery_worker_factory(GENERATION_BATCH_SIZE="1")
    client = api_client_for(marketer)
    job_id = slow_job(client, campaign, n=4)
    wait_until(lambda: written(job_id) >= 1, timeout=90, what="a first candidate")

    run_generation_job.delay(job_id)  # what a broker redelivery looks like
    data = poll(client, job_id)

    assert data["status"] == "succeeded", data
    assert data["attempts"] == 1
    assert written(job_id) == 4


def test_cancelling_a_running_job_keeps_finished_candidates(
    campaign, marketer, tiny_model, api_client_for, celery_worker_factory
):
    celery_worker_factory(GENERATION_BATCH_SIZE="1")
    client = api_client_for(marketer)
    job_id = slow_job(client, campaign)
    wait_until(lambda: written(job_id) >= 1, timeout=90, what="a first candidate")

    response = client.post(f"{JOBS}{job_id}/cancel/")
    assert response.status_code == 200, response.data
    data = poll(client, job_id, statuses=("cancelled",))

    kept = written(job_id)
    assert 1 <= kept < 8
    assert data["progress"] == pytest.approx(kept / 8)
    time.sleep(1.0)
    assert written(job_id) == kept  # nothing generated after the stop


def test_job_past_its_soft_time_limit_fails_with_a_readable_message(
    campaign, marketer, tiny_model, api_client_for, celery_worker_factory, settings
):
    settings.GENERATION_SOFT_TIME_LIMIT = 2
    settings.GENERATION_TIME_LIMIT = 30
    celery_worker_factory(GENERATION_BATCH_SIZE="1")
    client = api_client_for(marketer)
    job_id = slow_job(client, campaign, n=50)

    data = poll(client, job_id)

    assert data["status"] == "failed"
    assert "time limit of 2 seconds" in data["error_message"]
    assert "fewer candidates" in data["error_message"]
    assert written(job_id) < 50


def test_broken_checkpoint_fails_the_job_with_a_readable_message(
    campaign, marketer, tiny_model, api_client_for, celery_worker
):
    weights = Path(tiny_model.checkpoint_dir) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    client = api_client_for(marketer)
    job_id = launch(client, campaign)

    data = poll(client, job_id)

    assert data["status"] == "failed"
    assert f"model {tiny_model.name} could not be loaded" in data["error_message"]
    assert "activate another model version" in data["error_message"]


@pytest.mark.slow
def test_demo_model_writes_filled_in_copy_through_the_worker(
    org,
    campaign,
    admin_user,
    marketer,
    demo_checkpoint,
    api_client_for,
    celery_worker,
    settings,
    tmp_path,
):
    from webapp.models_registry.services import (
        do_activate_version,
        do_register_model_version,
    )

    settings.MODEL_DIR = tmp_path / "models"
    version, _ = do_register_model_version(demo_checkpoint, name="demo")
    do_activate_version(version, org, admin_user)
    client = api_client_for(marketer)
    job_id = launch(
        client,
        campaign,
        content_type="ad_headline",
        num_candidates=4,
        params={"max_new_tokens": 24, "temperature": 0.8, "seed": 4},
    )

    data = poll(client, job_id, timeout=180)

    assert data["status"] == "succeeded", data
    texts = list(Candidate.objects.filter(job_id=job_id).values_list("text", flat=True))
    assert len(texts) == 4
    for text in texts:
        assert re.search(r"[A-Za-z]{3,}", text), text
        assert "{product}" not in text and "{brand}" not in text
        assert "cheap" not in text.lower()  # the brand voice's banned word
