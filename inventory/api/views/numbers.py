"""The account's numbers for scripts: the inventory (the page's filters, cursor pages), one
number, its configuration, cancellation and local fields, and an operation's record."""

from __future__ import annotations

import base64
import binascii
import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from inventory import selectors
from inventory.api.forms import CancelConfirmForm
from inventory.api.idempotency import idempotent
from inventory.api.inputs import (
    body_form,
    body_object,
    form_parameters,
    form_serializer,
    query_form,
)
from inventory.api.problems import InvalidInput
from inventory.api.serializers import (
    InventoryPageSerializer,
    OperationSerializer,
    OwnedNumberSerializer,
    ProblemSerializer,
)
from inventory.api.views.base import (
    PortalApiView,
    actor,
    operation_answer,
    owned_or_404,
    replayed,
)
from inventory.forms import AnnotateForm, ConfigureForm, InventoryFilterForm
from inventory.services import cancel, configure, numbers
from inventory.services.cache import configuration_of, local_fields_of

BROWSE = "inventory.browse_inventory"
ConfigureRequest = form_serializer(ConfigureForm, "ConfigurationChange", optional=True)
NotesRequest = form_serializer(AnnotateForm, "LocalFields", optional=True)
CancelRequest = form_serializer(CancelConfirmForm, "CancelConfirmation")
_CURSOR = re.compile(r"^[0-9]{1,15}$")
OPERATION_ANSWERS = {
    200: OperationSerializer,
    202: OperationSerializer,
    409: ProblemSerializer,
    422: ProblemSerializer,
}


def _cursor(text: str) -> str:
    """The last number of the page before, from the opaque `cursor` parameter."""
    if not text:
        return ""
    try:
        msisdn = base64.urlsafe_b64decode(text.encode() + b"==").decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        msisdn = ""
    if not _CURSOR.match(msisdn):
        detail = "This cursor is not one the portal gave: start from the first page."
        raise InvalidInput([{"parameter": "cursor", "detail": detail}])
    return msisdn


def _next_cursor(msisdn: str) -> str:
    return base64.urlsafe_b64encode(msisdn.encode()).decode().rstrip("=")


class NumberList(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(
        operation_id="numbers_list",
        summary="The account's numbers (the local copy, no API call)",
        description="The inventory page's filters; pages in number order, by cursor: follow "
        "`next` until it is null.",
        parameters=[
            *form_parameters(InventoryFilterForm, exclude=("sort", "page")),
            OpenApiParameter("cursor", str, description="From the `next` of the page before."),
        ],
        responses={200: InventoryPageSerializer},
    )
    def get(self, request):
        form = query_form(InventoryFilterForm, request.query_params)
        filters = selectors.InventoryFilter.from_form(form.cleaned_data)
        after = _cursor(request.query_params.get("cursor", ""))
        rows = selectors.owned_numbers_after(filters=filters, after=after, limit=filters.size + 1)
        summary = selectors.inventory_totals(filters=filters)
        following = None
        if len(rows) > filters.size:
            rows = rows[: filters.size]
            query = request.query_params.copy()
            query["cursor"] = _next_cursor(rows[-1].msisdn)
            following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        page = {
            "count": summary.count,
            "priced": summary.priced,
            "monthly_total": summary.monthly_total,
            "next": following,
            "results": rows,
        }
        return Response(InventoryPageSerializer(page).data)


class NumberDetail(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(operation_id="number_get", responses={200: OwnedNumberSerializer})
    def get(self, request, msisdn: str):
        return Response(OwnedNumberSerializer(owned_or_404(msisdn)).data)


class NumberConfigure(PortalApiView):
    permissions = {"POST": "inventory.configure_number"}

    @extend_schema(
        operation_id="number_configure",
        summary="Change where a number's calls and messages go",
        description="Send only what changes (an empty string clears a field); what is left out "
        "stays as it is. The change counts as made once the API shows it.",
        request=ConfigureRequest,
        responses={**OPERATION_ANSWERS, 404: ProblemSerializer},
    )
    def post(self, request, msisdn: str):
        return idempotent(request, self, lambda token: self.change(request, msisdn, token))

    def change(self, request, msisdn: str, form_token: str) -> Response:
        earlier = replayed(request, form_token)
        if earlier is not None:
            return operation_answer(earlier)
        current = configuration_of(owned_or_404(msisdn))
        form = body_form(ConfigureForm, {**current, **body_object(request.data)})
        entry = configure.number_configure(
            actor=actor(request),
            msisdn=msisdn,
            changes=form.changes(current),
            reviewed=current,
            form_token=form_token,
        )
        return operation_answer(entry)


class NumberCancel(PortalApiView):
    permissions = {"POST": "inventory.cancel_number"}

    @extend_schema(
        operation_id="number_cancel",
        summary="Cancel a number",
        description="Name the number again in the body, as a person types it on the page.",
        request=CancelRequest,
        responses=OPERATION_ANSWERS,
    )
    def post(self, request, msisdn: str):
        return idempotent(request, self, lambda token: self.cancel(request, msisdn, token))

    def cancel(self, request, msisdn: str, form_token: str) -> Response:
        # The number itself is not looked up: sent again after it has gone, the request
        # gets the cancellation's first answer (the operation's replay).
        form = body_form(CancelConfirmForm, request.data, number=msisdn)
        entry = cancel.number_cancel(
            actor=actor(request),
            msisdn=msisdn,
            typed_msisdn=form.cleaned_data["msisdn"],
            form_token=form_token,
        )
        return operation_answer(entry)


class NumberNotes(PortalApiView):
    permissions = {"POST": "inventory.annotate_number"}

    @extend_schema(
        operation_id="number_annotate",
        summary="Change a number's label, team or notes (the portal's own, no API call)",
        request=NotesRequest,
        responses={200: OwnedNumberSerializer},
    )
    def post(self, request, msisdn: str):
        return idempotent(request, self, lambda _token: self.annotate(request, msisdn))

    def annotate(self, request, msisdn: str) -> Response:
        number = owned_or_404(msisdn)
        form = body_form(AnnotateForm, {**local_fields_of(number), **body_object(request.data)})
        number = numbers.number_annotate(
            actor=actor(request), number=number, values=form.cleaned_data
        )
        return Response(OwnedNumberSerializer(number).data)


class OperationDetail(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(
        operation_id="operation_get",
        summary="A buy, cancel or configure, and how it ended (or was settled)",
        responses={200: OperationSerializer},
    )
    def get(self, request, pk: int):
        entry = selectors.operation_get(pk=pk)
        if entry is None:
            raise exceptions.NotFound("No such operation.")
        return Response(OperationSerializer(entry).data)
