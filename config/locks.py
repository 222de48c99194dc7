"""Row locks in one fixed order.

Two transactions that lock the same rows in different orders can deadlock;
locking always in primary-key order cannot (saleor's order/lock_objects.py
does the same). Every lock of more than one row goes through here."""

from django.db.models import QuerySet


def select_for_update_in_pk_order(queryset: QuerySet, **kwargs) -> QuerySet:
    """``queryset`` locked FOR UPDATE (of its own table only), ordered by pk.
    Call inside transaction.atomic(); iterate it to take the locks."""
    kwargs.setdefault("of", ("self",))
    return queryset.order_by("pk").select_for_update(**kwargs)


def lock_rows(queryset: QuerySet, ids=None, **kwargs) -> dict:
    """Locks the rows (those of ``ids`` when given) in pk order and returns
    them by pk; ids that do not exist are simply absent."""
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return {row.pk: row for row in select_for_update_in_pk_order(queryset, **kwargs)}


def lock_pks(queryset: QuerySet, ids=None, **kwargs) -> set:
    """As lock_rows, reading only the primary keys."""
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return set(select_for_update_in_pk_order(queryset, **kwargs).values_list("pk", flat=True))
