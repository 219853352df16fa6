"""What the JSON API answers, and how OpenAPI describes it. Serializers only present what the
selectors and services return; money is a decimal string in EUR, as the upstream API gives
it ("1.25"), or null when unknown; times are ISO 8601."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory import selectors
from inventory.services.batches import batch_totals
from inventory.services.cache import configuration_of

_CENTS = Decimal("0.01")


@extend_schema_field({"type": "string", "format": "decimal", "example": "1.25"})
class MoneyField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Decimal) -> str:
        shown = value.quantize(_CENTS) if value == value.quantize(_CENTS) else value.normalize()
        return format(shown, "f")


class UtcDateTimeField(serializers.DateTimeField):
    """Times in UTC (DESIGN §2.8): converted for people only, never for scripts."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class _ReadOnly(serializers.Serializer):
    def create(self, validated_data):  # pragma: no cover - never used for input
        raise NotImplementedError

    def update(self, instance, validated_data):  # pragma: no cover
        raise NotImplementedError


# --- problems ---------------------------------------------------------------------------------


class ProblemErrorSerializer(_ReadOnly):
    pointer = serializers.CharField(required=False, help_text="The body member at fault: #/name")
    parameter = serializers.CharField(required=False, help_text="The parameter or header at fault")
    detail = serializers.CharField()


class OperationLinkSerializer(_ReadOnly):
    id = serializers.IntegerField()
    url = serializers.CharField()


class ProblemSerializer(_ReadOnly):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = ProblemErrorSerializer(many=True, required=False)
    operation = OperationLinkSerializer(
        required=False, help_text="The trail entry that records a refused or failed operation."
    )


# --- the catalogue ----------------------------------------------------------------------------


class LimitationSerializer(_ReadOnly):
    feature = serializers.CharField()
    type = serializers.CharField(source="direction")
    reach = serializers.CharField()


class OfferSerializer(_ReadOnly):
    country = serializers.CharField()
    msisdn = serializers.CharField()
    type = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    monthly_cost = MoneyField(source="cost")
    setup_cost = MoneyField(source="initial_price")
    limitations = LimitationSerializer(many=True)


class CataloguePageSerializer(_ReadOnly):
    count = serializers.IntegerField(help_text="Numbers on sale for this search, all pages.")
    page = serializers.IntegerField()
    size = serializers.IntegerField()
    from_cache = serializers.BooleanField(
        help_text="True when a search as recent as CATALOGUE_CACHE_SECONDS answered it."
    )
    results = OfferSerializer(many=True)


# --- operations and numbers -------------------------------------------------------------------


class SettlementSerializer(_ReadOnly):
    seq = serializers.IntegerField()
    outcome = serializers.CharField()
    reason = serializers.CharField()
    created_at = UtcDateTimeField()


class OperationSerializer(_ReadOnly):
    """A buy, cancel or configure, as the audit trail records it."""

    id = serializers.IntegerField(source="pk")
    seq = serializers.IntegerField()
    action = serializers.CharField()
    outcome = serializers.CharField(
        help_text="pending, succeeded, failed or unknown (an unknown one is settled later)."
    )
    final_outcome = serializers.CharField(help_text="The outcome, or its settlement's.")
    settlement = serializers.SerializerMethodField()
    country = serializers.CharField()
    msisdn = serializers.CharField()
    actor = serializers.CharField(source="actor_username")
    created_at = UtcDateTimeField()
    completed_at = UtcDateTimeField(allow_null=True)
    reason = serializers.CharField()
    monthly_cost = MoneyField()
    setup_cost = MoneyField()
    request = serializers.JSONField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    provider_code = serializers.CharField()
    provider_label = serializers.CharField()
    http_status = serializers.IntegerField(allow_null=True)
    url = serializers.SerializerMethodField()

    @extend_schema_field(SettlementSerializer(allow_null=True))
    def get_settlement(self, entry) -> dict | None:
        settlement = entry.settlement if hasattr(entry, "settlement") else None
        return SettlementSerializer(settlement).data if settlement is not None else None

    def get_url(self, entry) -> str:
        return f"/api/v1/operations/{entry.pk}"


class ConfigurationSerializer(_ReadOnly):
    moHttpUrl = serializers.CharField(help_text="Inbound SMS webhook")
    moSmppSysType = serializers.CharField()
    voiceCallbackType = serializers.CharField(help_text="sip, tel, app, or empty")
    voiceCallbackValue = serializers.CharField()
    voiceStatusCallback = serializers.CharField()


class OwnedNumberSerializer(_ReadOnly):
    msisdn = serializers.CharField()
    country = serializers.CharField()
    type = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    configuration = serializers.SerializerMethodField()
    app_id = serializers.CharField()
    limitations = serializers.JSONField()
    listed_monthly_cost = serializers.CharField(
        help_text="The monthly rent the account's list shows, as the API gives it (or empty)."
    )
    monthly_cost = MoneyField(help_text="What the portal paid a month, when it bought it.")
    setup_cost = MoneyField()
    purchased_at = UtcDateTimeField(allow_null=True)
    purchased_by = serializers.CharField(source="purchased_by.username", allow_null=True)
    label = serializers.CharField()
    team = serializers.CharField()
    notes = serializers.CharField()
    first_seen_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(ConfigurationSerializer)
    def get_configuration(self, number) -> dict:
        return configuration_of(number)

    def get_url(self, number) -> str:
        return f"/api/v1/numbers/{number.msisdn}"


class InventoryPageSerializer(_ReadOnly):
    count = serializers.IntegerField(help_text="Numbers matching the filters, all pages.")
    priced = serializers.IntegerField(help_text="How many of them have a known monthly cost.")
    monthly_total = MoneyField(allow_null=False)
    next = serializers.CharField(
        allow_null=True, help_text="The next page's address; null on the last page."
    )
    results = OwnedNumberSerializer(many=True)


# --- the selection and batches ----------------------------------------------------------------


class SelectionItemSerializer(_ReadOnly):
    country = serializers.CharField()
    msisdn = serializers.CharField()
    type = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    monthly_cost = MoneyField(help_text="The most a month you agreed to pay for it.")
    setup_cost = MoneyField()
    added_at = UtcDateTimeField()


class SelectionSerializer(_ReadOnly):
    count = serializers.IntegerField()
    setup_total = MoneyField(allow_null=False)
    monthly_total = MoneyField(allow_null=False)
    items = SelectionItemSerializer(many=True)


class SelectionAddedSerializer(SelectionSerializer):
    added = serializers.IntegerField(help_text="How many of the numbers sent were new.")


class TotalsSerializer(_ReadOnly):
    count = serializers.IntegerField(help_text="Numbers the batch includes (not left out).")
    setup = MoneyField(allow_null=False)
    monthly = MoneyField(allow_null=False)


class BatchSerializer(_ReadOnly):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField(help_text="purchase, configure or cancel")
    status = serializers.CharField(
        help_text="checking → review → queued → running → done; or stopped, halted, discarded."
    )
    state = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()
    changes = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = UtcDateTimeField()
    confirmed_at = UtcDateTimeField(allow_null=True)
    finished_at = UtcDateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()
    items_url = serializers.SerializerMethodField()

    def _progress(self, batch) -> dict:
        cached = getattr(batch, "_api_progress", None)
        if cached is None:
            cached = batch._api_progress = selectors.batch_progress(batch=batch)
        return cached

    @extend_schema_field(
        serializers.ChoiceField(choices=["running", "review", "queued", "done", "failed"])
    )
    def get_state(self, batch) -> str:
        return self._progress(batch)["state"]

    @extend_schema_field(serializers.FloatField(allow_null=True, min_value=0, max_value=1))
    def get_progress(self, batch) -> float | None:
        return self._progress(batch)["progress"]

    def get_message(self, batch) -> str:
        return self._progress(batch)["message"]

    @extend_schema_field(TotalsSerializer)
    def get_totals(self, batch) -> dict:
        return TotalsSerializer(batch_totals(batch)).data

    def get_url(self, batch) -> str:
        return f"/api/v1/batches/{batch.pk}"

    def get_items_url(self, batch) -> str:
        return f"/api/v1/batches/{batch.pk}/items"


class BatchItemSerializer(_ReadOnly):
    position = serializers.IntegerField()
    country = serializers.CharField()
    msisdn = serializers.CharField()
    type = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    monthly_cost = MoneyField()
    setup_cost = MoneyField()
    state = serializers.CharField(
        help_text="proposed, queued, working, done, failed, unknown, excluded or not_started"
    )
    reason = serializers.CharField()
    operation = serializers.SerializerMethodField()
    outcome = serializers.CharField(
        allow_null=True, source="operation.final_outcome", help_text="Its operation's outcome."
    )
    finished_at = UtcDateTimeField(allow_null=True)

    @extend_schema_field(OperationLinkSerializer(allow_null=True))
    def get_operation(self, item) -> dict | None:
        if item.operation_id is None:
            return None
        return {"id": item.operation_id, "url": f"/api/v1/operations/{item.operation_id}"}


class BatchItemsSerializer(_ReadOnly):
    batch = BatchSerializer()
    items = BatchItemSerializer(many=True)


# --- approval requests ------------------------------------------------------------------------


class ApprovalRequestItemSerializer(_ReadOnly):
    position = serializers.IntegerField()
    country = serializers.CharField()
    msisdn = serializers.CharField()
    type = serializers.CharField()
    monthly_cost = MoneyField(help_text="The approved price: dearer by then, it is not bought.")
    setup_cost = MoneyField()
    operation = serializers.SerializerMethodField()

    @extend_schema_field(OperationLinkSerializer(allow_null=True))
    def get_operation(self, item) -> dict | None:
        if item.operation_id is None:
            return None
        return {"id": item.operation_id, "url": f"/api/v1/operations/{item.operation_id}"}


class ApprovalRequestSerializer(_ReadOnly):
    """A purchase the approval rules held back, waiting for someone other than its requester."""

    id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(
        choices=["pending", "approved", "done", "refused", "rejected", "expired", "withdrawn"],
        help_text="pending → approved → done (bought) or refused (dearer, or no longer on "
        "sale); or rejected, expired, withdrawn: nothing bought.",
    )
    status_display = serializers.CharField(source="get_status_display")
    requester = serializers.CharField(source="requester.username", allow_null=True)
    reason = serializers.CharField(help_text="Why the requester needs it.")
    rule = serializers.CharField(help_text="The approval rule that held the purchase back.")
    count = serializers.IntegerField()
    setup_cost = MoneyField(allow_null=False)
    monthly_cost = MoneyField(allow_null=False)
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    decided_at = UtcDateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    message = serializers.CharField(help_text="How it ended once approved, in words.")
    finished_at = UtcDateTimeField(allow_null=True)
    batch = serializers.SerializerMethodField()
    items = ApprovalRequestItemSerializer(many=True, source="items.all")
    url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_batch(self, request) -> str | None:
        """The bulk purchase that waits on it, if it is one."""
        return f"/api/v1/batches/{request.batch_id}" if request.batch_id else None

    def get_url(self, request) -> str:
        return f"/api/v1/approval-requests/{request.pk}"


# --- the task queue ---------------------------------------------------------------------------


class WorkerSerializer(_ReadOnly):
    id = serializers.CharField(source="worker_id", help_text="host-pid-suffix")
    seen_until = UtcDateTimeField(help_text="Its heartbeat holds until then.")


class TaskFailureSerializer(_ReadOnly):
    id = serializers.CharField()
    task = serializers.SerializerMethodField()
    finished_at = UtcDateTimeField(allow_null=True)
    error = serializers.SerializerMethodField()

    def get_task(self, result) -> str:
        return result.task_path.removeprefix("inventory.tasks.")

    def get_error(self, result) -> str:
        """The exception's class, not its traceback (that is for the System status page)."""
        return result.exception_class_path.rpartition(".")[2]


class TaskQueueSerializer(_ReadOnly):
    workers = WorkerSerializer(many=True, help_text="Workers alive now; none: nothing runs.")
    queued = serializers.IntegerField(help_text="Tasks waiting for a worker.")
    running = serializers.IntegerField()
    failed_last_day = serializers.IntegerField()
    failures = TaskFailureSerializer(many=True, help_text="The latest failed tasks.")


# --- sync, the caller -------------------------------------------------------------------------


class SyncSerializer(_ReadOnly):
    state = serializers.ChoiceField(choices=["none", "queued", "running", "done", "failed"])
    progress = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
    message = serializers.CharField()
    last_success = UtcDateTimeField(allow_null=True)
    is_stale = serializers.BooleanField(help_text="No successful sync for SYNC_STALE_MINUTES.")


class TokenInfoSerializer(_ReadOnly):
    name = serializers.CharField()
    prefix = serializers.CharField()
    expires_at = UtcDateTimeField()


class MeSerializer(_ReadOnly):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())
    token = TokenInfoSerializer(allow_null=True, help_text="Null for a signed-in browser.")


# --- the audit trail --------------------------------------------------------------------------


class AuditEntrySerializer(_ReadOnly):
    seq = serializers.IntegerField()
    created_at = UtcDateTimeField()
    action = serializers.CharField()
    outcome = serializers.CharField()
    settled_as = serializers.CharField(
        allow_null=True, required=False, help_text="The outcome its settlement gave, if any."
    )
    actor = serializers.CharField(source="actor_username")
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    request_id = serializers.CharField()
    country = serializers.CharField()
    msisdn = serializers.CharField()
    request = serializers.JSONField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    monthly_cost = MoneyField()
    setup_cost = MoneyField()
    settles = serializers.IntegerField(
        source="settles.seq", allow_null=True, help_text="The entry this one settles."
    )
    provider_code = serializers.CharField()
    provider_label = serializers.CharField()
    http_status = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    completed_at = UtcDateTimeField(allow_null=True)
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class AuditPageSerializer(_ReadOnly):
    results = AuditEntrySerializer(many=True)
    older = serializers.CharField(allow_null=True, help_text="The page of older entries.")
    newer = serializers.CharField(allow_null=True, help_text="The page of newer entries.")
    trail_length = serializers.IntegerField()
