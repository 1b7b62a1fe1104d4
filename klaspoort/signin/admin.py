from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.utils.translation import gettext_lazy as _

from klaspoort.signin.models import MaintenanceNotice


class MaintenanceNoticeForm(ModelForm):
    class Meta:
        model = MaintenanceNotice
        fields = ["message", "starts_at", "ends_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ValidationError(_("The end must come after the start."))
        return data


@admin.register(MaintenanceNotice)
class MaintenanceNoticeAdmin(admin.ModelAdmin):
    form = MaintenanceNoticeForm
    list_display = ["starts_at", "ends_at", "message", "created_by"]
    ordering = ["-starts_at"]

    def save_model(self, request: Any, obj: MaintenanceNotice, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
