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


class VoiceCallbackType(models.TextChoices):
    SIP = "sip", "SIP URI"
    TEL = "tel", "Phone number"
    APP = "app", "Application"


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

    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Kept by the writes, for the inventory's indexes: the country's name (sorting by country
    # sorts by name, not by ISO code) and whether any routing is set (computed by the
    # database itself on every write).
    country_name = models.CharField(max_length=100, blank=True)
    configured = models.GeneratedField(
        expression=ExpressionWrapper(
            ~Q(mo_http_url="") | ~Q(voice_callback_type=""), output_field=models.BooleanField()
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
        # index for label/team/notes and digit patterns is the database's own (migration 0010).
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
            *_known_and_unknown("monthly_cost", "cost"),
            *_known_and_unknown("purchased_at", "bought"),
        ]
        permissions = [
            ("browse_catalogue", "Can search the numbers on sale"),
            ("browse_inventory", "Can see the account's numbers"),
            ("buy_number", "Can buy a number"),
            ("configure_number", "Can change a number's webhooks and voice routing"),
            ("cancel_number", "Can cancel a number"),
            ("sync_numbers", "Can sync the inventory with the account"),
            ("annotate_number", "Can edit a number's label, team and notes"),
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
    def features(self) -> list[str]:
        flags = [(self.has_sms, "SMS"), (self.has_voice, "VOICE"), (self.has_mms, "MMS")]
        return [name for present, name in flags if present]

    @property
    def is_configured(self) -> bool:
        return bool(self.mo_http_url or self.voice_callback_type)


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
    (triggers installed by migration 0011, see inventory/cache_triggers.py), so a page's
    totals and the dashboard's figures are a SUM over a few rows, never a count of the cache.

    A group's figures are the SUM of its rows: SQLite keeps one row per group; PostgreSQL
    appends a row per group each statement changed (no row is updated, so concurrent writers
    never wait on each other) and the sync folds them (`cache_totals_fold`). Spend by
    country, type or team, for a dashboard, is one query:

        InventoryTotal.objects.values("country").annotate(
            numbers=Sum("numbers"), priced=Sum("priced"), monthly=Sum("monthly_total")
        )
    """

    country = models.CharField(max_length=2)
    type = models.CharField(max_length=20)
    team = models.CharField(max_length=100)
    has_sms = models.BooleanField()
    has_voice = models.BooleanField()
    has_mms = models.BooleanField()
    configured = models.BooleanField()
    price_known = models.BooleanField()
    numbers = models.BigIntegerField()
    priced = models.BigIntegerField()  # how many of them have a known monthly price
    monthly_total = models.DecimalField(max_digits=18, decimal_places=4)  # EUR, known prices

    class Meta:
        db_table = "inventory_ownednumber_totals"

    def __str__(self):
        return f"{self.country} {self.type} {self.team or '(no team)'}: {self.numbers}"


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
        # The audit list is read newest first: each filter's index ends in seq, so a
        # filtered page is read in order, never sorted.
        indexes = [
            models.Index(fields=["msisdn", "-seq"]),
            models.Index(fields=["outcome", "action"]),
            models.Index(fields=["actor_username", "seq"], name="audit_user_seq"),
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["outcome", "seq"], name="audit_outcome_seq"),
            models.Index(fields=["country", "seq"], name="audit_country_seq"),
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
