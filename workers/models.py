"""The registry of workers: who is connected, what they serve, how many slots."""

import uuid

from django.db import models
from django.utils import timezone

from hatchet.models import APIToken, Tenant


class WorkerStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"
    DISCONNECTED = "DISCONNECTED"
    STOPPED = "STOPPED"


WORKER_LIVE = {WorkerStatus.ACTIVE, WorkerStatus.DRAINING, WorkerStatus.DISCONNECTED}


class Worker(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="workers")
    name = models.CharField(max_length=200)
    actions = models.JSONField(default=list)
    slots = models.PositiveIntegerField()
    labels = models.JSONField(default=dict)
    sdk_version = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=WorkerStatus.choices, default=WorkerStatus.ACTIVE
    )
    # Which socket currently speaks for the worker; a stale socket's disconnect must
    # not mark a reconnected worker as gone.
    connection_id = models.UUIDField(null=True, blank=True)
    node = models.CharField(max_length=200, blank=True, default="")
    # The hash of the secret a reconnecting worker shows to resume this identity: a
    # token of the tenant alone must not take over another live worker.
    resume_key_hash = models.CharField(max_length=64, blank=True, default="")
    # The token its socket authenticated with: a worker token reads only its workers.
    token = models.ForeignKey(
        APIToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="workers"
    )
    created_at = models.DateTimeField(default=timezone.now)
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "last_heartbeat_at"], name="worker_liveness")]
        ordering = ["-connected_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class ServerNode(models.Model):
    """A server process that holds worker sockets, and when it was last up. A worker
    that could not reach its server is not to blame for its silence."""

    name = models.CharField(max_length=200, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name
