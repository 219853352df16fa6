from django.urls import path, re_path

from inventory.views import audit, catalogue, home, inventory, numbers, operations

MSISDN = r"(?P<msisdn>[1-9][0-9]{6,14})"

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("catalogue/", catalogue.catalogue, name="catalogue"),
    path("catalogue/buy/", catalogue.purchase_confirm, name="purchase-confirm"),
    path("catalogue/buy/confirm/", catalogue.purchase, name="purchase"),
    path("inventory/", inventory.inventory, name="inventory"),
    path("inventory/numbers.csv", inventory.inventory_csv, name="inventory-csv"),
    path("inventory/sync/", inventory.sync_now, name="sync-now"),
    re_path(rf"^numbers/{MSISDN}/$", numbers.number_detail, name="number"),
    re_path(rf"^numbers/{MSISDN}/notes/$", numbers.number_annotate, name="number-annotate"),
    re_path(rf"^numbers/{MSISDN}/configure/$", numbers.number_configure, name="number-configure"),
    re_path(
        rf"^numbers/{MSISDN}/configure/confirm/$",
        numbers.number_configure_confirm,
        name="number-configure-confirm",
    ),
    re_path(rf"^numbers/{MSISDN}/cancel/$", numbers.number_cancel, name="number-cancel"),
    path("operations/<int:pk>/", operations.operation, name="operation"),
    path("audit/", audit.audit_list, name="audit"),
    path("audit/export.csv", audit.audit_csv, name="audit-csv"),
    path("audit/<int:seq>/", audit.audit_entry, name="audit-entry"),
]
