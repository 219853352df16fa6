from django.urls import path, re_path

from inventory import views

MSISDN = r"(?P<msisdn>[1-9][0-9]{6,14})"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/buy/", views.purchase_confirm, name="purchase-confirm"),
    path("catalogue/buy/confirm/", views.purchase, name="purchase"),
    path("inventory/", views.inventory, name="inventory"),
    path("inventory/numbers.csv", views.inventory_csv, name="inventory-csv"),
    path("inventory/sync/", views.sync_now, name="sync-now"),
    re_path(rf"^numbers/{MSISDN}/$", views.number_detail, name="number"),
    re_path(rf"^numbers/{MSISDN}/notes/$", views.number_annotate, name="number-annotate"),
    re_path(rf"^numbers/{MSISDN}/configure/$", views.number_configure, name="number-configure"),
    re_path(
        rf"^numbers/{MSISDN}/configure/confirm/$",
        views.number_configure_confirm,
        name="number-configure-confirm",
    ),
    re_path(rf"^numbers/{MSISDN}/cancel/$", views.number_cancel, name="number-cancel"),
    path("operations/<int:pk>/", views.operation, name="operation"),
]
