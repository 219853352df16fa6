"""An operation's own page, and the one way a write view answers a refused operation."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from inventory import selectors
from inventory.decorators import permission_required
from inventory.services.operations import OperationRefused


@permission_required("inventory.browse_inventory")
@require_GET
def operation(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.operation_get(pk=pk)
    if entry is None:
        raise Http404("No such operation.")
    return render(request, "inventory/operation.html", {"entry": entry})


def refused(request: HttpRequest, refusal: OperationRefused, *, fallback: str) -> HttpResponse:
    """A refusal the trail recorded is shown on its own page; one refused before anything
    was recorded (a mismatch, a form used twice) as a message on `fallback`."""
    if refusal.entry is not None:
        return redirect("operation", pk=refusal.entry.pk)
    messages.error(request, str(refusal))
    return redirect(fallback)
