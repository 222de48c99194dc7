import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, F, Func, Q, Value
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.admin import ServiceModelAdmin, ServiceModelForm
from config.errors import DomainError
from merchants import services
from merchants.models import Merchant

MERCHANT_FIELDS = ("canonical_name", "category", "country", "aliases", "tags")


class TagsField(forms.CharField):
    """Tags as a comma-separated list ("coffee, chain"), stored as a JSON list.
    A value that is already JSON (an object of flags, a list) is kept as typed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", 'Comma-separated, e.g. "coffee, chain" (or JSON, e.g. {"chain": true}).')
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list) and all(isinstance(tag, str) and "," not in tag for tag in value):
            return ", ".join(value)
        if isinstance(value, list | dict):
            return json.dumps(value)
        return value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if text.startswith(("[", "{")):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise forms.ValidationError("Not valid JSON; or give the tags comma-separated.", code="invalid")
            if not isinstance(parsed, list | dict):
                raise forms.ValidationError("JSON tags are a list or an object.", code="invalid")
            return parsed
        return [tag.strip() for tag in text.split(",") if tag.strip()]


class MerchantAdminForm(ServiceModelForm):
    """Saved by merchant_create / merchant_update, as the API creates: names
    and aliases cleaned, search columns derived, collisions refused."""

    tags = TagsField()

    class Meta:
        model = Merchant
        fields = list(MERCHANT_FIELDS)

    def run_service(self):
        data = self.cleaned_data
        if self.instance._state.adding:
            return services.merchant_create(**{name: data[name] for name in MERCHANT_FIELDS})
        changes = {name: data[name] for name in self.changed_data if name in MERCHANT_FIELDS}
        return services.merchant_update(merchant=self.instance, **changes)


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Merchant.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the merchant to keep."},
    )

    def __init__(self, *args, merchants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = merchants


@admin.register(Merchant)
class MerchantAdmin(ServiceModelAdmin):
    form = MerchantAdminForm
    list_display = ("canonical_name", "category", "country", "alias_count", "updated_at")
    list_filter = ("category", "country")
    search_fields = ("canonical_name",)
    readonly_fields = ("normalized_name", "alias_keys", "created_at", "updated_at")
    actions = ["merge_selected"]
    change_list_template = "admin/merchants/merchant/change_list.html"

    @admin.display(description="aliases")
    def alias_count(self, obj):
        return len(obj.aliases)

    def get_search_results(self, request, queryset, search_term):
        """Name search plus a case-insensitive substring match over aliases."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            alias_text = Func(F("aliases"), Value(" | "), function="array_to_string", output_field=CharField())
            alias_hits = queryset.annotate(alias_text=alias_text).filter(Q(alias_text__icontains=term))
            results = results | queryset.filter(pk__in=alias_hits.values("pk"))
        return results, may_have_duplicates

    def delete_object(self, obj):
        services.merchant_delete(merchant=obj)

    @admin.action(description="Merge selected merchants into one", permissions=["change"])
    def merge_selected(self, request, queryset):
        if queryset.count() < 2:
            self.message_user(request, "Select at least two merchants to merge.", messages.WARNING)
            return None
        if "apply" in request.POST:
            form = MergeForm(request.POST, merchants=queryset)
            if form.is_valid():
                target = form.cleaned_data["target"]
                sources = [m for m in queryset if m.pk != target.pk]
                try:
                    services.merchant_merge(target=target, source_ids=[m.pk for m in sources])
                except DomainError as exc:
                    self.message_user(request, f"Nothing merged: {exc.detail}", messages.ERROR)
                    return None
                names = ", ".join(sorted(m.canonical_name for m in sources))
                # The target's history says what was folded into it (the sources are gone).
                self.log_change(request, target, f"Merged {names} into this merchant.")
                self.message_user(request, f"Merged {len(sources)} merchant(s) into {target}.", messages.SUCCESS)
                return None
            self.message_user(request, "Nothing merged: choose the merchant to keep.", messages.ERROR)
        else:
            form = MergeForm(merchants=queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge merchants",
            "opts": self.model._meta,
            "form": form,
            "merchants": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/merchants/merchant/merge.html", context)

    # Import merchants: upload a CSV, optionally as a dry run, and see what happened.

    def get_urls(self):
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="merchants_merchant_import",
            )
        ]
        return custom + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = MerchantImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = services.merchant_rows_read(upload.read(), source=upload.name)
                result = services.merchant_import(
                    rows=rows, update=form.cleaned_data["update"], dry_run=form.cleaned_data["dry_run"]
                )
            except DomainError as exc:
                form.add_error("file", exc.detail)
            else:
                level = messages.WARNING if result.errors else messages.SUCCESS
                prefix = "Dry run: would have " if form.cleaned_data["dry_run"] else ""
                self.message_user(
                    request,
                    f"{prefix}imported {result.imported}, updated {result.updated}, skipped {result.skipped}, "
                    f"rejected {len(result.errors)}.",
                    level,
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Import merchants",
            "opts": self.model._meta,
            "form": form,
            "result": result,
            "dry_run": bool(form.is_bound and form.is_valid() and form.cleaned_data["dry_run"]),
            "changelist_url": reverse("admin:merchants_merchant_changelist"),
        }
        return TemplateResponse(request, "admin/merchants/merchant/import.html", context)


class MerchantImportForm(forms.Form):
    file = forms.FileField(help_text="CSV: canonical_name, category, aliases (pipe-separated), country, tags (JSON).")
    update = forms.BooleanField(required=False, help_text="Overwrite merchants that already exist.")
    dry_run = forms.BooleanField(required=False, initial=True, help_text="Check and count; write nothing.")
