"""The one lookup-or-404 every service uses: a row of the caller's tenant, or NotFound
with the message and details the API answers."""

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet

from hatchet.errors import NotFound

M = TypeVar("M", bound=Model)


def get_or_404(
    queryset: QuerySet[M], message: str, *, details: dict[str, Any] | None = None, **where: Any
) -> M:
    """The first row of `queryset` matching `where`, else NotFound(message). A key that
    cannot be one (an id that is no UUID) is not found either. The details name what was
    looked for: `{"id": ...}` for a primary key, unless given."""
    try:
        where = {
            key: queryset.model._meta.pk.to_python(value) if key == "pk" else value
            for key, value in where.items()
        }
    except ValidationError:
        raise NotFound(message, details or _looked_for(where)) from None
    found = queryset.filter(**where).first()
    if found is None:
        raise NotFound(message, details or _looked_for(where))
    return found


def _looked_for(where: dict[str, Any]) -> dict[str, str]:
    return {"id" if key == "pk" else key: str(value) for key, value in where.items()}
