from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

handler403 = "inventory.views.home.forbidden"
handler404 = "inventory.views.home.not_found"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("inventory.api.urls")),
    path("", include("inventory.urls")),
]
