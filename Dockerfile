# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH="/opt/venv/bin:$PATH" DJANGO_SETTINGS_MODULE=config.settings
RUN groupadd --system tally && useradd --system --gid tally --home /app tally
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=tally:tally . /app
RUN DEBUG=true python manage.py collectstatic --no-input -v 0 && chown -R tally:tally /app/staticfiles
USER tally
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=5 CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/').status == 200 else 1)"
# HTTP through granian's WSGI workers (config/serve.py); compose runs daphne for /ws/ and nginx in front.
ENV WEB_HOST=0.0.0.0 WEB_PORT=8000 WEB_CONCURRENCY=2 WEB_THREADS=4 LOG_FORMAT=json
CMD ["python", "-m", "config.serve", "http"]
