# Signoff: one image for `signoff serve` (listener + worker), `serve --no-worker` and `worker`.
# Dependencies come from requirements.lock (pinned, hashed; see README › Deployment to regenerate it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --gid 10001 signoff \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin signoff \
    && mkdir -p /config /data && chown 10001:10001 /data

WORKDIR /src
# Dependencies in their own layer: rebuilt only when the lock file changes, never for a source edit.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
# Signoff itself: no dependency resolution, and the build backend already installed from the lock.
RUN pip install --no-deps --no-build-isolation . && rm -rf /src

USER 10001:10001
WORKDIR /home/signoff
# Mount the reviewed governance file at /config/signoff.yaml; SQLite lives on the /data volume
# unless SIGNOFF_DATABASE_URL points at PostgreSQL.
ENV SIGNOFF_CONFIG=/config/signoff.yaml \
    SIGNOFF_DATABASE_URL=sqlite:////data/signoff.db \
    SIGNOFF_PORT=3000
VOLUME ["/data"]
EXPOSE 3000
# Every role (serve, serve --no-worker, worker) answers /healthz on SIGNOFF_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SIGNOFF_PORT', '3000'), timeout=3)"]
# SIGTERM stops it in order (deliveries in flight finish, at most 10 s): exit 0.
STOPSIGNAL SIGTERM
CMD ["signoff", "serve"]
