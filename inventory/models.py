"""The portal's own data: the owned-number cache, the audit trail, and sync bookkeeping.

`OwnedNumber` rows change only through services (DESIGN §2.6). `Operation` is the audit
trail: append-only, hash-chained, and guarded by database triggers (DESIGN §2.5).
"""

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, Q
from django.utils import timezone

from inventory import phone


class NumberType(models.TextChoices):
    LANDLINE = "landline", "Landline"
    TOLL_FREE = "landline-toll-free", "Toll-free"
    MOBILE = "mobile-lvn", "Mobile"


class Feature(models.TextChoices):
    SMS = "SMS", "SMS"
    VOICE = "VOICE", "Voice"
    MMS = "MMS", "MMS"


# Where the cache keeps each feature the API names: one boolean column each.
FEATURE_COLUMNS = {Feature.SMS: "has_sms", Feature.VOICE: "has_voice", Feature.MMS: "has_mms"}


def feature_flags(features) -> dict[str, bool]:
    """The cache's feature columns for the features the API gave ("SMS", "VOICE", ...)."""
    given = set(features)
    return {column: str(feature) in given for feature, column in FEATURE_COLUMNS.items()}


class VoiceCallbackType(models.TextChoices):
    SIP = "sip", "SIP URI"
    TEL = "tel", "Phone number"
    APP = "app", "Application"


class PriceSource(models.TextChoices):
    """Where a number's monthly price comes from, best first (see services/pricing.py)."""

    BOUGHT = "bought", "Bought through the portal"
    LISTED = "listed", "Listed by the account"
    CONTRACT = "contract", "Contract price on the rate card"
    CATALOGUE = "catalogue", "Catalogue price on the rate card"
    UNKNOWN = "", "Unknown"


# Prices from the rate card are estimates: the price of the number's country and type, not
# of the number itself.
ESTIMATED_SOURCES = (PriceSource.CONTRACT, PriceSource.CATALOGUE)


def _known_and_unknown(column: str, short: str) -> list[models.Index]:
    """For a sort by a column that may be unknown (NULL): the known values in order, and
    the unknown ones by number."""
    return [
        models.Index(
            fields=[column, "msisdn"],
            condition=Q(**{f"{column}__isnull": False}),
            name=f"owned_{short}_known",
        ),
        models.Index(
            fields=["msisdn"],
            condition=Q(**{f"{column}__isnull": True}),
            name=f"owned_{short}_unknown",
        ),
    ]


class OwnedNumber(models.Model):
    """One number the account owns, as last seen in the API, plus what only the portal knows."""

    msisdn = models.CharField(max_length=15, unique=True)
    country = models.CharField(max_length=2)
    type = models.CharField(max_length=20, choices=NumberType.choices)
    has_sms = models.BooleanField(default=False)
    has_voice = models.BooleanField(default=False)
    has_mms = models.BooleanField(default=False)
    mo_http_url = models.CharField("inbound SMS webhook", max_length=500, blank=True)
    mo_smpp_sys_type = models.CharField("SMPP system type", max_length=40, blank=True)
    voice_callback_type = models.CharField(
        max_length=3, choices=VoiceCallbackType.choices, blank=True
    )
    voice_callback_value = models.CharField(max_length=500, blank=True)
    voice_status_callback = models.CharField(max_length=500, blank=True)
    app_id = models.CharField("application id", max_length=64, blank=True)
    messages_callback_type = models.CharField("messages webhook type", max_length=20, blank=True)
    messages_callback_value = models.CharField("messages webhook", max_length=500, blank=True)
    # [{"feature": "SMS", "type": "OUTBOUND", "reach": "INTERNATIONAL"}, ...], as the API says.
    limitations = models.JSONField(default=list, blank=True)
    # The monthly rent the owned list shows, when it shows one (not what the portal paid):
    # the API's decimal string in EUR ("1.25"), kept as text so that a sync compares it, and
    # the audit trail records it, exactly as the API sent it.
    listed_monthly_cost = models.CharField(max_length=20, blank=True)
    # Everything the API returned for this number, verbatim, for the number page.
    api_fields = models.JSONField(default=dict)

    # Known only to the portal: the API keeps no price, purchase date or buyer.
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    setup_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    purchased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    label = models.CharField(max_length=100, blank=True)
    team = models.CharField("owner / team", max_length=100, blank=True)
    notes = models.TextField(blank=True)
    # A protected number cannot be cancelled by any path until someone removes the
    # protection (services/numbers.py); why, who and when are shown with it.
    protected_reason = models.CharField(max_length=500, blank=True)
    protected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    protected_at = models.DateTimeField(null=True, blank=True)

    # The price the portal counts for this number and where it comes from: the price it was
    # bought for, else the one the account lists, else the rate card's. Kept up to date by
    # every write (services/pricing.py), so sorting and totals never work it out per row.
    effective_monthly_cost = models.DecimalField(
        "monthly price", max_digits=10, decimal_places=4, null=True, blank=True
    )
    price_source = models.CharField(
        max_length=10, choices=PriceSource.choices, blank=True, default=PriceSource.UNKNOWN
    )
    # The day of the month the number renews (its purchase's), when the portal bought it.
    renewal_day = models.PositiveSmallIntegerField(null=True, blank=True)

    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Kept by the writes, for the inventory's indexes: the country's name (sorting by country
    # sorts by name, not by ISO code) and whether any routing is set (computed by the
    # database itself on every write).
    country_name = models.CharField(max_length=100, blank=True)
    configured = models.GeneratedField(
        expression=ExpressionWrapper(
            ~Q(mo_http_url="") | ~Q(voice_callback_type="") | ~Q(messages_callback_value=""),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["msisdn"]
        # Every page of the inventory is read from one of these in order, never sorted: each
        # filter's index ends in msisdn (the default order and every sort's tiebreak), each
        # sort has an index on (column, msisdn) that serves both directions, and a column
        # that may be unknown has one index for its known values and one for the rest, which
        # the listing reads one after the other (unknown values last, both ways). The text
        # index for label/team/notes and digit patterns is the database's own (migration 0020).
        indexes = [
            models.Index(fields=["country", "msisdn"]),
            models.Index(fields=["country", "type", "msisdn"]),
            models.Index(fields=["type", "msisdn"]),
            # Yes/no filters: the rows of one answer each, which the database's statistics
            # count (an index on a yes/no column looks like half the table to SQLite).
            *(
                models.Index(
                    fields=["msisdn"], condition=Q(**{column: True}), name=f"owned_{column}"
                )
                for column in ("has_sms", "has_voice", "has_mms", "configured")
            ),
            models.Index(
                fields=["msisdn"], condition=Q(configured=False), name="owned_unconfigured"
            ),
            models.Index(fields=["country_name", "msisdn"], name="owned_country_name_msisdn"),
            models.Index(fields=["label", "msisdn"], name="owned_label_msisdn"),
            *_known_and_unknown("effective_monthly_cost", "cost"),
            *_known_and_unknown("purchased_at", "bought"),
            models.Index(fields=["renewal_day", "msisdn"]),
        ]
        permissions = [
            ("browse_catalogue", "Can search the numbers on sale"),
            ("browse_inventory", "Can see the account's numbers"),
            ("buy_number", "Can buy a number"),
            ("configure_number", "Can change a number's webhooks and voice routing"),
            ("cancel_number", "Can cancel a number"),
            ("sync_numbers", "Can sync the inventory with the account"),
            ("annotate_number", "Can edit a number's label, team and notes"),
            ("protect_number", "Can protect a number from cancellation"),
        ]

    def __str__(self):
        return f"+{self.msisdn}"

    def save(self, *args, **kwargs):
        self.country_name = phone.country_name(self.country) if self.country else ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "country" in update_fields:
            kwargs["update_fields"] = {*update_fields, "country_name"}
        super().save(*args, **kwargs)

    @property
    def is_protected(self) -> bool:
        return self.protected_at is not None

    @property
    def features(self) -> list[str]:
        return [
            str(feature) for feature, column in FEATURE_COLUMNS.items() if getattr(self, column)
        ]

    @property
    def is_configured(self) -> bool:
        """Whether messages or calls go anywhere (a webhook, a messages application, a voice
        destination)."""
        return bool(self.mo_http_url or self.messages_callback_value or self.voice_callback_type)


class RetiredNumber(models.Model):
    """A tombstone: what only the portal knew about a number that left the account. A sync
    that finds the number in the account again restores it from here."""

    msisdn = models.CharField(max_length=15, unique=True)
    label = models.CharField(max_length=100, blank=True)
    team = models.CharField("owner / team", max_length=100, blank=True)
    notes = models.TextField(blank=True)
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    setup_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    purchased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retired_at = models.DateTimeField(default=timezone.now)
    # The cancellation (or its settlement) that removed it; none when a sync saw it go.
    retired_by = models.ForeignKey(
        "Operation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    def __str__(self):
        return f"+{self.msisdn} (retired)"


class InventoryTotal(models.Model):
    """The inventory's totals by group, kept by the database on every write to the cache
    (triggers installed by migration 0020, see inventory/cache_triggers.py), so a page's
    totals and the dashboard's figures are a SUM over a few rows, never a count of the cache.

    A group's figures are the SUM of its rows: SQLite keeps one row per group; PostgreSQL
    appends a row per group each statement changed (no row is updated, so concurrent writers
    never wait on each other) and the sync folds them (`cache_totals_fold`). A filter's
    totals are one query:

        InventoryTotal.objects.filter(country="NL").aggregate(
            numbers=Sum("numbers"), priced=Sum("priced"), monthly=Sum("monthly_total")
        )

    The dashboard reads `InventorySpend` instead: a row per combination seen is tens of
    thousands of rows at a million numbers."""

    country = models.CharField(max_length=2)
    type = models.CharField(max_length=20)
    team = models.CharField(max_length=100)
    has_sms = models.BooleanField()
    has_voice = models.BooleanField()
    has_mms = models.BooleanField()
    configured = models.BooleanField()  # routes calls or messages somewhere
    price_source = models.CharField(max_length=10)  # PriceSource: where the prices come from
    price_known = models.BooleanField()
    numbers = models.BigIntegerField()
    priced = models.BigIntegerField()  # how many of them have a known monthly price
    # EUR a month, of the prices the portal counts (effective_monthly_cost).
    monthly_total = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        db_table = "inventory_ownednumber_totals"

    def __str__(self):
        return f"{self.country} {self.type} {self.team or '(no team)'}: {self.numbers}"


class InventorySpend(models.Model):
    """The spend by country, by type and by team (a row per value of each `dimension`),
    kept by the database on every write to the cache (triggers installed by migration 0021,
    see inventory/cache_triggers.py): the dashboard reads a few dozen rows, however many
    numbers there are and however many combinations of group `InventoryTotal` keeps.

    As for the totals, a group's figures are the SUM of its rows (PostgreSQL appends and
    the sync folds). The measures are defined once, in `cache_triggers.SPEND_MEASURES`."""

    dimension = models.CharField(max_length=10)  # country, type or team
    key = models.CharField(max_length=100)  # the country's code, the type, the team ("" none)
    numbers = models.BigIntegerField()
    monthly_total = models.DecimalField(max_digits=18, decimal_places=4)  # EUR a month
    priced = models.BigIntegerField()  # with a price from any source
    estimated = models.BigIntegerField()  # priced from the rate card
    estimated_total = models.DecimalField(max_digits=18, decimal_places=4)
    unrouted = models.BigIntegerField()  # costing money and routing nowhere
    unrouted_total = models.DecimalField(max_digits=18, decimal_places=4)
    bought = models.BigIntegerField()  # bought through the portal (renewing monthly)
    bought_total = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        db_table = "inventory_ownednumber_spend"

    def __str__(self):
        return f"{self.dimension} {self.key or '(none)'}: {self.numbers}"


class ListedNumber(models.Model):
    """A number as a running sync's listing showed it: the sync writes each page of the API
    here and reconciles the cache from it with set-based SQL, so it never holds the whole
    account in memory. Rows live only as long as their sync."""

    run = models.ForeignKey(
        "SyncRun", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    msisdn = models.CharField(max_length=15)
    country = models.CharField(max_length=2)
    country_name = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=20)
    has_sms = models.BooleanField(default=False)
    has_voice = models.BooleanField(default=False)
    has_mms = models.BooleanField(default=False)
    mo_http_url = models.CharField(max_length=500, blank=True)
    voice_callback_type = models.CharField(max_length=3, blank=True)
    voice_callback_value = models.CharField(max_length=500, blank=True)
    app_id = models.CharField(max_length=64, blank=True)
    messages_callback_type = models.CharField(max_length=20, blank=True)
    messages_callback_value = models.CharField(max_length=500, blank=True)
    limitations = models.JSONField(default=list)
    listed_monthly_cost = models.CharField(max_length=20, blank=True)
    api_fields = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "msisdn"], name="one_listed_number_per_run")
        ]

    def __str__(self):
        return f"+{self.msisdn} (listed by sync {self.run_id})"


class Action(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    CANCEL = "cancel", "Cancellation"
    CONFIGURE = "configure", "Configuration change"
    SETTLE = "settle", "Settlement of an unknown outcome"
    ANNOTATE = "annotate", "Local notes changed"
    SYNC = "sync", "Sync"
    DRIFT_APPEARED = "drift_appeared", "Appeared outside the portal"
    DRIFT_DISAPPEARED = "drift_disappeared", "Disappeared outside the portal"
    DRIFT_CHANGED = "drift_changed", "Changed outside the portal"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGOUT = "logout", "Logout"
    DENIED = "denied", "Refused action"
    BATCH = "batch", "Bulk operation"
    BATCH_STOPPED = "batch_stopped", "Bulk operation stopped"
    DESTINATION = "destination", "Named destination changed"
    APPROVAL_RULES = "approval_rules", "Approval rules changed"
    APPROVAL_REQUESTED = "approval_requested", "Purchase approval requested"
    APPROVAL_APPROVED = "approval_approved", "Purchase approved"
    APPROVAL_REJECTED = "approval_rejected", "Purchase rejected"
    APPROVAL_EXPIRED = "approval_expired", "Purchase request expired"
    APPROVAL_WITHDRAWN = "approval_withdrawn", "Purchase request withdrawn"
    APPROVAL_REFUSED = "approval_refused", "Approved purchase not carried out"
    PROTECT = "protect", "Number protected"
    UNPROTECT = "unprotect", "Protection removed"
    WEBHOOK = "webhook", "Notification webhook changed"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    RATE_CARD = "rate_card", "Rate card changed"
    BUDGET = "budget", "Budget changed"


class Outcome(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"
    DENIED = "denied", "Denied"


# The columns a trail entry is born with. The database refuses any change to them
# (see migrations), and the entry's hash covers them.
FACT_FIELDS = (
    "seq",
    "created_at",
    "action",
    "actor_id",
    "actor_username",
    "ip",
    "user_agent",
    "request_id",
    "country",
    "msisdn",
    "request",
    "before",
    "after",
    "monthly_cost",
    "setup_cost",
    "form_token",
    "settles_id",
    "prev_hash",
    "hash",
)
# The columns written once, when a pending operation ends; sealed by `outcome_hash`.
OUTCOME_FIELDS = (
    "outcome",
    "provider_code",
    "provider_label",
    "http_status",
    "duration_ms",
    "reason",
    "completed_at",
)


class Operation(models.Model):
    """One entry of the audit trail: an operation on a number, or another audited event.

    Buy, cancel and configure start as `pending` (committed before the API is called) and
    receive their outcome exactly once. An `unknown` outcome is settled later by a new
    `settle` entry that points at it; the original entry never changes again.
    """

    seq = models.PositiveBigIntegerField("chain position", unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    # No database-level foreign key: deleting a user must not touch the trail.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField("username", max_length=150, blank=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2, blank=True)
    msisdn = models.CharField(max_length=15, blank=True)
    request = models.JSONField("request sent", default=dict, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    setup_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    # The one-time token of the confirmation form that started this operation.
    form_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    settles = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="settlement",
    )
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    provider_code = models.CharField(max_length=20, blank=True)
    provider_label = models.CharField(max_length=300, blank=True)
    http_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    duration_ms = models.PositiveIntegerField("duration (ms)", null=True, blank=True)
    reason = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Not a column: the entry that settles this one, set by selectors.audit_entry_get.
    settled_by: "Operation | None"

    class Meta:
        ordering = ["-seq"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        constraints = [
            # One open operation per number: two buyers, two tabs or a double click make one
            # API call at most.
            models.UniqueConstraint(
                fields=["msisdn"],
                condition=Q(outcome="pending") & ~Q(msisdn=""),
                name="one_open_operation_per_msisdn",
            ),
        ]
        # The audit pages filter by one column and page by seq: each filter's index ends
        # in seq, so a page is read in order from the index, never sorted or counted.
        indexes = [
            models.Index(fields=["msisdn", "-seq"]),
            models.Index(fields=["outcome", "action"]),
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["outcome", "seq"], name="audit_outcome_seq"),
            models.Index(fields=["actor_username", "seq"], name="audit_user_seq"),
            models.Index(fields=["country", "seq"], name="audit_country_seq"),
            models.Index(fields=["ip", "seq"], name="audit_ip_seq"),
            models.Index(fields=["request_id", "seq"], name="audit_request_seq"),
            # Unknown outcomes not settled yet: the few unknown entries, newest first, with
            # the id their settlement would name, read from this index alone.
            models.Index(
                fields=["seq"],
                include=["id"],
                condition=Q(outcome="unknown"),
                name="audit_unknown_seq",
            ),
        ]
        permissions = [("review_audit", "Can review the audit trail")]

    def __str__(self):
        target = f" +{self.msisdn}" if self.msisdn else ""
        return f"#{self.seq} {self.get_action_display()}{target}: {self.outcome}"

    @property
    def is_api_operation(self) -> bool:
        """A buy, cancel or configure: an entry with a page of its own."""
        return self.action in (Action.PURCHASE, Action.CANCEL, Action.CONFIGURE)

    @property
    def final_outcome(self) -> str:
        """The outcome as it stands now: an unknown one settled later takes the settlement's."""
        if self.outcome == Outcome.UNKNOWN:
            settlement = Operation.objects.filter(settles=self).first()
            if settlement is not None:
                return settlement.outcome
        return self.outcome


class AuditChainHead(models.Model):
    """The last link of the trail's hash chain; locking this row serialises appends."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self):
        return f"chain head at #{self.seq}"


class SyncRun(models.Model):
    """One run of `sync_numbers`: what it saw and how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # Its process stopped without finishing (killed, restarted); it changed nothing.
        ABANDONED = "abandoned", "Abandoned"

    OPEN = (Status.QUEUED, Status.RUNNING)

    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_by = models.CharField(max_length=150, blank=True)
    holder = models.CharField(max_length=100, blank=True)
    # The background task that runs it, when "Sync now" queued it.
    task_id = models.CharField(max_length=64, blank=True)
    numbers_seen = models.PositiveIntegerField(default=0)
    # How many the account said it has, from the first page on.
    numbers_total = models.PositiveIntegerField(null=True, blank=True)
    list_calls = models.PositiveIntegerField(default=0)
    appeared = models.PositiveIntegerField(default=0)
    disappeared = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    settled = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["status", "-finished_at"]),
            models.Index(fields=["-requested_at"]),
        ]

    def __str__(self):
        return f"sync {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class Lease(models.Model):
    """A named lock with an expiry, held in the database so it works across hosts."""

    name = models.CharField(max_length=50, unique=True)
    holder = models.CharField(max_length=100)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} held by {self.holder} until {self.expires_at:%H:%M:%S}"


class SelectionItem(models.Model):
    """A number a user picked in the catalogue to buy later with others: kept per user,
    across searches and countries, at the price it was seen at."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    country = models.CharField(max_length=2)
    msisdn = models.CharField(max_length=15)
    type = models.CharField(max_length=20, choices=NumberType.choices)
    features = models.JSONField(default=list)
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    setup_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "msisdn"], name="one_selection_per_number")
        ]

    def __str__(self):
        return f"+{self.msisdn} selected"


class Destination(models.Model):
    """A named place calls or messages go: "Amsterdam SIP trunk", "Support app"."""

    class Kind(models.TextChoices):
        SIP = "sip", "SIP URI"
        TEL = "tel", "Phone number"
        APP = "app", "Application"
        WEBHOOK = "webhook", "Webhook URL (inbound SMS)"

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="one_name_per_destination")
        ]

    def __str__(self):
        return self.name

    @property
    def is_voice(self) -> bool:
        return self.kind != self.Kind.WEBHOOK


class Batch(models.Model):
    """Many numbers bought, configured, cancelled or relabelled at once: what was asked,
    by whom, at what total, and how far it got. Each item is an ordinary operation."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Bulk purchase"
        CONFIGURE = "configure", "Bulk configuration"
        CANCEL = "cancel", "Bulk cancellation"

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking prices"
        REVIEW = "review", "Waiting for confirmation"
        # A bulk purchase that needs a second person's approval (a PurchaseRequest).
        APPROVAL = "approval", "Waiting for approval"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        STOPPED = "stopped", "Stopped"
        # The API refused the portal itself (credentials, entitlement): nothing more was sent.
        HALTED = "halted", "Stopped early"
        DISCARDED = "discarded", "Discarded"

    OPEN = (Status.CHECKING, Status.REVIEW, Status.APPROVAL, Status.QUEUED, Status.RUNNING)
    MAX_ITEMS = 1000
    # Starting or stopping a batch takes the permission its kind of operation takes.
    KIND_PERMISSIONS = {
        Kind.PURCHASE: "inventory.buy_number",
        Kind.CONFIGURE: "inventory.configure_number",
        Kind.CANCEL: "inventory.cancel_number",
    }

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # For a configuration: the change every number gets, by the API's field names.
    changes = models.JSONField(default=dict, blank=True)
    stop_requested = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # The trail entry that records the confirmation (who, when, items, totals).
    entry = models.ForeignKey(
        "Operation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class BatchItem(models.Model):
    """One number of a batch, and how it went."""

    class State(models.TextChoices):
        # In a batch that is still being checked or reviewed: nothing held yet.
        PROPOSED = "proposed", "Proposed"
        QUEUED = "queued", "Queued"
        WORKING = "working", "Working"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Outcome unknown, settling"
        # Left out: not on sale, dearer than when picked, protected, in another batch.
        EXCLUDED = "excluded", "Left out"
        NOT_STARTED = "not_started", "Not started"

    OPEN = (State.QUEUED, State.WORKING)

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    country = models.CharField(max_length=2)
    msisdn = models.CharField(max_length=15)
    type = models.CharField(max_length=20, blank=True)
    features = models.JSONField(default=list, blank=True)
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    setup_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    # For a configuration: the number's settings when the change was reviewed.
    before = models.JSONField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PROPOSED)
    reason = models.TextField(blank=True)
    operation = models.ForeignKey(
        "Operation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="batch_items",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "msisdn"], name="one_item_per_number"),
            # Two batches never act on the same number at once.
            models.UniqueConstraint(
                fields=["msisdn"],
                condition=Q(state__in=["queued", "working"]),
                name="one_open_batch_item_per_number",
            ),
        ]
        indexes = [models.Index(fields=["batch", "state"])]

    def __str__(self):
        return f"+{self.msisdn} in {self.batch}"

    @property
    def form_token(self) -> str:
        """The one-time token of this item's operation: a batch run again after its worker
        died finds the operation it started instead of starting another."""
        return f"batch-{self.batch_id}-item-{self.pk}"


class LoginFailureWindow(models.Model):
    """Failed logins counted per fixed window of LOGIN_FAILURE_WINDOW, so that anonymous
    visitors cannot grow the append-only trail at will: the first failure of each username
    and of each address in a window is an entry of its own, the rest are counted here, and
    one summary entry per window gives the counts once it has closed.

    Not part of the trail: these counters change, and are deleted some time after their
    summary was written. What the trail says about them never changes."""

    started_at = models.DateTimeField(unique=True)
    failures = models.PositiveIntegerField(default=0)
    itemised = models.PositiveIntegerField("failures with an entry of their own", default=0)
    # Failures beyond MAX_PAIRS distinct (username, address) pairs: counted, not listed.
    unlisted = models.PositiveIntegerField(default=0)
    summarised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["summarised_at", "started_at"])]

    def __str__(self):
        return f"{self.failures} failed logins from {self.started_at:%Y-%m-%d %H:%M}"


class LoginFailureCount(models.Model):
    """How often one username failed from one address within a window."""

    window = models.ForeignKey(LoginFailureWindow, on_delete=models.CASCADE, related_name="counts")
    username = models.CharField(max_length=150)
    ip = models.CharField("IP address", max_length=45, blank=True)
    failures = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["window", "username", "ip"], name="one_count_per_pair")
        ]
        indexes = [
            models.Index(fields=["window", "ip"]),
        ]

    def __str__(self):
        return f"{self.failures} × {self.username} from {self.ip or 'an unknown address'}"


# --- governance: approvals, notifications ---------------------------------------------------


class ApprovalRules(models.Model):
    """Which purchases need a second person's approval: one row, set by superusers on the
    approval rules page. Until a superuser saves it, the amount comes from
    PURCHASE_APPROVAL_ABOVE and the other rules are off (see selectors.approval_rules)."""

    # Set-up plus the first month, in euros, above which a purchase (or a bulk purchase in
    # all) needs approval. None: no limit.
    purchase_above = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # Purchases that would take a team over its budget need approval.
    over_budget = models.BooleanField(default=False)
    # Bulk purchases of more than this many numbers need approval. None: no limit.
    bulk_above = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "approval rules"

    def __str__(self):
        return "approval rules"

    @property
    def any(self) -> bool:
        return self.purchase_above is not None or self.over_budget or self.bulk_above is not None

    @property
    def in_words(self) -> list[str]:
        """Each rule in force, as a phrase ("purchases above €50.00 ...")."""
        phrases = []
        if self.purchase_above is not None:
            phrases.append(
                f"purchases above €{self.purchase_above:,.2f} (set-up and the first month)"
            )
        if self.bulk_above is not None:
            plural = "s" if self.bulk_above != 1 else ""
            phrases.append(f"bulk purchases of more than {self.bulk_above} number{plural}")
        if self.over_budget:
            phrases.append("purchases that take a team over its budget")
        return phrases


class PurchaseRequest(models.Model):
    """A purchase that waits for a second person: who asked, for which numbers at which
    prices, why, and how it was decided. It calls the API only once approved, from a task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved, buying"
        DONE = "done", "Carried out"
        # Approved, but not bought: the price rose, or the number is no longer on sale.
        REFUSED = "refused", "Not bought"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN = (Status.PENDING, Status.APPROVED)

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Why the requester needs it, in their words; and which rule asked for approval.
    reason = models.TextField()
    rule = models.TextField()
    # The confirmation form that asked: submitting it again shows this request.
    form_token = models.CharField(max_length=64, unique=True)
    # A bulk purchase waits as a batch; approved, it is confirmed and run as one.
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    count = models.PositiveIntegerField(default=1)
    monthly_cost = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    setup_cost = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    # How it ended once approved, in words.
    message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        permissions = [("approve_purchase", "Can approve or reject purchase requests")]

    def __str__(self):
        return f"Purchase request #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def decision_display(self) -> str:
        """What the approver decided, whatever happened after ("Approved", "Rejected")."""
        return "Rejected" if self.status == self.Status.REJECTED else "Approved"

    @property
    def first_payment(self):
        return self.setup_cost + self.monthly_cost

    @property
    def form_token_to_buy(self) -> str:
        """The one-time token of the purchase an approved single request makes: a task run
        again after its worker died finds that purchase instead of buying again."""
        return f"approval-{self.pk}"


class PurchaseRequestItem(models.Model):
    """One number of a request, at the price the requester was shown."""

    request = models.ForeignKey(PurchaseRequest, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    country = models.CharField(max_length=2)
    msisdn = models.CharField(max_length=15)
    type = models.CharField(max_length=20, blank=True)
    features = models.JSONField(default=list, blank=True)
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    setup_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    operation = models.ForeignKey(
        "Operation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        ordering = ["request", "position"]

    def __str__(self):
        return f"+{self.msisdn} in {self.request}"


class Event(models.TextChoices):
    """What the portal can tell people about, by email or webhook."""

    PURCHASE_DONE = "purchase_done", "A purchase is done"
    CANCEL_DONE = "cancel_done", "A cancellation is done"
    APPROVAL_REQUESTED = "approval_requested", "A purchase waits for approval"
    APPROVAL_DECIDED = "approval_decided", "A purchase request was decided"
    DRIFT_FOUND = "drift_found", "A sync found changes made outside the portal"
    SYNC_FAILING = "sync_failing", "Syncs keep failing"
    OPERATION_UNKNOWN = "operation_unknown", "An operation's outcome stays unknown"
    BUDGET_80 = "budget_80", "A team reached 80 % of its budget"
    BUDGET_100 = "budget_100", "A team reached its budget"


class NotificationPreference(models.Model):
    """Which events one person receives by email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    events = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"notifications of {self.user}"


class Webhook(models.Model):
    """A receiver of notifications (Slack, Teams, a script): a JSON POST per event, signed
    with its secret. Set by superusers."""

    name = models.CharField(max_length=80, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def address_shown(self) -> str:
        """Scheme and host only: the rest of a webhook's address may be its secret."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname or ''}/…"


class Notification(models.Model):
    """One thing that happened, told once: its `key` keeps a condition seen again (a sync
    still failing, an outcome still unknown) from being told twice."""

    event = models.CharField(max_length=30, choices=Event.choices)
    key = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=200)
    text = models.TextField()
    # The portal page it is about (a path), for the link in the message.
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject


class NotificationDelivery(models.Model):
    """One message to one receiver, and how its delivery went."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RETRYING = "retrying", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=254, blank=True)
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.receiver}: {self.status}"

    @property
    def receiver(self) -> str:
        if self.channel == self.Channel.EMAIL:
            return self.address
        return self.webhook.name if self.webhook else "a removed webhook"


class ApiToken(models.Model):
    """A personal access token for the JSON API (/api/v1/): it acts as its user, with the
    user's role. The whole token is shown once, when it is made; the portal keeps only its
    public prefix (to name it in lists) and a SHA-256 hash of the whole (to recognise it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired


class IdempotencyKey(models.Model):
    """A script's `Idempotency-Key` for one POST, and the answer it got: the same key with
    the same request gets that answer again and causes nothing; with another request it is
    refused. Kept for API_IDEMPOTENCY_HOURS, then swept by the task workers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body as parsed: what "the same request" means.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Empty while the first request is still being answered.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=50, blank=True)
    body = models.JSONField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_user")
        ]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"{self.method} {self.path} with key {self.key[:20]}"

    @property
    def is_answered(self) -> bool:
        return self.status_code is not None


# --- spend: prices, budgets and the figures the dashboard shows -----------------------------


class RateCard(models.Model):
    """The monthly and setup price of a country and type: as the catalogue last showed it
    (with the date), and the company's contract price when someone set one. The contract
    price wins; numbers with no price of their own are priced from here (as estimates)."""

    country = models.CharField(max_length=2)
    type = models.CharField(max_length=20, choices=NumberType.choices)
    catalogue_monthly_cost = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )
    catalogue_setup_cost = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )
    catalogue_seen_at = models.DateTimeField(null=True, blank=True)
    # When the catalogue was last asked, whether or not it had numbers of this kind on sale.
    catalogue_checked_at = models.DateTimeField(null=True, blank=True)
    contract_monthly_cost = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )
    contract_setup_cost = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )
    contract_set_at = models.DateTimeField(null=True, blank=True)
    contract_set_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["country", "type"]
        constraints = [
            models.UniqueConstraint(fields=["country", "type"], name="one_rate_per_country_type")
        ]

    def __str__(self):
        return f"rate card {self.country} {self.type}"

    @property
    def has_contract(self) -> bool:
        return self.contract_monthly_cost is not None

    @property
    def monthly_cost(self):
        return self.contract_monthly_cost if self.has_contract else self.catalogue_monthly_cost

    @property
    def setup_cost(self):
        return self.contract_setup_cost if self.has_contract else self.catalogue_setup_cost

    @property
    def source(self) -> str:
        if self.has_contract:
            return PriceSource.CONTRACT
        if self.catalogue_monthly_cost is not None:
            return PriceSource.CATALOGUE
        return PriceSource.UNKNOWN


class RateCardRefresh(models.Model):
    """One run of the task that asks the catalogue for the price of each country and type
    the account holds."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    asked = models.PositiveIntegerField(default=0)
    learned = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"rate card refresh {self.started_at:%Y-%m-%d %H:%M}"


class SpendSnapshot(models.Model):
    """The account's numbers and monthly spend in one month, for the dashboard's history:
    recorded at most once a day (by syncs and the task workers), the month's last
    recording standing for the month."""

    month = models.DateField(unique=True)  # the first day of the month
    numbers = models.PositiveIntegerField(default=0)
    monthly_total = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    estimated_total = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    purchases = models.PositiveIntegerField(default=0)
    cancellations = models.PositiveIntegerField(default=0)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["month"]

    def __str__(self):
        return f"spend in {self.month:%B %Y}"


class Budget(models.Model):
    """A monthly budget: the whole account's (team "") or one team's. Set by superusers:
    a budget limits what operators spend, so it is not theirs to move."""

    team = models.CharField(max_length=100, unique=True, blank=True)
    monthly_amount = models.DecimalField(max_digits=12, decimal_places=2)
    set_at = models.DateTimeField(default=timezone.now)
    set_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["team"]

    def __str__(self):
        return f"budget {self.team or 'overall'}: {self.monthly_amount}"
