"""The Django admin, for superusers only: they manage accounts and roles there. Everyone
else is refused with the portal's own 403 page (and the refusal is audited); auditors read
the trail in the portal (/audit/)."""

from functools import wraps

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.utils.decorators import method_decorator


def _refuse_others(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not (user.is_active and user.is_superuser):
            raise PermissionDenied  # handler403: the portal's page, and an audit entry
        return view(request, *args, **kwargs)

    return guarded


class PortalAdminSite(AdminSite):
    site_header = "Numbers Portal — administration"
    site_title = "Numbers Portal administration"
    index_title = "Accounts and roles"
    enable_nav_sidebar = False

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        return _refuse_others(super().admin_view(view, cacheable))

    @method_decorator(login_not_required)
    def login(self, request, extra_context=None):
        return _refuse_others(super().login)(request, extra_context)


class PortalAdminConfig(AdminConfig):
    """django.contrib.admin with the site above (named in INSTALLED_APPS)."""

    default_site = "inventory.admin_site.PortalAdminSite"
