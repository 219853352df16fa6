"""Writes (DESIGN §1): every change to the portal's data and every call that spends money
or changes the account goes through these functions. Keyword-only, typed; views call one
of them and show what it returns or raises."""

from inventory.services.cache import LOCAL_FIELDS, configuration_of, local_fields_of
from inventory.services.catalogue import (
    CatalogueQuery,
    CatalogueResults,
    catalogue_offer,
    catalogue_search,
)
from inventory.services.events import (
    access_denied_record,
    login_failure_record,
    login_failures_summarise,
    login_record,
    logout_record,
)
from inventory.services.numbers import number_annotate, number_cancel, number_configure
from inventory.services.operations import (
    OperationRefused,
    ServiceError,
    operation_for_form,
    operation_settle,
    operation_started_by,
    unsettled_unknown,
)
from inventory.services.purchase import number_purchase
from inventory.services.sync import (
    SYNC_LEASE,
    SyncAlreadyRunning,
    SyncIncomplete,
    lease_acquire,
    lease_holder,
    lease_release,
    owned_numbers_sync,
    sync_claim,
    sync_start_in_background,
)

__all__ = [
    "LOCAL_FIELDS",
    "SYNC_LEASE",
    "CatalogueQuery",
    "CatalogueResults",
    "OperationRefused",
    "ServiceError",
    "SyncAlreadyRunning",
    "SyncIncomplete",
    "access_denied_record",
    "catalogue_offer",
    "catalogue_search",
    "configuration_of",
    "lease_acquire",
    "lease_holder",
    "lease_release",
    "local_fields_of",
    "login_failure_record",
    "login_failures_summarise",
    "login_record",
    "logout_record",
    "number_annotate",
    "number_cancel",
    "number_configure",
    "number_purchase",
    "operation_for_form",
    "operation_settle",
    "operation_started_by",
    "owned_numbers_sync",
    "sync_claim",
    "sync_start_in_background",
    "unsettled_unknown",
]
