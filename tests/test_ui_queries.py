"""Pages with many rows run a fixed number of queries (no N+1).

Each test renders the page with few rows and with many, and asserts the same
count both times. Every page starts with the same four queries: the session,
the user, the profile (with its current organization) and the memberships
(for the organization switcher).
"""

import pytest
from django.urls import reverse

from tests.test_ui_pages import login
from webapp.review.services import do_decide, do_rate, do_revise

BASE = 4  # session, user, profile, memberships


def warm(client, url):
    """First visit creates the profile and picks the current organization."""
    client.get(url)
    return url


def _with_feedback(job, user):
    """Rate, edit and decide every candidate so the annotations have data."""
    for c in job.candidates.all():
        do_rate(c, user, 4)
        do_revise(c, user, c.text + " (edited)")
        do_decide(c, user, "approve" if c.index % 2 else "reject")


@pytest.mark.parametrize("rows", [3, 60])
def test_review_board_queries_do_not_grow_with_candidates(
    rows, editor, ui_campaign, make_review_job, django_assert_num_queries
):
    job = make_review_job(ui_campaign, rows)
    _with_feedback(job, editor)
    client = login(editor)
    # BASE + count for the paginator + campaigns of the filter menu + one page
    # of candidates with campaign and persona joined and their text, ratings
    # and revisions as subqueries.
    url = warm(client, reverse("ui:review_board"))
    with django_assert_num_queries(BASE + 3):
        response = client.get(url)
    assert response.content.count(b"<article") == min(rows, 24)


@pytest.mark.parametrize("rows", [2, 40])
def test_campaign_list_queries_do_not_grow(
    rows, admin_user, org, django_assert_num_queries
):
    from webapp.brand.services import do_create_brand_voice
    from webapp.campaigns.services import do_create_campaign

    voice = do_create_brand_voice(org, name="Warm")
    for i in range(rows):
        do_create_campaign(
            org, admin_user, name=f"C{i}", product_name="P", brand_voice=voice
        )
    client = login(admin_user)
    # BASE + count for the paginator + one page of campaigns with brand voice
    # and owner joined.
    url = warm(client, reverse("ui:campaign_list"))
    with django_assert_num_queries(BASE + 2):
        client.get(url)


@pytest.mark.parametrize("rows", [2, 30])
def test_dashboard_queries_do_not_grow(
    rows, admin_user, ui_campaign, make_review_job, django_assert_num_queries
):
    for _ in range(rows // 2 or 1):
        make_review_job(ui_campaign, 2)
    client = login(admin_user)
    # BASE + review counts (one aggregate) + active campaigns with their counts
    # + recent jobs with campaign and author + newest candidates with campaign.
    url = warm(client, reverse("ui:dashboard"))
    with django_assert_num_queries(BASE + 4):
        client.get(url)


@pytest.mark.parametrize("rows", [2, 40])
def test_job_page_queries_do_not_grow(
    rows, editor, ui_campaign, make_review_job, django_assert_num_queries
):
    job = make_review_job(ui_campaign, rows)
    _with_feedback(job, editor)
    client = login(editor)
    # BASE + the job with campaign, persona, model and author + its candidate
    # count + its candidates with feedback annotations.
    url = warm(client, reverse("ui:job_detail", args=[job.pk]))
    with django_assert_num_queries(BASE + 3):
        response = client.get(url)
    assert response.content.count(b"<article") == rows


@pytest.mark.parametrize("rows", [2, 30])
def test_campaign_detail_queries_do_not_grow(
    rows, editor, ui_campaign, make_review_job, django_assert_num_queries
):
    job = make_review_job(ui_campaign, rows)
    _with_feedback(job, editor)
    client = login(editor)
    # BASE + campaign with brand voice and owner + its personas + candidate
    # counts + jobs with persona, author and model + approved copy with
    # campaign, persona, model and approver joined.
    url = warm(client, reverse("ui:campaign_detail", args=[ui_campaign.pk]))
    with django_assert_num_queries(BASE + 5):
        client.get(url)
