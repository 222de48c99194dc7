"""The one not-found convention for selectors: ``<entity>_get`` returns the
row or raises config.errors.NotFound (a 404 in the API). A malformed id
(not a UUID) is the same not-found, never a 500; another user's row is too,
because the selector's queryset is already scoped to the user."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet

from config.errors import NotFound


def get_or_not_found(queryset: QuerySet, message: str = "Not found.", **lookup) -> Model:
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise NotFound(message)
