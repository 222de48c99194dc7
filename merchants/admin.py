from django import forms
from django.contrib import admin, messages
from django.db.models import CharField, F, Func, Q, Value
from django.template.response import TemplateResponse

from config.admin import ServiceModelAdmin, ServiceModelForm
from merchants import services
from merchants.models import Merchant

MERCHANT_FIELDS = ("canonical_name", "category", "country", "aliases", "tags")


class MerchantAdminForm(ServiceModelForm):
    """Saved by merchant_create / merchant_update, as the API creates: names
    and aliases cleaned, search columns derived, collisions refused."""

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
    target = forms.ModelChoiceField(queryset=Merchant.objects.none(), widget=forms.RadioSelect)

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
                sources = [m.pk for m in queryset if m.pk != target.pk]
                services.merchant_merge(target=target, source_ids=sources)
                self.message_user(request, f"Merged {len(sources)} merchant(s) into {target}.", messages.SUCCESS)
                return None
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
