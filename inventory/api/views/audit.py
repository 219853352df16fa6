"""The audit trail for auditors' scripts: the page's filters, pages by keyset (`older` and
`newer` follow the trail from any entry), and one entry."""

from __future__ import annotations

from urllib.parse import urlencode

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from inventory import selectors
from inventory.api.inputs import form_parameters, query_form
from inventory.api.serializers import AuditEntrySerializer, AuditPageSerializer
from inventory.api.views.base import PortalApiView
from inventory.forms import AuditFilterForm

REVIEW = "inventory.review_audit"


class AuditList(PortalApiView):
    permissions = {"GET": REVIEW}

    @extend_schema(
        operation_id="audit_list",
        summary="The audit trail, newest first",
        parameters=form_parameters(AuditFilterForm),
        responses={200: AuditPageSerializer},
    )
    def get(self, request):
        form = query_form(AuditFilterForm, request.query_params)
        filters = selectors.AuditFilter.from_form(form.cleaned_data)
        page = selectors.audit_page(filters=filters)

        def link(**cursor) -> str:
            return request.build_absolute_uri(
                f"{request.path}?{urlencode(filters.query(**cursor))}"
            )

        answer = {
            "results": page.entries,
            "older": link(before=page.older) if page.older is not None else None,
            "newer": link(after=page.newer) if page.newer is not None else None,
            "trail_length": page.trail_length,
        }
        return Response(AuditPageSerializer(answer).data)


class AuditEntry(PortalApiView):
    permissions = {"GET": REVIEW}

    @extend_schema(operation_id="audit_entry", responses={200: AuditEntrySerializer})
    def get(self, request, seq: int):
        entry = selectors.audit_entry_get(seq=seq)
        if entry is None:
            raise exceptions.NotFound("There is no audit entry with this number.")
        return Response(AuditEntrySerializer(entry).data)
