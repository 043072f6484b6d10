"""Hatchet's Python SDK: declare workflows, run workers, trigger and follow runs."""

from hatchet.sdk.client import Hatchet, WorkflowRun
from hatchet.sdk.context import CancellationFlag, Context
from hatchet.sdk.durable import ChildRun, Spawn
from hatchet.sdk.errors import (
    AuthenticationError,
    ChildWorkflowFailed,
    HatchetConnectionError,
    HatchetError,
    InvalidRequestError,
    NonDeterministicError,
    NonRetryableError,
    NotFoundError,
    ServerError,
    StepOutputNotFound,
    WaitTimedOut,
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
    "ChildRun",
    "ChildWorkflowFailed",
    "Concurrency",
    "Context",
    "DesiredLabel",
    "Evaluation",
    "Hatchet",
    "HatchetConnectionError",
    "HatchetError",
    "InvalidRequestError",
    "NonDeterministicError",
    "NonRetryableError",
    "NotFoundError",
    "RateLimit",
    "ServerError",
    "Spawn",
    "StepOutputNotFound",
    "WaitTimedOut",
    "Worker",
    "WorkflowRun",
    "WorkflowRunFailed",
]
