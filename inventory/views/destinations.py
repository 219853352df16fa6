"""Named destinations: the library of places calls and messages go."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.bulk_forms import DestinationForm, MoveDestinationForm
from inventory.decorators import permission_refused, permission_required
from inventory.models import Batch, Destination
from inventory.services import destinations
from inventory.services.operations import ServiceError


def _destination_or_404(pk: int) -> Destination:
    destination = Destination.objects.filter(pk=pk).first()
    if destination is None:
        raise Http404("No such destination.")
    return destination


@permission_required("inventory.browse_inventory")
@require_http_methods(["GET", "POST"])
def destination_list(request: HttpRequest) -> HttpResponse:
    form = DestinationForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("inventory.configure_number"):
            return permission_refused(request, "inventory.configure_number")
        if form.is_valid():
            return _saved(request, form, "destinations")
    context = {"destinations": selectors.destinations(), "form": form}
    return render(request, "inventory/destinations.html", context)


@permission_required("inventory.browse_inventory")
@require_GET
def destination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    destination = _destination_or_404(pk)
    routed = selectors.numbers_routed_to(destination=destination)
    context = {
        "destination": destination,
        "form": DestinationForm(instance=destination),
        "move": MoveDestinationForm(source=destination),
        "routed_count": routed.count(),
        "routed": routed.order_by("msisdn")[:20],
    }
    return render(request, "inventory/destination.html", context)


def _saved(request: HttpRequest, form: DestinationForm, then: str) -> HttpResponse:
    try:
        saved = destinations.destination_save(
            actor=Actor.from_request(request), destination=form.save(commit=False)
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
        return redirect(then)
    messages.success(request, f"“{saved.name}” saved.")
    return redirect("destination", pk=saved.pk)


@permission_required("inventory.configure_number")
@require_POST
def destination_edit(request: HttpRequest, pk: int) -> HttpResponse:
    form = DestinationForm(request.POST, instance=_destination_or_404(pk))
    if not form.is_valid():
        messages.error(
            request, "Not saved: " + " ".join(str(e) for v in form.errors.values() for e in v)
        )
        return redirect("destination", pk=pk)
    return _saved(request, form, "destinations")


@permission_required("inventory.configure_number")
@require_POST
def destination_delete(request: HttpRequest, pk: int) -> HttpResponse:
    destination = _destination_or_404(pk)
    destinations.destination_delete(actor=Actor.from_request(request), destination=destination)
    messages.info(
        request, f"“{destination.name}” removed; numbers routed there keep their routing."
    )
    return redirect("destinations")


@permission_required("inventory.configure_number")
@require_POST
def destination_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Every number routed to this destination, over to another: a batch to review."""
    source = _destination_or_404(pk)
    form = MoveDestinationForm(request.POST, source=source)
    if not form.is_valid():
        messages.error(request, "Choose where the numbers should go.")
        return redirect("destination", pk=pk)
    msisdns = list(
        selectors.numbers_routed_to(destination=source).values_list("msisdn", flat=True)[
            : Batch.MAX_ITEMS
        ]
    )
    try:
        batch = destinations.destination_move(
            actor=Actor.from_request(request),
            source=source,
            target=form.cleaned_data["to"],
            msisdns=msisdns,
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
        return redirect("destination", pk=pk)
    return redirect("batch", pk=batch.pk)
