# Signoff: one image for `signoff serve` (listener + worker), `serve --no-worker` and `worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin signoff \
    && mkdir -p /config /data && chown signoff /data

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install . && rm -rf /src

USER signoff
WORKDIR /home/signoff
# Mount the reviewed governance file at /config/signoff.yaml; SQLite lives on the /data volume
# unless SIGNOFF_DATABASE_URL points at PostgreSQL.
ENV SIGNOFF_CONFIG=/config/signoff.yaml \
    SIGNOFF_DATABASE_URL=sqlite:////data/signoff.db \
    SIGNOFF_PORT=3000
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SIGNOFF_PORT', '3000'), timeout=3)"
CMD ["signoff", "serve"]
