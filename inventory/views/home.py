"""The home page (the dashboard), the health probe, and the portal's own refusal page."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

from inventory import charts, health, selectors
from inventory.api.plain import is_api, plain_problem
from inventory.audit import Actor
from inventory.services import events


@require_GET
def home(request):
    """The dashboard: where the money goes, what changed, what needs attention. Its figures
    come from tables the writes keep (never a count of the cache), so it costs the same few
    queries at a hundred numbers and at a million."""
    context: dict[str, Any] = {}
    if request.user.has_perm("inventory.browse_inventory"):
        dashboard = selectors.spend_dashboard()
        context.update(
            overview=selectors.inventory_overview(),
            dashboard=dashboard,
            charts=charts.dashboard_charts(dashboard),
            countries=charts.country_shares(dashboard.by_country),
            types=charts.type_shares(dashboard.by_type),
            teams=charts.team_shares(dashboard.by_team),
        )
    return render(request, "inventory/home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers: 503 only when the database is down; see inventory/health.py."""
    report = health.health_report()
    return JsonResponse(report.as_dict(), status=report.http_status)


def forbidden(request, exception=None):
    """handler403: a refusal raised anywhere (the admin's included) is audited like the
    decorator's own. Views using `permission_required` answer 403 themselves, so no refusal
    is recorded twice."""
    user = getattr(request, "user", None)  # absent if refused before authentication ran
    if user is not None and user.is_authenticated:
        events.access_denied_record(
            actor=Actor.from_request(request), method=request.method, path=request.path
        )
    return render(request, "403.html", status=403)


def not_found(request, exception=None):
    """handler404: the JSON API answers in its one shape for errors; pages get the page."""
    if is_api(request):
        detail = "There is nothing at this address. The API's routes are in /api/v1/schema."
        return plain_problem(
            request, status=404, title="Not found", detail=detail, kind="not-found"
        )
    return page_not_found(request, exception)
