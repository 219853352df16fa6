"""The JSON API's routes, under /api/v1/ (numbersportal/urls.py). Every route needs a row in
inventory/tests/test_url_permissions.py."""

from django.urls import path, re_path

from inventory.api import schema  # noqa: F401 - registers the bearer token's description
from inventory.api.views import (
    account,
    approvals,
    audit,
    batches,
    catalogue,
    docs,
    numbers,
    sync,
    tasks,
)

MSISDN = r"(?P<msisdn>[1-9][0-9]{6,14})"

urlpatterns = [
    path("schema", docs.SchemaView.as_view(), name="api-schema"),
    path("docs/", docs.DocsView.as_view(), name="api-docs"),
    path("me", account.Me.as_view(), name="api-me"),
    path("catalogue/numbers", catalogue.CatalogueSearch.as_view(), name="api-catalogue"),
    path("purchases", catalogue.Purchases.as_view(), name="api-purchases"),
    path("selection", catalogue.Selection.as_view(), name="api-selection"),
    re_path(
        rf"^selection/{MSISDN}$", catalogue.SelectionNumber.as_view(), name="api-selection-number"
    ),
    path("numbers", numbers.NumberList.as_view(), name="api-numbers"),
    re_path(rf"^numbers/{MSISDN}$", numbers.NumberDetail.as_view(), name="api-number"),
    re_path(
        rf"^numbers/{MSISDN}/configure$",
        numbers.NumberConfigure.as_view(),
        name="api-number-configure",
    ),
    re_path(
        rf"^numbers/{MSISDN}/cancel$", numbers.NumberCancel.as_view(), name="api-number-cancel"
    ),
    re_path(rf"^numbers/{MSISDN}/notes$", numbers.NumberNotes.as_view(), name="api-number-notes"),
    path("operations/<int:pk>", numbers.OperationDetail.as_view(), name="api-operation"),
    path("batches", batches.BatchList.as_view(), name="api-batches"),
    path("batches/purchase", batches.PurchaseBatchCreate.as_view(), name="api-batch-purchase"),
    path("batches/configure", batches.ConfigureBatchCreate.as_view(), name="api-batch-configure"),
    path("batches/cancel", batches.CancelBatchCreate.as_view(), name="api-batch-cancel"),
    path("batches/<int:pk>", batches.BatchDetail.as_view(), name="api-batch"),
    path("batches/<int:pk>/items", batches.BatchItems.as_view(), name="api-batch-items"),
    path("batches/<int:pk>/confirm", batches.BatchConfirm.as_view(), name="api-batch-confirm"),
    path("batches/<int:pk>/stop", batches.BatchStop.as_view(), name="api-batch-stop"),
    path("approval-requests", approvals.ApprovalRequestList.as_view(), name="api-approvals"),
    path(
        "approval-requests/<int:pk>",
        approvals.ApprovalRequestDetail.as_view(),
        name="api-approval",
    ),
    path(
        "approval-requests/<int:pk>/approve",
        approvals.ApprovalRequestApprove.as_view(),
        name="api-approval-approve",
    ),
    path(
        "approval-requests/<int:pk>/reject",
        approvals.ApprovalRequestReject.as_view(),
        name="api-approval-reject",
    ),
    path(
        "approval-requests/<int:pk>/withdraw",
        approvals.ApprovalRequestWithdraw.as_view(),
        name="api-approval-withdraw",
    ),
    path("sync", sync.Sync.as_view(), name="api-sync"),
    path("tasks", tasks.TaskQueue.as_view(), name="api-tasks"),
    path("audit", audit.AuditList.as_view(), name="api-audit"),
    path("audit/<int:seq>", audit.AuditEntry.as_view(), name="api-audit-entry"),
]
