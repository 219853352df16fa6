"""Sessions in the database (DESIGN §2.12): signed-in users stay signed in through a Redis
outage or restart.

Sessions expire after SESSION_IDLE_MINUTES without a request, so every request moves the
expiry forward (SESSION_SAVE_EVERY_REQUEST). Writing the row on every page view would cost
each one a write (and on SQLite, the write lock); this store rewrites an unchanged session
only when its expiry would move by a tenth of the idle time, at most a minute. A session
therefore ends between SESSION_IDLE_MINUTES and a minute less after its last request.
"""

from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

RENEWAL_STEP_MAX = timedelta(minutes=1)


class SessionStore(DatabaseSessionStore):
    _stored_expiry = None  # the expiry the database holds, once the session is loaded

    def _get_session_from_db(self):
        # django-stubs leaves out this private method of Django's database store.
        stored = super()._get_session_from_db()  # type: ignore[misc]
        self._stored_expiry = stored.expire_date if stored is not None else None
        return stored

    def save(self, must_create=False):
        if must_create or self.modified or self._renewal_due():
            super().save(must_create=must_create)

    def _renewal_due(self) -> bool:
        if self._stored_expiry is None:
            return True
        step = min(RENEWAL_STEP_MAX, timedelta(seconds=self.get_expiry_age()) / 10)
        return self.get_expiry_date() - self._stored_expiry >= step
