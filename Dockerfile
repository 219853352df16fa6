# Numbers Portal: the production image (gunicorn serving Django, whitenoise serving static).
#
#   docker build -t numbers-portal .
#   docker run --rm --env-file prod.env numbers-portal python manage.py migrate --noinput
#   docker run -d --env-file prod.env -p 8000:8000 numbers-portal
#   docker run -d --env-file prod.env numbers-portal python manage.py sync_numbers --every 15m
#
# Migrations are a separate step, run once per release before the new portal starts (the
# compose file's `migrate` service does it). All configuration, secrets included, comes from
# the environment at run time: the image holds none (README, "Production").

# Both stages use the same pinned base, so the virtualenv's interpreter links stay valid.
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
# Only the lock first: this layer is rebuilt when a dependency changes, not on every code edit.
COPY requirements.lock .
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.lock

FROM python:3.11.14-slim-bookworm
ENV PATH="/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_PRODUCTION=true \
    PORT=8000
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin portal
WORKDIR /app
COPY --from=build /venv /venv
# The code stays owned by root: the portal's user can read it, never change it.
COPY manage.py gunicorn.conf.py ./
COPY scripts/healthcheck.py scripts/
COPY numbersportal/ numbersportal/
COPY inventory/ inventory/
COPY sandbox/ sandbox/
COPY templates/ templates/
COPY static/ static/
# Hashed, compressed static files for whitenoise. Production mode would demand secrets that a
# build must never see, so collectstatic runs in development mode with production's storage.
RUN DJANGO_PRODUCTION=false DJANGO_STATIC_MANIFEST=true python manage.py collectstatic --noinput \
    && python -m compileall -q numbersportal inventory sandbox
USER 10001:10001
EXPOSE 8000
# 200 (ok or degraded) is healthy; 503 means the database is down. See inventory/health.py.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]
# WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_ACCESS_LOG: gunicorn.conf.py.
CMD ["gunicorn", "numbersportal.wsgi", "--config", "gunicorn.conf.py"]
