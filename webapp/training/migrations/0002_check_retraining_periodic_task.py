"""Install the periodic task that checks every organization's retraining policy.

It lives in the database (django-celery-beat), so operators can change the
interval or switch it off in the Django admin.
"""

from django.db import migrations

NAME = "copydesk: check retraining policies"


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=600, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "webapp.training.tasks.check_retraining",
            "interval": every,
            "description": (
                "Fine-tune organizations that have N new rated or edited "
                "candidates since their last training run; fail lost runs."
            ),
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=NAME
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, remove)]
