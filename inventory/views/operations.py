"""An operation's own page, and running an operation service from a confirmation form."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from inventory import selectors, services
from inventory.audit import Actor
from inventory.decorators import permission_required


@permission_required("inventory.browse_inventory")
@require_GET
def operation(request, pk: int):
    entry = selectors.operation_get(pk=pk)
    if entry is None:
        raise Http404("No such operation.")
    return render(request, "inventory/operation.html", {"entry": entry})


# --- inventory ------------------------------------------------------------------------------


def run_operation_view(start, request, *, token: str, fallback: str):
    """Run an operation service and show its page; a refusal shows its recorded reason."""
    try:
        entry = start()
    except services.OperationRefused as refused:
        entry = services.operation_started_by(form_token=token, actor=Actor.from_request(request))
        if entry is None:
            messages.error(request, str(refused))
            return redirect(fallback)
    return redirect("operation", pk=entry.pk)


# --- errors ---------------------------------------------------------------------------------
