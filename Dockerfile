# CDS Hooks service image: slim Python, non-root, gunicorn, configured by environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CDS_SERVICE__HOOKS_DIR=/app/hooks \
    CDS_SERVICE__PROFILE=production \
    CDS_STORE__URL=sqlite:////data/cds_service.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
RUN pip install . && useradd --system --uid 10001 --home-dir /app cds \
    && mkdir -p /data && chown cds /data
COPY hooks ./hooks

USER cds
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"]

# Listening beyond loopback requires [auth] issuers, and the production profile requires
# [service] public_base_url (the URL EHRs call): mount a config and set CDS_CONFIG.
CMD ["cds-service", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
