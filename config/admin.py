"""Admin plumbing shared by every app: domain errors become form errors.

Admin pages write through the same services as the API; a service's
DomainError is shown on the form (on its field when the form has it, else
above the form) instead of a 500."""

from django import forms

from config.errors import DomainError


def form_error(exc: DomainError, form: forms.BaseForm | None = None) -> forms.ValidationError:
    """The error as a ValidationError for ``clean()``: per field when the form
    has the field, otherwise a non-field error."""
    fields = form.fields if form is not None else {}
    by_field: dict[str, list] = {}
    for attr, messages in exc.field_errors().items():
        key = attr if attr in fields else forms.forms.NON_FIELD_ERRORS
        by_field.setdefault(key, []).extend(forms.ValidationError(m, code=exc.code) for m in messages)
    return forms.ValidationError(by_field)


def add_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Adds the error to a bound form (after cleaning, when the service ran)."""
    form.add_error(None, form_error(exc, form))
