"""The Celery app: queues and task routing are declared here, in one place."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("webapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("generation"), Queue("training"))
app.conf.task_routes = {
    "webapp.generation.tasks.run_generation_job": {"queue": "generation"},
    "webapp.generation.tasks.*": {"queue": "default"},
    "webapp.training.tasks.run_training_job": {"queue": "training"},
    "webapp.training.tasks.*": {"queue": "default"},
}
app.autodiscover_tasks()
