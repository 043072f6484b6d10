"""A version's steps, read once per process: they never change once registered."""

import functools
from typing import Any

from workflows.models import Step


@functools.lru_cache(maxsize=1024)
def steps_of(version_id: Any) -> list[Step]:
    """The steps in position order; shared, so callers must not change them."""
    return list(Step.objects.filter(version_id=version_id).order_by("position"))
