"""The OpenAPI document and Swagger UI, both served by the portal itself: Swagger UI's files
come from drf-spectacular's sidecar, its start-up script from a URL of its own (the pages'
policy allows no inline script), so nothing is loaded from elsewhere."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class SchemaView(SpectacularAPIView):
    renderer_classes = [OpenApiJsonRenderer]

    @classmethod
    def as_view(cls, **initkwargs):
        # A script fetches the document with its token; it has no session to log in with.
        return login_not_required(super().as_view(**initkwargs))


class DocsView(SpectacularSwaggerSplitView):
    """For people in a browser: signed in (the login page otherwise), as every page."""

    template_name = "api/docs.html"
    url_name = "api-schema"

    @classmethod
    def as_view(cls, **initkwargs):
        # Django REST framework exempts its views from LoginRequiredMiddleware; this page is
        # one for people, who are sent to log in like on every other page.
        view = super().as_view(**initkwargs)
        view.login_required = True
        return view
