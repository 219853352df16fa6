"""What numbers cost: a price for every number with its source, the rate card, budgets and
the monthly history of spend.

A number's monthly price is, in this order: what the portal bought it for; the rent the
owned list shows for it; the rate card's price of its country and type (the contract price
when someone set one, else the catalogue's, with the date it was seen); else unknown. The
price and its source live in columns of the cache (`effective_monthly_cost`,
`price_source`), written here by every write, so sorting, totals and exports read them
directly. The totals themselves are kept by database triggers (inventory/cache_triggers.py)
in `InventoryTotal`, so spend by country, type, team or source is a sum over a few rows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import ExtractDay
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_append_many
from inventory.models import (
    ESTIMATED_SOURCES,
    Action,
    Batch,
    BatchItem,
    Budget,
    InventoryTotal,
    NumberType,
    Operation,
    Outcome,
    OwnedNumber,
    PriceSource,
    RateCard,
    RateCardRefresh,
    SpendSnapshot,
)
from inventory.services import background, notifications

log = logging.getLogger(__name__)

PRICE_COLUMNS = ("effective_monthly_cost", "price_source", "renewal_day")
# The catalogue is asked again about a country and type at most this often.
RATE_CARD_MAX_AGE = timedelta(days=1)
# How many offers a refresh looks at per country and type: the usual price is the most
# common one (a few memorable numbers cost more).
RATE_CARD_SAMPLE = 20
# Workers look whether a refresh is due at most this often (each look is a few queries).
HOUSEKEEPING_KEY = "pricing:housekeeping"
HOUSEKEEPING_SECONDS = 300
CENT = Decimal("0.01")


def eur(amount: Decimal | None) -> str:
    return "an unknown price" if amount is None else f"€{amount.quantize(CENT):,}"


# --- a number's price -----------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    monthly: Decimal | None
    setup: Decimal | None
    source: str  # a PriceSource
    seen_at: datetime | None = None  # when the catalogue showed it (catalogue prices)

    @property
    def is_estimate(self) -> bool:
        return self.source in ESTIMATED_SOURCES

    @property
    def source_label(self) -> str:
        return PriceSource(self.source).label


def listed_price(text: str) -> Decimal | None:
    """The rent the owned list shows, as the cache keeps it (the API's decimal string)."""
    try:
        price = Decimal(text) if text else None
    except InvalidOperation:
        return None
    return price if price is not None and price.is_finite() and price >= 0 else None


def price_of(
    *,
    monthly_cost: Decimal | None,
    setup_cost: Decimal | None,
    listed_monthly_cost: str,
    rate: RateCard | None,
) -> Price:
    """The price of a number from what is known about it, best source first."""
    if monthly_cost is not None:
        return Price(monthly_cost, setup_cost, PriceSource.BOUGHT)
    listed = listed_price(listed_monthly_cost)
    if listed is not None:
        setup = rate.setup_cost if rate is not None else None
        return Price(listed, setup, PriceSource.LISTED)
    if rate is not None and rate.monthly_cost is not None:
        seen = None if rate.has_contract else rate.catalogue_seen_at
        return Price(rate.monthly_cost, rate.setup_cost, rate.source, seen)
    return Price(None, None, PriceSource.UNKNOWN)


def number_price(number: OwnedNumber) -> Price:
    """For the number page: the price with its source, and the setup price too."""
    rate = RateCard.objects.filter(country=number.country, type=number.type).first()
    return price_of(
        monthly_cost=number.monthly_cost,
        setup_cost=number.setup_cost,
        listed_monthly_cost=number.listed_monthly_cost,
        rate=rate,
    )


def price_columns(row: OwnedNumber, rate: RateCard | None) -> dict:
    price = price_of(
        monthly_cost=row.monthly_cost,
        setup_cost=row.setup_cost,
        listed_monthly_cost=row.listed_monthly_cost,
        rate=rate,
    )
    return {
        "effective_monthly_cost": price.monthly,
        "price_source": price.source,
        # Days of the month as people there count them (the dashboard's dates are local too).
        "renewal_day": timezone.localtime(row.purchased_at).day if row.purchased_at else None,
    }


def number_reprice(*, msisdn: str) -> None:
    """After a write to one cached number: its price columns, brought up to date."""
    row = OwnedNumber.objects.filter(msisdn=msisdn).first()
    if row is None:
        return
    rate = RateCard.objects.filter(country=row.country, type=row.type).first()
    fresh = price_columns(row, rate)
    if any(getattr(row, name) != value for name, value in fresh.items()):
        OwnedNumber.objects.filter(pk=row.pk).update(**fresh)


def prices_refresh(*, country: str = "", type: str = "") -> int:
    """Bring every cached number's price columns up to date (or those of one country and
    type), by a few set-based updates that only write rows whose price changed. Called in
    the sync's transaction and after every rate-card change. Returns the rows written."""
    numbers = OwnedNumber.objects.all()
    if country:
        numbers = numbers.filter(country=country, type=type)
    written = _reprice_bought(numbers) + _reprice_listed(numbers) + _reprice_from_rates(numbers)
    _renewal_days(numbers)
    return written


def _reprice_bought(numbers) -> int:
    bought = numbers.filter(monthly_cost__isnull=False)
    stale = bought.exclude(
        price_source=PriceSource.BOUGHT, effective_monthly_cost=F("monthly_cost")
    )
    return stale.update(effective_monthly_cost=F("monthly_cost"), price_source=PriceSource.BOUGHT)


def _reprice_listed(numbers) -> int:
    """One update per distinct listed rent (a handful: rents follow country and type)."""
    listed = numbers.filter(monthly_cost__isnull=True).exclude(listed_monthly_cost="")
    written = 0
    for text in listed.values_list("listed_monthly_cost", flat=True).distinct().order_by():
        price = listed_price(text)
        if price is None:
            continue
        same = listed.filter(listed_monthly_cost=text)
        stale = same.exclude(price_source=PriceSource.LISTED, effective_monthly_cost=price)
        written += stale.update(effective_monthly_cost=price, price_source=PriceSource.LISTED)
    return written


def _reprice_from_rates(numbers) -> int:
    """Numbers with no price of their own: the rate card's, or unknown without one."""
    unpriced = numbers.filter(monthly_cost__isnull=True, listed_monthly_cost="")
    rates = {(r.country, r.type): r for r in RateCard.objects.all()}
    written = 0
    combos = unpriced.values_list("country", "type").distinct().order_by()
    for country, number_type in combos:
        rate = rates.get((country, number_type))
        group = unpriced.filter(country=country, type=number_type)
        if rate is not None and rate.monthly_cost is not None:
            stale = group.exclude(
                price_source=rate.source, effective_monthly_cost=rate.monthly_cost
            )
            written += stale.update(
                effective_monthly_cost=rate.monthly_cost, price_source=rate.source
            )
        else:
            stale = group.exclude(price_source=PriceSource.UNKNOWN, effective_monthly_cost=None)
            written += stale.update(effective_monthly_cost=None, price_source=PriceSource.UNKNOWN)
    return written


def _renewal_days(numbers) -> None:
    numbers.filter(purchased_at__isnull=False, renewal_day__isnull=True).update(
        renewal_day=ExtractDay("purchased_at")
    )
    numbers.filter(purchased_at__isnull=True, renewal_day__isnull=False).update(renewal_day=None)


# --- the rate card --------------------------------------------------------------------------


def usual_price(offers: Iterable[api.AvailableNumber]) -> tuple[Decimal, Decimal | None] | None:
    """The most common (monthly, setup) pair among offers, the cheaper on a tie."""
    pairs = Counter((o.cost, o.initial_price) for o in offers if o.cost is not None)
    if not pairs:
        return None
    return min(pairs, key=lambda pair: (-pairs[pair], pair[0], pair[1] or 0))


def rate_card_learn(
    *,
    country: str,
    type: str,
    offers: Iterable[api.AvailableNumber],
    actor: Actor,
    seen_at: datetime | None = None,
) -> bool:
    """Record what the catalogue showed for a country and type; True when its price
    changed (the change is audited, and numbers priced from it are repriced)."""
    seen_at = seen_at or timezone.now()
    usual = usual_price(o for o in offers if o.type == type)
    with transaction.atomic():
        rate, _ = RateCard.objects.select_for_update().get_or_create(country=country, type=type)
        rate.catalogue_checked_at = seen_at
        changed = False
        if usual is not None:
            monthly, setup = usual
            before = _rate_facts(rate)
            changed = (rate.catalogue_monthly_cost, rate.catalogue_setup_cost) != (monthly, setup)
            rate.catalogue_monthly_cost, rate.catalogue_setup_cost = monthly, setup
            rate.catalogue_seen_at = seen_at
            if changed:
                _audit_rate(rate, before=before, actor=actor, why="Price seen in the catalogue.")
        rate.save()
        if changed and not rate.has_contract:
            prices_refresh(country=country, type=type)
    return changed


def rate_card_learn_from_search(*, country: str, offers: Iterable[api.AvailableNumber]) -> None:
    """A catalogue search someone made: what it showed teaches the rate card, when it is
    new or a day old (so searching stays cheap)."""
    by_type: dict[str, list[api.AvailableNumber]] = {}
    for offer in offers:
        by_type.setdefault(offer.type, []).append(offer)
    fresh_since = timezone.now() - RATE_CARD_MAX_AGE
    for number_type, found in by_type.items():
        if number_type not in NumberType.values:
            continue
        usual = usual_price(found)
        rate = RateCard.objects.filter(country=country, type=number_type).first()
        if (
            rate is not None
            and rate.catalogue_seen_at
            and rate.catalogue_seen_at > fresh_since
            and usual == (rate.catalogue_monthly_cost, rate.catalogue_setup_cost)
        ):
            continue  # the rate card knows this price already, and lately
        rate_card_learn(
            country=country, type=number_type, offers=found, actor=Actor.system("catalogue")
        )


def _rate_facts(rate: RateCard) -> dict:
    def text(value):
        return None if value is None else str(value)

    return {
        "catalogue_monthly": text(rate.catalogue_monthly_cost),
        "catalogue_setup": text(rate.catalogue_setup_cost),
        "contract_monthly": text(rate.contract_monthly_cost),
        "contract_setup": text(rate.contract_setup_cost),
    }


def _audit_rate(rate: RateCard, *, before: dict, actor: Actor, why: str) -> None:
    audit_append(**_rate_event(rate, before=before, why=why), actor=actor)


def _rate_event(rate: RateCard, *, before: dict, why: str) -> dict:
    return {
        "action": Action.RATE_CARD,
        "country": rate.country,
        "request": {"country": rate.country, "type": rate.type},
        "before": before,
        "after": _rate_facts(rate),
        "monthly_cost": rate.monthly_cost,
        "setup_cost": rate.setup_cost,
        "outcome": Outcome.SUCCEEDED,
        "reason": f"{NumberType(rate.type).label} numbers in {rate.country}: {why}",
    }


@dataclass(frozen=True)
class ContractPrice:
    country: str
    type: str
    monthly: Decimal | None  # None: remove the contract price
    setup: Decimal | None = None


def rate_card_set(*, actor: Actor, prices: list[ContractPrice]) -> int:
    """Set (or remove) contract prices, each change audited, the numbers they price
    repriced. Returns how many rates changed."""
    changed: list[RateCard] = []
    events = []
    with transaction.atomic():
        for price in prices:
            rate, _ = RateCard.objects.select_for_update().get_or_create(
                country=price.country, type=price.type
            )
            setup = price.setup if price.monthly is not None else None
            if (rate.contract_monthly_cost, rate.contract_setup_cost) == (price.monthly, setup):
                continue
            before = _rate_facts(rate)
            rate.contract_monthly_cost, rate.contract_setup_cost = price.monthly, setup
            rate.contract_set_at, rate.contract_set_by = timezone.now(), actor.username
            rate.save()
            why = "contract price set." if price.monthly is not None else "contract price removed."
            events.append(_rate_event(rate, before=before, why=f"{why[0].upper()}{why[1:]}"))
            changed.append(rate)
        audit_append_many(events, actor=actor)
        for rate in changed:
            prices_refresh(country=rate.country, type=rate.type)
    return len(changed)


def held_kinds() -> list[tuple[str, str]]:
    """Each (country, type) the account holds numbers of, from the totals."""
    groups = InventoryTotal.objects.values_list("country", "type").annotate(held=Sum("numbers"))
    kinds = [(country, kind) for country, kind, held in groups if held > 0]
    return sorted(set(kinds))


def rate_card_due(*, now: datetime | None = None) -> list[tuple[str, str]]:
    """The kinds of number held whose catalogue price was never asked for, or not today."""
    cutoff = (now or timezone.now()) - RATE_CARD_MAX_AGE
    checked = {
        (r.country, r.type): r.catalogue_checked_at
        for r in RateCard.objects.filter(catalogue_checked_at__isnull=False)
    }
    return [kind for kind in held_kinds() if (checked.get(kind) or cutoff) <= cutoff]


def rate_card_refresh(*, client: api.NumbersApiClient | None = None) -> RateCardRefresh:
    """Ask the catalogue once for each kind of number held that is due (paced by the
    quota the client reads from each answer). A busy or failing API stops the run; what
    it learned so far stays, and the rest is asked for next time."""
    client = client if client is not None else api.default_client()
    run = RateCardRefresh.objects.create()
    actor = Actor.system("rate card")
    due = rate_card_due()
    try:
        for country, number_type in due:
            page = client.search_available(country=country, type=number_type, size=RATE_CARD_SAMPLE)
            run.asked += 1
            run.learned += rate_card_learn(
                country=country, type=number_type, offers=page.items, actor=actor
            )
    except api.ApiError as error:
        from inventory.errors import api_error_message

        run.message = api_error_message(error, doing="rate card refresh")
    else:
        run.message = (
            f"Asked the catalogue about {run.asked} kinds of number; {run.learned} prices changed."
        )
    run.finished_at = timezone.now()
    run.save()
    return run


def _task_waiting(task_path: str) -> bool:
    statuses = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    return DBTaskResult.objects.filter(task_path=task_path, status__in=statuses).exists()


def rate_card_refresh_request() -> bool:
    """Queue a refresh when one is due and none is waiting. Returns whether it queued."""
    if not rate_card_due() or _task_waiting(background.task_path("rate card refresh")):
        return False
    background.enqueue("rate card refresh")
    return True


# --- budgets --------------------------------------------------------------------------------


def spend_committed(*, team: str | None = None, excluding: Iterable[str] = ()) -> Decimal:
    """The monthly spend of the account (or of one team) once what is under way is done:
    the numbers owned, purchases in progress, and bulk purchases queued or running."""
    totals = (
        InventoryTotal.objects.all() if team is None else InventoryTotal.objects.filter(team=team)
    )
    owned = totals.aggregate(monthly=Sum("monthly_total"))["monthly"] or Decimal(0)
    excluded = set(excluding)
    in_batches = BatchItem.objects.filter(
        state__in=BatchItem.OPEN, batch__kind=Batch.Kind.PURCHASE
    ).exclude(msisdn__in=excluded)
    pending = (
        Operation.objects.filter(action=Action.PURCHASE, outcome=Outcome.PENDING)
        .exclude(msisdn__in=excluded)
        .exclude(msisdn__in=in_batches.values("msisdn"))
    )
    if team:
        in_batches = in_batches.filter(batch__changes__team=team)
        pending = pending.filter(after__team=team)
    under_way = (pending.aggregate(total=Sum("monthly_cost"))["total"] or 0) + (
        in_batches.aggregate(total=Sum("monthly_cost"))["total"] or 0
    )
    return owned + under_way


@dataclass(frozen=True)
class BudgetCheck:
    team: str
    budget: Decimal
    spend_after: Decimal

    @property
    def exceeded(self) -> bool:
        return self.spend_after > self.budget

    @property
    def sentence(self) -> str:
        whose = f"the monthly spend of {self.team}" if self.team else "the monthly spend"
        return f"This brings {whose} to {eur(self.spend_after)} of the {eur(self.budget)} budget."


def budget_checks(
    *, adding: Decimal | None, team: str = "", excluding: Iterable[str] = ()
) -> list[BudgetCheck]:
    """The budgets a purchase adding `adding` a month (for `team`) falls under: the
    overall one and the team's, with what the spend would then be."""
    budgets = Budget.objects.filter(team__in={"", team}).order_by("team")
    extra = adding or Decimal(0)
    return [
        BudgetCheck(
            team=budget.team,
            budget=budget.monthly_amount,
            spend_after=spend_committed(team=budget.team or None, excluding=excluding) + extra,
        )
        for budget in budgets
    ]


def budget_refusal(*, adding: Decimal | None, team: str = "", excluding: Iterable[str] = ()) -> str:
    """Why a purchase adding `adding` a month must be refused ('' when it fits): the
    sentence that says what it brings the spend to, over which budget. The one check every
    purchase goes through, single or bulk."""
    for check in budget_checks(adding=adding, team=team, excluding=excluding):
        if check.exceeded:
            return f"{check.sentence} That is over the budget, so nothing was bought."
    return ""


def budget_sentence(*, adding: Decimal | None, team: str = "") -> str:
    """What a confirmation page says about the spend after this purchase."""
    checks = budget_checks(adding=adding, team=team)
    if checks:
        return " ".join(check.sentence for check in checks)
    after = spend_committed() + (adding or Decimal(0))
    return f"This brings the monthly spend to {eur(after)}; no budget is set."


def budget_outlook(*, adding: Decimal | None) -> list[str]:
    """For a confirmation page: what this purchase brings the spend to, against the overall
    budget and against each team's (were it bought for that team)."""
    lines = [budget_sentence(adding=adding)]
    teams = Budget.objects.exclude(team="").order_by("team").values_list("team", flat=True)
    for team in teams:
        check = next(c for c in budget_checks(adding=adding, team=team) if c.team == team)
        lines.append(f"Bought for {team}: {check.sentence[0].lower()}{check.sentence[1:]}")
    return lines


def budget_set(*, actor: Actor, team: str, amount: Decimal | None) -> None:
    """Set a monthly budget (overall for team ""), or remove it with None. Audited."""
    team = team.strip()
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(team=team).first()
        before = {"team": team, "monthly": str(budget.monthly_amount)} if budget else None
        if amount is None:
            if budget is None:
                return
            budget.delete()
            after = None
        else:
            Budget.objects.update_or_create(
                team=team,
                defaults={
                    "monthly_amount": amount,
                    "set_at": timezone.now(),
                    "set_by": actor.username,
                },
            )
            after = {"team": team, "monthly": str(amount)}
        if before == after:
            return
        whose = f"the budget of {team}" if team else "the overall budget"
        what = f"was set to {eur(amount)} a month" if amount is not None else "was removed"
        audit_append(
            action=Action.BUDGET,
            actor=actor,
            request={"team": team},
            before=before,
            after=after,
            outcome=Outcome.SUCCEEDED,
            reason=f"{whose[0].upper()}{whose[1:]} {what}.",
        )


# --- history --------------------------------------------------------------------------------


def month_of(moment: datetime) -> date:
    local = timezone.localtime(moment)
    return local.date().replace(day=1)


def _month_after(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def spend_snapshot_record(*, now: datetime | None = None, force: bool = False) -> bool:
    """Record this month's numbers, spend and purchases so far, at most once a day.
    Returns whether it recorded."""
    now = now or timezone.now()
    month = month_of(now)
    latest = SpendSnapshot.objects.filter(month=month).first()
    if latest and not force and timezone.localdate(latest.recorded_at) == timezone.localdate(now):
        return False
    totals = InventoryTotal.objects.aggregate(held=Sum("numbers"), monthly=Sum("monthly_total"))
    estimated = InventoryTotal.objects.filter(price_source__in=ESTIMATED_SOURCES).aggregate(
        monthly=Sum("monthly_total")
    )
    SpendSnapshot.objects.update_or_create(
        month=month,
        defaults={
            "numbers": totals["held"] or 0,
            "monthly_total": totals["monthly"] or Decimal(0),
            "estimated_total": estimated["monthly"] or Decimal(0),
            "purchases": _succeeded_in_month(Action.PURCHASE, month),
            "cancellations": _succeeded_in_month(Action.CANCEL, month),
            "recorded_at": now,
        },
    )
    return True


def _succeeded_in_month(action: Action, month: date) -> int:
    """Operations of this kind that went through in the month: at once, or once settled."""
    start = timezone.make_aware(datetime.combine(month, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(_month_after(month), datetime.min.time()))
    within = Q(created_at__gte=start, created_at__lt=end)
    direct = Operation.objects.filter(within, action=action, outcome=Outcome.SUCCEEDED).count()
    settled = Operation.objects.filter(
        within, action=Action.SETTLE, outcome=Outcome.SUCCEEDED, settles__action=action
    ).count()
    return direct + settled


# --- hooks: what the sync and the task workers call -----------------------------------------


def after_sync() -> None:
    """After a successful sync: this month's snapshot (daily), and a rate-card refresh for
    kinds of number the account holds without a recent catalogue price."""
    try:
        spend_snapshot_record()
        rate_card_refresh_request()
    except Exception:  # the sync has committed; this must not turn it into a failure
        log.warning("Could not record spend or queue a rate-card refresh", exc_info=True)


def spend_housekeeping() -> None:
    """For the task workers' heartbeat: every few minutes, the same as after a sync, and
    people told of budgets reaching 80 % and 100 %."""
    if not cache.add(HOUSEKEEPING_KEY, True, timeout=HOUSEKEEPING_SECONDS):
        return
    after_sync()
    budgets_watch()


# Telling people once a budget is this far spent (notifications tell each threshold of
# each team once a month).
BUDGET_WARNINGS = (100, 80)


def budgets_watch() -> int:
    """Tell people of every budget at 80 % or 100 % of this month's spend. Returns how many
    budgets are past a threshold."""
    past = 0
    for budget in Budget.objects.filter(monthly_amount__gt=0):
        spent = spend_committed(team=budget.team or None)
        percent = int(spent * 100 / budget.monthly_amount)
        threshold = next((t for t in BUDGET_WARNINGS if percent >= t), None)
        if threshold is None:
            continue
        past += 1
        notifications.budget_threshold_reached(
            team=budget.team, percent=threshold, spent=spent, budget=budget.monthly_amount
        )
    return past


def budgets_by_team() -> Mapping[str, Decimal]:
    return dict(Budget.objects.values_list("team", "monthly_amount"))
