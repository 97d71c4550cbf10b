"""Bulk generation: product CSV uploads, schedules and their fan-out."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_celery_beat.models import PeriodicTask

from tests.fixtures_worker import wait_until
from webapp.campaigns.models import CampaignStatus
from webapp.campaigns.services import do_create_campaign
from webapp.generation.models import BulkRun, BulkStatus, GenerationJob, JobStatus
from webapp.generation.services import (
    do_create_csv_bulk_run,
    do_create_schedule,
    do_fan_out_chunk,
    do_start_schedule_run,
)
from webapp.generation.tasks import run_schedule

BULK = "/api/v1/bulk-runs/"
SCHEDULES = "/api/v1/schedules/"

GOOD_CSV = (
    "name,description,facts,keywords,persona\n"
    "Acme Kettle,Boils fast,1.7 litres;auto shut-off,kettle;fast,Busy parents\n"
    '"Acme Toaster","Four slots, even browning",4 slots,toaster;breakfast,\n'
)


def upload(client, campaign, data, **fields):
    body = {
        "campaign": campaign.pk,
        "content_type": "ad_headline",
        "num_candidates": "1",
        "params": '{"max_new_tokens": 6}',
        "file": SimpleUploadedFile("products.csv", data.encode(), "text/csv"),
    }
    body.update(fields)
    return client.post(BULK, body, format="multipart")


def test_csv_upload_creates_a_bulk_run_with_one_item_per_row(
    campaign, persona, marketer, tiny_model, api_client_for
):
    response = upload(api_client_for(marketer), campaign, GOOD_CSV)
    assert response.status_code == 201, response.data
    bulk = BulkRun.objects.get(pk=response.data["id"])
    assert bulk.kind == "csv" and bulk.status == BulkStatus.PENDING
    assert [row["line"] for row in bulk.items] == [2, 3]
    assert bulk.items[0]["facts"] == ["1.7 litres", "auto shut-off"]
    assert bulk.items[0]["persona_id"] == persona.pk
    assert bulk.items[1]["persona_id"] is None


def test_malformed_csv_is_rejected_with_line_numbers_and_creates_nothing(
    campaign, marketer, tiny_model, api_client_for
):
    data = (
        "name,description,facts,keywords,persona\n"
        "Acme Kettle,Boils fast,1.7 litres,kettle,\n"
        ",no name here,,,\n"
        "Acme Mixer,ok,a;;b,mixer,Nobody\n"
        "Acme Fan,too,many,cells,here,extra\n"
    )
    response = upload(api_client_for(marketer), campaign, data)
    assert response.status_code == 400
    errors = response.data["file"]
    assert errors[0].startswith("line 3: name is empty")
    assert errors[1].startswith("line 4: facts[1] is empty")
    assert "persona 'Nobody' does not exist" in errors[1]
    assert errors[2].startswith("line 5: has 6 cells")
    assert len(errors) == 3
    assert not BulkRun.objects.exists()
    assert not GenerationJob.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("title,text\nA,b\n", "line 1: the header must have the columns"),
        ("name,description,facts,keywords\n", "no product rows"),
        ("\ufffe\x00\xff", "header"),
    ],
)
def test_csv_with_bad_header_or_no_rows_is_rejected(
    data, message, campaign, marketer, tiny_model, api_client_for
):
    response = upload(api_client_for(marketer), campaign, data)
    assert response.status_code == 400
    assert message in " ".join(response.data["file"])
    assert not BulkRun.objects.exists()


def test_non_utf8_csv_is_rejected(campaign, marketer, tiny_model):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="UTF-8"):
        do_create_csv_bulk_run(
            campaign=campaign,
            content_type="slogan",
            user=marketer,
            data="name,description,facts,keywords\nCafé,x,y,z\n".encode("latin-1"),
        )


def test_viewer_cannot_upload_and_other_orgs_runs_are_404(
    campaign, other_campaign, viewer, outsider, tiny_model, api_client_for
):
    assert upload(api_client_for(viewer), campaign, GOOD_CSV).status_code == 403
    response = upload(
        api_client_for(outsider),
        other_campaign,
        GOOD_CSV.replace("Busy parents", "Globex buyers"),
    )
    assert response.status_code == 201, response.data
    client = api_client_for(viewer)
    assert client.get(f"{BULK}{response.data['id']}/").status_code == 404
    assert client.get(f"{BULK}{response.data['id']}/download/").status_code == 404
    assert client.get(BULK).data["count"] == 0


def test_fan_out_in_chunks_launches_each_row_once(
    campaign, marketer, tiny_model, django_capture_on_commit_callbacks
):
    rows = "".join(f"Product {i},desc,fact {i},kw{i},\n" for i in range(5))
    bulk = do_create_csv_bulk_run(
        campaign=campaign,
        content_type="slogan",
        user=marketer,
        data=("name,description,facts,keywords,persona\n" + rows).encode(),
        num_candidates=1,
    )
    assert do_fan_out_chunk(bulk.pk, chunk_size=2) is True
    assert do_fan_out_chunk(bulk.pk, chunk_size=2) is True
    assert do_fan_out_chunk(bulk.pk, chunk_size=2) is False
    assert do_fan_out_chunk(bulk.pk, chunk_size=2) is False  # a redelivered chunk
    bulk.refresh_from_db()
    assert bulk.status == BulkStatus.DONE and bulk.launched_count == 5
    jobs = GenerationJob.objects.filter(bulk_run=bulk).order_by("source_line")
    assert [j.source_line for j in jobs] == [2, 3, 4, 5, 6]
    assert [j.variants[0]["spec"]["product"] for j in jobs][:2] == [
        "Product 0",
        "Product 1",
    ]
    assert jobs[0].variants[0]["spec"]["facts"] == ["fact 0", "desc"]


@pytest.fixture
def campaigns(org, voice, admin_user):
    """Two active campaigns (one without headlines), one paused."""

    def make(name, status, content_types):
        return do_create_campaign(
            org,
            admin_user,
            name=name,
            brand_voice=voice,
            product_name=f"{name} product",
            content_types=content_types,
            status=status,
        )

    return {
        "active": make("Active", CampaignStatus.ACTIVE, ["slogan", "ad_headline"]),
        "slogans": make("Slogans only", CampaignStatus.ACTIVE, ["slogan"]),
        "paused": make("Paused", CampaignStatus.PAUSED, ["slogan"]),
    }


def test_schedule_over_all_active_campaigns_makes_one_job_per_campaign_and_type(
    org, campaigns, marketer, tiny_model
):
    schedule = do_create_schedule(
        organization=org,
        name="Nightly",
        content_types=["slogan", "ad_headline"],
        user=marketer,
        cron="0 2 * * *",
        num_candidates=2,
    )
    bulk = do_start_schedule_run(schedule)
    while do_fan_out_chunk(bulk.pk, chunk_size=2):
        pass
    bulk.refresh_from_db()
    launched = set(
        GenerationJob.objects.filter(bulk_run=bulk).values_list(
            "campaign__name", "content_type"
        )
    )
    assert launched == {
        ("Active", "slogan"),
        ("Active", "ad_headline"),
        ("Slogans only", "slogan"),
    }
    assert bulk.launched_count == 3
    assert bulk.skipped == [
        {
            "campaign": campaigns["slogans"].pk,
            "content_type": "ad_headline",
            "reason": "campaign does not use ad_headline",
        }
    ]
    assert all(j.num_candidates == 2 for j in GenerationJob.objects.all())


def test_schedule_for_chosen_campaigns_reports_paused_ones_as_skipped(
    org, campaigns, marketer, tiny_model
):
    schedule = do_create_schedule(
        organization=org,
        name="Chosen",
        content_types=["slogan"],
        user=marketer,
        campaigns=[campaigns["active"], campaigns["paused"]],
        interval_seconds=3600,
    )
    bulk = do_start_schedule_run(schedule)
    do_fan_out_chunk(bulk.pk, chunk_size=25)
    bulk.refresh_from_db()
    assert bulk.launched_count == 1
    assert bulk.skipped[0]["campaign"] == campaigns["paused"].pk
    assert "paused" in bulk.skipped[0]["reason"]


def test_schedule_api_creates_a_beat_task_and_keeps_it_in_step(
    org, campaigns, marketer, tiny_model, api_client_for
):
    client = api_client_for(marketer)
    body = {
        "organization": org.pk,
        "name": "Mondays",
        "content_types": ["slogan"],
        "campaigns": [campaigns["active"].pk],
        "cron": "0 9 * * 1",
        "num_candidates": 3,
        "params": {"temperature": 0.8},
    }
    response = client.post(SCHEDULES, body, format="json")
    assert response.status_code == 201, response.data
    assert response.data["cron"] == "0 9 * * 1"
    task = PeriodicTask.objects.get(name__startswith="copydesk schedule")
    assert task.task == "webapp.generation.tasks.run_schedule"
    assert task.crontab.hour == "9" and task.crontab.day_of_week == "1"
    url = f"{SCHEDULES}{response.data['id']}/"
    response = client.patch(url, {"interval_seconds": 600, "cron": ""}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["interval_seconds"] == 600
    task.refresh_from_db()
    assert task.interval.every == 600 and task.crontab is None
    response = client.patch(url, {"enabled": False}, format="json")
    task.refresh_from_db()
    assert task.enabled is False
    assert client.delete(url).status_code == 204
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cron": "0 25 * * *"}, "cron"),
        ({"cron": "every day"}, "cron"),
        ({"cron": "", "interval_seconds": 10}, "interval_seconds"),
        ({"content_types": []}, "content_types"),
        ({"content_types": ["poem"]}, "content_types"),
        ({"params": {"top_p": 2}}, "params"),
    ],
)
def test_schedule_api_rejects_bad_input(
    overrides, field, org, marketer, tiny_model, api_client_for
):
    body = {"organization": org.pk, "name": "S", "content_types": ["slogan"]}
    body.update({"cron": "0 9 * * 1", **overrides})
    response = api_client_for(marketer).post(SCHEDULES, body, format="json")
    assert response.status_code == 400
    assert field in response.data, response.data
    assert not PeriodicTask.objects.filter(
        name__startswith="copydesk schedule"
    ).exists()


def test_schedule_roles_and_isolation(
    org, other_org, viewer, outsider, marketer, api_client_for
):
    body = {
        "organization": org.pk,
        "name": "S",
        "content_types": ["slogan"],
        "cron": "0 9 * * 1",
    }
    assert (
        api_client_for(viewer).post(SCHEDULES, body, format="json").status_code == 403
    )
    response = api_client_for(marketer).post(SCHEDULES, body, format="json")
    assert response.status_code == 201
    url = f"{SCHEDULES}{response.data['id']}/"
    assert api_client_for(outsider).get(url).status_code == 404
    assert api_client_for(outsider).delete(url).status_code == 404
    assert api_client_for(viewer).get(url).status_code == 200
    assert api_client_for(viewer).delete(url).status_code == 403


def test_bulk_run_list_query_count(
    campaign, marketer, tiny_model, api_client_for, django_assert_num_queries
):
    for _ in range(3):
        do_create_csv_bulk_run(
            campaign=campaign,
            content_type="slogan",
            user=marketer,
            data=GOOD_CSV.encode(),
        )
    client = api_client_for(marketer)
    # 1 count, 1 select of runs, 1 prefetch of their jobs' statuses.
    with django_assert_num_queries(3):
        response = client.get(BULK)
    assert response.data["count"] == 3


@pytest.mark.integration
def test_scheduled_run_and_csv_bulk_through_the_worker_end_in_a_csv_download(
    org,
    campaign,
    campaigns,
    persona,
    marketer,
    tiny_model,
    api_client_for,
    celery_worker,
):
    schedule = do_create_schedule(
        organization=org,
        name="Now",
        content_types=["slogan"],
        user=marketer,
        campaigns=[campaigns["active"], campaigns["paused"]],
        interval_seconds=3600,
        num_candidates=1,
        params={"max_new_tokens": 6},
    )
    run_schedule.delay(schedule.pk)  # what beat sends when the schedule is due
    client = api_client_for(marketer)
    response = upload(client, campaign, GOOD_CSV, num_candidates="2")
    assert response.status_code == 201, response.data
    csv_run = response.data["id"]

    def all_done():
        runs = BulkRun.objects.filter(status=BulkStatus.DONE)
        jobs = GenerationJob.objects.filter(bulk_run__in=runs)
        finished = jobs.filter(status=JobStatus.SUCCEEDED).count()
        return runs.count() == 2 and finished == jobs.count() == 3

    wait_until(all_done, timeout=120, what="both bulk runs to finish")
    scheduled = BulkRun.objects.get(kind="schedule")
    assert scheduled.launched_count == 1 and len(scheduled.skipped) == 1
    data = client.get(f"{BULK}{csv_run}/").data
    assert data["job_counts"] == {"succeeded": 2}

    response = client.get(f"{BULK}{csv_run}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4
    assert sorted({(r["line"], r["product"]) for r in rows}) == [
        ("2", "Acme Kettle"),
        ("3", "Acme Toaster"),
    ]
    assert {r["persona"] for r in rows if r["line"] == "2"} == {"Busy parents"}
