"""The catalogue for scripts: searching the numbers on sale, buying one at no more than the
script agreed to pay, and the selection a bulk purchase is made from."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from inventory import phone, selectors
from inventory.api.forms import OfferForm, PickForm
from inventory.api.idempotency import idempotent
from inventory.api.inputs import (
    body_form,
    body_object,
    form_parameters,
    form_serializer,
    query_form,
)
from inventory.api.problems import InvalidInput, Problem
from inventory.api.serializers import (
    ApprovalRequestSerializer,
    CataloguePageSerializer,
    OperationSerializer,
    ProblemSerializer,
    SelectionAddedSerializer,
    SelectionSerializer,
)
from inventory.api.views.base import (
    PortalApiView,
    actor,
    approval_answer,
    operation_answer,
    replayed,
)
from inventory.forms import CatalogueSearchForm
from inventory.models import Batch
from inventory.services import approvals, batches
from inventory.services.catalogue import (
    CatalogueQuery,
    catalogue_search,
    offer_over_budget,
    offer_price_check,
)
from inventory.services.purchase import number_purchase

BUY = "inventory.buy_number"
PurchaseRequest = form_serializer(OfferForm, "Purchase")
Pick = form_serializer(PickForm, "Pick")


class SelectionRequest(serializers.Serializer):
    numbers = serializers.ListField(child=Pick(), min_length=1, max_length=Batch.MAX_ITEMS)


class CatalogueSearch(PortalApiView):
    permissions = {"GET": "inventory.browse_catalogue"}

    @extend_schema(
        operation_id="catalogue_search",
        summary="Search the numbers on sale",
        description="The catalogue's search form as parameters. A repeat of a search within "
        "the cache window costs no call to the Phone Numbers API.",
        parameters=form_parameters(CatalogueSearchForm),
        responses={200: CataloguePageSerializer, 502: ProblemSerializer},
    )
    def get(self, request):
        form = query_form(CatalogueSearchForm, request.query_params)
        query = CatalogueQuery.from_form(form.cleaned_data)
        results = catalogue_search(query=query)
        page = {
            "count": results.page.count,
            "page": query.page,
            "size": query.size,
            "from_cache": results.from_cache,
            "results": results.page.items,
        }
        return Response(CataloguePageSerializer(page).data)


class Purchases(PortalApiView):
    permissions = {"POST": BUY}

    @extend_schema(
        operation_id="purchase_create",
        summary="Buy a number",
        description="The offer is checked afresh first: a number no longer on sale, or dearer "
        "than `max_monthly_cost` / `max_setup_cost`, is refused (409) and nothing is bought. "
        "Succeeded: 201; outcome still unknown (the answer was lost, it is being settled from "
        "the account): 202, follow the operation's `url`; the provider declined: 422. One the "
        "approval rules hold back is refused (409 approval-required) unless it says why it is "
        "needed in `reason`: then it becomes an approval request (202, its `url` to follow) and "
        "is bought, at no more than these prices, once someone else approves it.",
        request=PurchaseRequest,
        responses={
            201: OperationSerializer,
            202: PolymorphicProxySerializer(
                component_name="PurchaseAccepted",
                serializers=[OperationSerializer, ApprovalRequestSerializer],
                resource_type_field_name=None,
            ),
            409: ProblemSerializer,
            422: ProblemSerializer,
            502: ProblemSerializer,
        },
    )
    def post(self, request):
        return idempotent(request, self, lambda token: self.buy(request, token))

    def buy(self, request, form_token: str) -> Response:
        earlier = replayed(request, form_token)
        if earlier is not None:
            return operation_answer(earlier, done=status.HTTP_201_CREATED)
        data = body_form(OfferForm, request.data).cleaned_data
        msisdn = data["msisdn"]
        offer = offer_price_check(
            country=data["country"], type=data["type"] or phone.likely_type(msisdn), msisdn=msisdn
        )
        if offer is None:
            detail = f"{phone.international(msisdn)} is no longer on sale; nothing was bought."
            raise Problem(409, "Not on sale", detail, kind="not-on-sale")
        over = offer_over_budget(
            offer=offer, max_monthly=data["max_monthly_cost"], max_setup=data["max_setup_cost"]
        )
        if over:
            raise Problem(409, "Dearer than agreed", over, kind="price-too-high")
        try:
            entry = number_purchase(actor=actor(request), offer=offer, form_token=form_token)
        except approvals.ApprovalRequired as needed:
            return self.ask(request, offer, needed, reason=data["reason"], form_token=form_token)
        return operation_answer(entry, done=status.HTTP_201_CREATED)

    def ask(self, request, offer, needed, *, reason: str, form_token: str) -> Response:
        """A purchase the approval rules hold back becomes a request, with the script's
        reason (ApprovalRequired without one: a 409 that says to send one)."""
        asked = approvals.purchase_request_create(
            actor=actor(request),
            offers=[offer],
            rule=needed.rule,
            reason=reason,
            form_token=form_token,
        )
        return approval_answer(asked)


def _selection(user) -> dict:
    selection = selectors.selection_of(user=user)
    return {
        "count": selection.count,
        "setup_total": selection.setup_total,
        "monthly_total": selection.monthly_total,
        "items": selection.items,
    }


def _picks(data) -> list[dict]:
    """The numbers of a selection request, each checked as a pick, every fault named."""
    numbers = body_object(data).get("numbers")
    if not isinstance(numbers, list) or not numbers:
        raise InvalidInput([{"pointer": "#/numbers", "detail": "Name at least one number."}])
    if len(numbers) > Batch.MAX_ITEMS:
        detail = f"A selection holds at most {Batch.MAX_ITEMS:,} numbers."
        raise InvalidInput([{"pointer": "#/numbers", "detail": detail}])
    picks, errors = [], []
    for position, number in enumerate(numbers):
        try:
            pick = body_form(PickForm, number, at=f"#/numbers/{position}/").cleaned_data
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
            continue
        picks.append(
            {
                **{name: pick[name] for name in ("country", "msisdn", "type", "features")},
                "cost": str(pick["max_monthly_cost"]),
                "initial_price": str(pick["max_setup_cost"]),
            }
        )
    if errors:
        raise InvalidInput(errors)
    return picks


class Selection(PortalApiView):
    permissions = {"GET": BUY, "POST": BUY, "DELETE": BUY}

    @extend_schema(
        operation_id="selection_get",
        summary="The numbers picked for a bulk purchase",
        responses={200: SelectionSerializer},
    )
    def get(self, request):
        return Response(SelectionSerializer(_selection(request.user)).data)

    @extend_schema(
        operation_id="selection_add",
        summary="Pick numbers for a bulk purchase",
        description="Each at the most you agree to pay: when the bulk purchase is checked, a "
        "number that costs more by then is left out and says why.",
        request=SelectionRequest,
        responses={200: SelectionAddedSerializer, 409: ProblemSerializer},
    )
    def post(self, request):
        return idempotent(request, self, lambda _token: self.add(request))

    def add(self, request) -> Response:
        added = batches.selection_pick(user=request.user, picks=_picks(request.data))
        return Response(SelectionAddedSerializer({**_selection(request.user), "added": added}).data)

    @extend_schema(
        operation_id="selection_clear",
        summary="Empty the selection",
        responses={204: OpenApiResponse(description="The selection is empty.")},
    )
    def delete(self, request):
        batches.selection_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SelectionNumber(PortalApiView):
    permissions = {"DELETE": BUY}

    @extend_schema(
        operation_id="selection_remove",
        summary="Take a number out of the selection",
        responses={204: OpenApiResponse(description="It is not in the selection (any more).")},
    )
    def delete(self, request, msisdn: str):
        batches.selection_remove(user=request.user, msisdn=msisdn)
        return Response(status=status.HTTP_204_NO_CONTENT)
