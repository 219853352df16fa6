"""System status, for superusers: the API connection and its quota in words, the last
syncs, and the task queue's health."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from inventory import health, selectors, wording
from inventory.decorators import permission_refused
from inventory.services import workers


@require_GET
def system_status(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        return permission_refused(request, "superuser")
    connection = health.api_connection()
    context = {
        "connection": connection,
        "quotas": [
            wording.quota_in_words(call, quota) for call, quota in connection.quotas.items()
        ],
        "syncs": selectors.syncs_recent(),
        "workers": workers.workers_alive(),
        "queue": selectors.task_queue(),
        "refreshes": selectors.rate_card_refreshes(),
    }
    return render(request, "inventory/system.html", context)
