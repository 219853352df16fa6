"""Notifications: what each person receives, the webhooks, and deliveries that failed."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.decorators import superuser_required
from inventory.governance_forms import NotificationPreferencesForm, WebhookForm
from inventory.models import Webhook
from inventory.services import notifications
from inventory.services.operations import ServiceError


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Every signed-in person chooses what they receive by email."""
    events = notifications.events_for(request.user)
    chosen = selectors.notification_events_of(user=request.user)
    form = NotificationPreferencesForm(
        request.POST or None, events=events, initial={"events": chosen}
    )
    if request.method == "POST" and form.is_valid():
        notifications.notification_preferences_set(
            user=request.user, events=form.cleaned_data["events"]
        )
        messages.success(request, "Your notification choices are saved.")
        return redirect("notification-settings")
    context = {"form": form, "email_enabled": settings.EMAIL_ENABLED, "events": events}
    status = 400 if form.errors else 200
    return render(request, "inventory/notification_settings.html", context, status=status)


def _webhook_or_404(pk: int) -> Webhook:
    webhook = Webhook.objects.filter(pk=pk).first()
    if webhook is None:
        raise Http404("No such webhook.")
    return webhook


def _save_webhook(request: HttpRequest, form: WebhookForm, webhook: Webhook | None):
    try:
        saved = notifications.webhook_save(
            actor=Actor.from_request(request), webhook=webhook, **form.cleaned_data
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
        return None
    messages.success(request, f"Webhook “{saved.name}” saved.")
    return saved


@superuser_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid() and _save_webhook(request, form, None):
        return redirect("webhooks")
    context = {"webhooks": selectors.webhooks(), "form": form}
    return render(request, "inventory/webhooks.html", context, status=400 if form.errors else 200)


@superuser_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _webhook_or_404(pk)
    initial = {"name": webhook.name, "url": webhook.url, "events": webhook.events}
    form = WebhookForm(
        request.POST or None, initial={**initial, "active": webhook.active}, needs_secret=False
    )
    if request.method == "POST" and form.is_valid() and _save_webhook(request, form, webhook):
        return redirect("webhooks")
    context = {"webhook": webhook, "form": form}
    return render(request, "inventory/webhook.html", context, status=400 if form.errors else 200)


@superuser_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _webhook_or_404(pk)
    notifications.webhook_delete(actor=Actor.from_request(request), webhook=webhook)
    messages.info(request, f"Webhook “{webhook.name}” removed.")
    return redirect("webhooks")


@superuser_required
@require_GET
def delivery_failures(request: HttpRequest) -> HttpResponse:
    context = {"deliveries": selectors.notification_failures_recent(limit=100)}
    return render(request, "inventory/delivery_failures.html", context)
