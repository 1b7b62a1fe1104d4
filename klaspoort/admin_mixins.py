"""What the Django admin shares across the apps. Imports no app.

`ReadOnlyAdminMixin`: rows that change only through the app's own pages, commands or API,
which validate and audit, as an admin form would not. Operators may read them, not add, change
or delete.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
