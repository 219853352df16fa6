"""What every page needs to know, whoever renders it."""

from django.conf import settings


def portal(request) -> dict:
    # The banner says so whenever the API is the sandbox: nothing bought there costs money.
    return {"sandbox_mode": settings.SANDBOX_MODE}
