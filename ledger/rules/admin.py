from django import forms
from django.contrib import admin

from config.exceptions import DomainError
from ledger.models import Rule
from ledger.rules import services
from ledger.rules.errors import RuleInvalid


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ("user", "name", "enabled", "position", "conditions", "actions", "stop_processing")

    def clean(self):
        data = super().clean()
        if "conditions" in data and "actions" in data:
            try:
                services.rule_compiled(
                    Rule(name=data.get("name", ""), conditions=data["conditions"], actions=data["actions"])
                )
            except RuleInvalid as exc:
                raise forms.ValidationError([f"{path}: {message}" for path, _, message in exc.problems])
            except DomainError as exc:
                raise forms.ValidationError(str(exc.detail))
        return data


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Writes go through the same services as the API (the form validates
    with the same compiler)."""

    form = RuleForm
    list_display = ("name", "user", "position", "enabled", "stop_processing", "applied_count", "last_applied_at")
    list_filter = ("enabled",)
    search_fields = ("name", "user__email")
    raw_id_fields = ("user",)
    readonly_fields = ("applied_count", "last_applied_at", "created_at", "updated_at")
    ordering = ("user", "position")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE if name in form.cleaned_data}
        if change:
            services.rule_update(rule=obj, **fields)
        else:
            created = services.rule_create(user=form.cleaned_data["user"], **fields)
            obj.pk, obj.id = created.pk, created.id
            obj._state.adding = False

    def delete_model(self, request, obj):
        services.rule_delete(rule=obj)
