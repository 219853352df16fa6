from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "Numbers Portal — audit review"
admin.site.site_title = "Numbers Portal audit"
admin.site.index_title = "Audit review"
# Auditors see one list; the sidebar would only take width from its columns.
admin.site.enable_nav_sidebar = False

handler403 = "inventory.views.home.forbidden"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("inventory.urls")),
]
