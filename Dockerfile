# syntax=docker/dockerfile:1
# Insightboard image: dependencies are installed in a builder stage, the runtime
# stage holds only the virtualenv and the source, and runs as an unprivileged user.
# Not built on the machine where it was written (no Docker engine there);
# tests/integration/test_deploy.py checks its structure.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, so this layer is rebuilt only when the pins change.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -c constraints.txt -r requirements.txt
COPY . .
# The installed wheel is what runs: `pip install .` (not editable) puts every
# package, the assets, the SQL migrations and the demo file into the virtualenv
# (tests/integration/test_packaging.py builds the wheel and runs the app from it).
RUN pip install -c constraints.txt .

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8050 \
    GUNICORN_WORKERS=2 \
    GUNICORN_THREADS=64
# Reports: Chromium for kaleido's chart images, pango and a font for WeasyPrint.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium libpango-1.0-0 \
    libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 insightboard \
 && useradd --system --uid 10001 --gid insightboard --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin insightboard
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The code is the installed package (root-owned, read-only for the app); the
# working directory holds only the deployment files and var/, the one writable
# place (the local object store, used when no S3 bucket is configured).
COPY deploy ./deploy
RUN mkdir -p /app/var && chown insightboard:insightboard /app/var
USER 10001:10001
EXPOSE 8050
# slim has no curl: the check is Python's urllib against /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "deploy/healthcheck.py", "http"]
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "app:server"]
