"""Who the caller is: for a script to check its token and what its role lets it do."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from inventory.api.serializers import MeSerializer
from inventory.api.views.base import PortalApiView
from inventory.models import ApiToken


class Me(PortalApiView):
    @extend_schema(
        operation_id="me",
        summary="The caller: user, roles, permissions and token",
        responses={200: MeSerializer},
    )
    def get(self, request):
        user = request.user
        token = request.auth if isinstance(request.auth, ApiToken) else None
        me = {
            "username": user.get_username(),
            "roles": sorted(user.groups.values_list("name", flat=True)),
            "permissions": sorted(
                p for p in user.get_all_permissions() if p.startswith("inventory.")
            ),
            "token": token,
        }
        return Response(MeSerializer(me).data)
