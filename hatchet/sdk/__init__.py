"""Hatchet's Python SDK: declare workflows, run workers, trigger and follow runs."""

from hatchet.sdk.client import Hatchet, WorkflowRun
from hatchet.sdk.context import CancellationFlag, Context
from hatchet.sdk.errors import (
    AuthenticationError,
    HatchetConnectionError,
    HatchetError,
    InvalidRequestError,
    NonRetryableError,
    NotFoundError,
    ServerError,
    StepOutputNotFound,
    WorkflowRunFailed,
)
from hatchet.sdk.evaluator import Evaluation
from hatchet.sdk.version import SDK_VERSION
from hatchet.sdk.worker import Worker
from hatchet.sdk.workflow import Concurrency, DesiredLabel, RateLimit

__all__ = [
    "SDK_VERSION",
    "AuthenticationError",
    "CancellationFlag",
    "Concurrency",
    "Context",
    "DesiredLabel",
    "Evaluation",
    "Hatchet",
    "HatchetConnectionError",
    "HatchetError",
    "InvalidRequestError",
    "NonRetryableError",
    "NotFoundError",
    "RateLimit",
    "ServerError",
    "StepOutputNotFound",
    "Worker",
    "WorkflowRun",
    "WorkflowRunFailed",
]
