"""Admin plumbing shared by every app: writes go through services, and a
service's domain errors become form errors.

``ServiceModelForm`` runs the app's service (``run_service``) once the
form's own validation passed, in a savepoint inside the admin's
transaction: a DomainError rolls the savepoint back and is shown on the form
(on its field when the form has it, else above the form), never as a 500.
``ServiceModelAdmin`` then saves nothing itself, and deletes through
``delete_object`` (one service call per row, for the change page's and the
bulk action's deletes alike)."""

from django import forms
from django.contrib import admin
from django.contrib import messages as admin_messages
from django.db import transaction
from django.http import HttpResponseRedirect

from config.errors import DomainError


def form_error(exc: DomainError, form: forms.BaseForm | None = None) -> forms.ValidationError:
    """The error as a ValidationError for ``clean()``: per field when the form
    has the field, otherwise a non-field error."""
    fields = form.fields if form is not None else {}
    by_field: dict[str, list] = {}
    existing = exc.extra.get("existing_id")
    for attr, messages in exc.field_errors().items():
        key = attr if attr in fields else forms.forms.NON_FIELD_ERRORS
        if existing:
            messages = [f"{m} (existing: {existing})" for m in messages]
        by_field.setdefault(key, []).extend(forms.ValidationError(m, code=exc.code) for m in messages)
    return forms.ValidationError(by_field)


class ServiceModelForm(forms.ModelForm):
    """A ModelForm saved by a service: subclasses implement ``run_service``
    (create when ``self.instance._state.adding``, else update with
    ``self.changed_data``) and return the stored object."""

    service_result = None

    def run_service(self):
        raise NotImplementedError

    def _post_clean(self):
        # The model's field checks, but not its unique checks and constraints:
        # the service decides duplicates (a Conflict naming the existing row),
        # and the database constraints still hold.
        try:
            self.instance = forms.models.construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
            self.instance.full_clean(
                exclude=self._get_validation_exclusions(), validate_unique=False, validate_constraints=False
            )
        except forms.ValidationError as exc:
            self._update_errors(exc)
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.service_result = self.run_service()
        except DomainError as exc:
            self.add_error(None, form_error(exc, self))

    def save(self, commit=True):
        if self.service_result is None:
            raise ValueError("The service did not run: validate the form first.")
        self.instance = self.service_result
        self.save_m2m = lambda: None
        return self.instance


class ServiceModelAdmin(admin.ModelAdmin):
    """Admin whose form is a ServiceModelForm and whose deletes call
    ``delete_object(obj)`` (a service). A delete (or any action) the service
    refuses with a DomainError changes nothing and is shown as an error
    message on the page it came from, never as a 500 or a false success."""

    def save_model(self, request, obj, form, change):
        pass  # the form's service stored it

    def delete_object(self, obj) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.delete_object(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_object(obj)

    def _refused(self, request, exc: DomainError, back: str):
        self.message_user(request, f"Nothing was changed: {exc.detail}", admin_messages.ERROR)
        return HttpResponseRedirect(back)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with transaction.atomic():
                return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            # Back to the object's change page (the delete page would only ask again).
            return self._refused(request, exc, request.path.rsplit("/delete/", 1)[0] + "/change/")

    def response_action(self, request, queryset):
        # The whole action in one savepoint: a refused row (the bulk delete's included) rolls back the others.
        try:
            with transaction.atomic():
                return super().response_action(request, queryset)
        except DomainError as exc:
            return self._refused(request, exc, request.get_full_path())


class ReadOnlyAdminMixin:
    """An admin that shows records and runs its actions but never adds, edits
    or deletes them (history, anchors, rows that only services write)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
