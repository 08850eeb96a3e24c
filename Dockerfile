# One image for the API and the worker (compose runs it with different commands).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MITWIRKEN_DATA_DIR=/data
WORKDIR /app
# A font with umlauts for the radar chart's PNG (services/surveys/radar.py): from the
# distribution at build time, never fetched at run time.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY api ./api
COPY services ./services
COPY workflows ./workflows
COPY activities ./activities
COPY infra ./infra
COPY templates ./templates
# Editable, so process templates and migrations are read from the source tree as in dev.
RUN pip install -e . && useradd --system --home /app mitwirken && mkdir -p /data \
    && chown mitwirken /data

USER mitwirken
EXPOSE 8000
CMD ["mitwirken", "api", "--host", "0.0.0.0"]
