"""How workers look in the REST API."""

from rest_framework import serializers

from workers.models import Worker, WorkerStatus
from workflows.serializers import StatusField


class WorkerSerializer(serializers.ModelSerializer):
    """A worker; expects the `used_slots` annotation of `workers_with_slots`."""

    status = StatusField(WorkerStatus)
    actions = serializers.ListField(child=serializers.CharField())
    labels = serializers.DictField(
        child=serializers.JSONField(), help_text="Text, numbers, true or false, by name."
    )
    used_slots = serializers.IntegerField(help_text="Step runs the worker holds now.")
    free_slots = serializers.SerializerMethodField()

    class Meta:
        model = Worker
        fields = [
            "id",
            "name",
            "status",
            "actions",
            "labels",
            "slots",
            "used_slots",
            "free_slots",
            "sdk_version",
            "last_heartbeat_at",
            "connected_at",
            "node",
        ]

    def get_free_slots(self, worker: Worker) -> int:
        # A worker that shrank its slots while holding more step runs has none free.
        return max(0, worker.slots - worker.used_slots)  # type: ignore[attr-defined]
