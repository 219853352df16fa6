# Numbers Portal: production image (gunicorn + whitenoise). Migrations run as a separate
# step: docker run --rm <image> python manage.py migrate

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock .
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.lock

FROM python:3.11.14-slim-bookworm
ENV PATH="/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_PRODUCTION=true \
    PORT=8000
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app portal
WORKDIR /app
COPY --from=build /venv /venv
COPY . .
# collectstatic needs no secrets: it runs in development mode with production's storage.
RUN DJANGO_PRODUCTION=false DJANGO_STATIC_MANIFEST=true python manage.py collectstatic --noinput \
    && python -m compileall -q numbersportal inventory
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["gunicorn", "numbersportal.wsgi", "--config", "gunicorn.conf.py"]
