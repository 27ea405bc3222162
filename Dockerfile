# CDS Hooks service image: slim Python, non-root, gunicorn, configured by a mounted TOML
# file and environment variables; runs with a read-only root filesystem (the only
# writable place it needs is /tmp: mount an emptyDir or tmpfs there).
#
# NOT BUILT on the machines this project is developed on (no Docker engine runs there and
# no base image can be pulled). What is checked instead (tests/deploy/test_image.py): the
# .dockerignore'd build context holds everything this file copies and nothing heavy; the
# package installed non-editable from that context, as uid 10001 with nothing writable
# but its temporary folder, migrates, serves and answers. See docs/deploy.md.
#
#   docker run --read-only --tmpfs /tmp:size=16m \
#     -v /srv/cds/config.toml:/etc/cds-service/config.toml:ro \
#     -v /srv/cds/jwks:/etc/cds-service/jwks:ro \
#     -e CDS_STORE__URL=postgresql+psycopg://... -e CDS_CACHE__URL=redis://... \
#     -p 127.0.0.1:8080:8080 cds-service:0.1.0
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TMPDIR=/tmp \
    CDS_CONFIG=/etc/cds-service/config.toml \
    CDS_SERVICE__PROFILE=production \
    CDS_STORE__URL=sqlite:////data/cds_service.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
RUN pip install . \
    && rm -rf build cds_service.egg-info \
    && groupadd --system --gid 10001 cds \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app \
       --shell /usr/sbin/nologin cds \
    && mkdir -p /data /etc/cds-service/jwks && chown 10001:10001 /data
# Not in the image: fixtures/ (synthetic test patients) and tests/. `cds-service invoke
# --fixture` runs from a checkout against the service's URL (docs/deploy.md).

# numeric, so that Kubernetes' runAsNonRoot can check it
USER 10001:10001
# /data: the SQLite store when no PostgreSQL URL is given (one replica only)
VOLUME ["/data"]
# gunicorn gthread workers (a read deadline per request, keep-alive). Put a buffering
# reverse proxy in front (TLS, slow clients) and publish its port, not 8080; set
# FORWARDED_ALLOW_IPS to the proxy's address (X-Forwarded-Proto): docs/deployment.md.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"]

# Listening beyond loopback requires [auth] issuers: mount the config at CDS_CONFIG.
CMD ["cds-service", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
