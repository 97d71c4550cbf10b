"""Every page renders for members, escapes text, and shows controls by role."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.fixtures_accounts import PASSWORD
from webapp.accounts.models import Role
from webapp.accounts.services import do_add_member, do_create_organization


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def page_urls(campaign, job, candidate):
    return [
        reverse("ui:dashboard"),
        reverse("ui:profile"),
        reverse("ui:campaign_list"),
        reverse("ui:campaign_detail", args=[campaign.pk]),
        reverse("ui:brandvoice_list"),
        reverse("ui:persona_list"),
        reverse("ui:job_detail", args=[job.pk]),
        reverse("ui:job_progress", args=[job.pk]),
        reverse("ui:review_board"),
        reverse("ui:candidate_card", args=[candidate.pk]),
        reverse("ui:compare") + f"?ids={candidate.pk}",
    ]


def test_anonymous_visitor_is_sent_to_sign_in(db):
    response = Client().get(reverse("ui:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("ui:login"))


def test_sign_in_page_has_labelled_inputs_and_csrf(db):
    body = Client().get(reverse("ui:login")).content.decode()
    assert '<label for="id_username">' in body
    assert '<label for="id_password">' in body
    assert "csrfmiddlewaretoken" in body


def test_sign_in_and_out(admin_user):
    client = Client(enforce_csrf_checks=False)
    response = client.post(
        reverse("ui:login"), {"username": admin_user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("ui:dashboard")).status_code == 200
    assert client.post(reverse("ui:logout")).status_code == 302
    assert client.get(reverse("ui:dashboard")).status_code == 302


@pytest.mark.parametrize("role", ["admin_user", "editor", "marketer", "viewer"])
def test_every_page_renders_for_each_role(request, role, ui_campaign, make_review_job):
    user = request.getfixturevalue(role)
    job = make_review_job(ui_campaign, 2)
    candidate = job.candidates.first()
    client = login(user)
    for url in page_urls(ui_campaign, job, candidate):
        response = client.get(url)
        assert response.status_code == 200, url


def test_user_without_organization_sees_why(db):
    from tests.fixtures_accounts import make_user

    client = login(make_user("loner"))
    response = client.get(reverse("ui:dashboard"))
    assert response.status_code == 403
    assert b"not in an organization" in response.content


def test_campaign_name_and_candidate_html_are_escaped(
    admin_user, ui_campaign, make_review_job
):
    ui_campaign.name = "<script>alert(1)</script>"
    ui_campaign.save()
    job = make_review_job(ui_campaign, 1, texts=['<img src=x onerror="alert(2)"><b>hi'])
    client = login(admin_user)
    for url in [
        reverse("ui:campaign_list"),
        reverse("ui:campaign_detail", args=[ui_campaign.pk]),
        reverse("ui:review_board"),
        reverse("ui:job_detail", args=[job.pk]),
        reverse("ui:dashboard"),
    ]:
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body, url
        assert "<img src=x" not in body, url
    body = client.get(reverse("ui:review_board")).content.decode()
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&lt;b&gt;hi" in body


def test_viewer_sees_no_edit_controls(viewer, ui_campaign, make_review_job):
    job = make_review_job(ui_campaign, 2)
    client = login(viewer)
    board = client.get(reverse("ui:review_board")).content.decode()
    assert "Approve</button>" not in board
    assert 'name="stars"' not in board
    assert "data-edit-toggle" not in board
    assert "data-more" not in board
    detail = client.get(reverse("ui:campaign_detail", args=[ui_campaign.pk]))
    assert b"Edit campaign" not in detail.content
    assert b"Generate copy" not in detail.content
    listing = client.get(reverse("ui:campaign_list")).content
    assert b"New campaign" not in listing
    job_page = client.get(reverse("ui:job_detail", args=[job.pk])).content
    assert b"Cancel job" not in job_page


def test_editor_reviews_but_cannot_launch(editor, ui_campaign, make_review_job):
    make_review_job(ui_campaign, 1)
    board = login(editor).get(reverse("ui:review_board")).content.decode()
    assert "Approve</button>" in board
    assert 'name="stars"' in board
    assert "data-more" not in board


def test_marketer_launches_but_cannot_review(marketer, ui_campaign, make_review_job):
    make_review_job(ui_campaign, 1)
    board = login(marketer).get(reverse("ui:review_board")).content.decode()
    assert "Approve</button>" not in board
    assert "data-more" in board


def test_models_page_is_for_admins_only(
    admin_user, editor, ui_model_version, ui_campaign
):
    assert login(editor).get(reverse("ui:model_list")).status_code == 403
    body = login(admin_user).get(reverse("ui:model_list")).content.decode()
    assert "fixture-model" in body
    assert "perplexity" in body
    # The list leads to the model-management pages of the training app.
    assert reverse("training:version_detail", args=[ui_model_version.pk]) in body
    assert reverse("training:training") in body


def test_admin_activates_a_model_version_for_the_organization(
    admin_user, org, ui_model_version
):
    from webapp.models_registry.services import active_version_for

    client = login(admin_user)
    response = client.post(reverse("ui:model_activate", args=[ui_model_version.pk]))
    assert response.status_code == 302
    assert active_version_for(org) == ui_model_version
    assert b"Active" in client.get(reverse("ui:model_list")).content


def test_organization_switcher_changes_current_organization(admin_user, org):
    other = do_create_organization("Initech", owner=admin_user)
    client = login(admin_user)
    body = client.get(reverse("ui:dashboard")).content.decode()
    assert 'name="organization"' in body
    response = client.post(
        reverse("ui:switch_organization"), {"organization": other.pk, "next": "/"}
    )
    assert response.status_code == 302
    assert "Initech" in client.get(reverse("ui:dashboard")).content.decode()
    admin_user.profile.refresh_from_db()
    assert admin_user.profile.current_organization == other


def test_switching_to_a_foreign_organization_is_404(admin_user, other_org):
    client = login(admin_user)
    response = client.post(
        reverse("ui:switch_organization"), {"organization": other_org.pk}
    )
    assert response.status_code == 404


def test_other_organizations_objects_are_404(
    outsider, ui_campaign, make_review_job, org
):
    job = make_review_job(ui_campaign, 1)
    candidate = job.candidates.first()
    client = login(outsider)
    for url in [
        reverse("ui:campaign_detail", args=[ui_campaign.pk]),
        reverse("ui:campaign_edit", args=[ui_campaign.pk]),
        reverse("ui:generate", args=[ui_campaign.pk]),
        reverse("ui:job_detail", args=[job.pk]),
        reverse("ui:job_progress", args=[job.pk]),
        reverse("ui:candidate_card", args=[candidate.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("ui:candidate_rate", args=[candidate.pk]), {"stars": 5}
    )
    assert response.status_code == 404
    # The comparison silently drops ids of other organizations.
    body = client.get(reverse("ui:compare") + f"?ids={candidate.pk}").content.decode()
    assert candidate.text not in body


def test_job_progress_answers_json(admin_user, ui_campaign, make_review_job):
    job = make_review_job(ui_campaign, 3)
    response = login(admin_user).get(
        reverse("ui:job_progress", args=[job.pk]), HTTP_ACCEPT="application/json"
    )
    data = response.json()
    assert data["status"] == "succeeded"
    assert data["finished"] is True
    assert data["candidates"] == 3


def test_failed_job_page_shows_the_error(admin_user, ui_campaign, make_review_job):
    job = make_review_job(
        ui_campaign, 0, status="failed", error_message="checkpoint <broken>: bad header"
    )
    body = login(admin_user).get(reverse("ui:job_detail", args=[job.pk])).content
    assert b"The job failed" in body
    assert b"checkpoint &lt;broken&gt;: bad header" in body


def test_running_job_page_polls_its_progress(admin_user, ui_campaign, make_review_job):
    job = make_review_job(ui_campaign, 0, status="running", progress=0.5)
    body = login(admin_user).get(reverse("ui:job_detail", args=[job.pk])).content
    assert f'hx-get="/jobs/{job.pk}/progress/"'.encode() in body
    assert b'aria-valuenow="50"' in body


def test_finished_job_progress_fragment_asks_htmx_to_refresh(
    admin_user, ui_campaign, make_review_job
):
    job = make_review_job(ui_campaign, 1)
    response = login(admin_user).get(
        reverse("ui:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Refresh"] == "true"
    assert b"hx-get" not in response.content


def test_base_layout_sends_csrf_token_with_htmx(admin_user):
    body = login(admin_user).get(reverse("ui:dashboard")).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


def test_dashboard_counts(admin_user, ui_campaign, make_review_job):
    from webapp.review.services import do_decide

    job = make_review_job(ui_campaign, 4)
    first, second = job.candidates.all()[:2]
    do_decide(first, admin_user, "approve")
    do_decide(second, admin_user, "reject")
    body = login(admin_user).get(reverse("ui:dashboard")).content.decode()
    assert '<span class="num">2</span> awaiting review' in body
    assert '<span class="num">1</span> approved' in body
    assert '<span class="num">50%</span> approval rate' in body


def test_member_of_two_orgs_sees_only_the_current_ones_campaigns(
    admin_user, ui_campaign, other_org
):
    do_add_member(other_org, admin_user, Role.VIEWER)
    from webapp.campaigns.services import do_create_campaign

    do_create_campaign(other_org, None, name="Globex secret", product_name="G")
    body = login(admin_user).get(reverse("ui:campaign_list")).content.decode()
    assert "Spring launch" in body
    assert "Globex secret" not in body
