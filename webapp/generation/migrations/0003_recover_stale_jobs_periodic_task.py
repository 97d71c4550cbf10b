"""Install the periodic task that resumes jobs whose worker died.

It lives in the database (django-celery-beat), so operators can change the
interval or switch it off in the Django admin.
"""

from django.db import migrations

NAME = "copydesk: recover stale generation jobs"


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "webapp.generation.tasks.recover_stale_jobs",
            "interval": every_minute,
            "description": "Resume running jobs whose lease ran out.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=NAME
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0002_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, remove)]
