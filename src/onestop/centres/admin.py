from django.contrib import admin

from onestop.catalogue.admin import RegisterAdmin
from onestop.centres.models import Centre


@admin.register(Centre)
class CentreAdmin(RegisterAdmin):
    list_display = ("code", "country", "region", "kind", "counters")
    list_filter = ("country", "kind")
    search_fields = ("code",)
