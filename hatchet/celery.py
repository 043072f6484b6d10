"""The Celery app: eager in the embedded mode, on Redis in production."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hatchet.settings")

app = Celery("hatchet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
