"""Views: each one checks its permission, cleans its input with a form, and asks one
selector or service for what it shows. Errors from the API become messages in one place
(`inventory.errors`), never a 500."""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from inventory import selectors


@require_GET
def home(request):
    return render(request, "inventory/home.html", {"connection": selectors.api_connection()})


@login_not_required
@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
