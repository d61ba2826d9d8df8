# syntax=docker/dockerfile:1
# The FCA big rooms app: one image for the web server, the Celery worker and Celery beat
# (docker-compose.yml runs all three). Configuration comes only from environment variables
# at run time (see fca/settings.py); nothing secret is baked in.
#
#   docker build -t fca-bigrooms .

# ---- Stage 1: the stylesheet, built from the NHS.UK frontend's npm package ------------
FROM python:3.11-slim AS assets

# Node.js and npm from Debian's own packages: only needed to build the CSS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY package.json package-lock.json ./
# axe-core (a devDependency) is only for the accessibility tests.
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
COPY static/scss static/scss
RUN mkdir -p build/css \
    && npx sass --load-path=node_modules --no-source-map --style=compressed --quiet-deps \
        static/scss/app.scss build/css/app.css

# ---- Stage 2: the app ------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Board packs: the worker draws charts with kaleido, which drives Debian's Chromium (never a
# browser downloaded at run time), and writes the PDF in Liberation Sans (Arial's metrics).
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.lock ./
RUN pip install -r requirements.lock

# Only what the app needs (no .venv, node_modules, local database or .git).
COPY manage.py ./
COPY fca fca
COPY bigrooms bigrooms
COPY pathways pathways
COPY measures measures
COPY templates templates
COPY static static
# Both are STATICFILES_DIRS: the built CSS and the NHS.UK frontend's assets.
COPY --from=assets /src/build/css build/css
COPY --from=assets /src/node_modules/nhsuk-frontend/dist node_modules/nhsuk-frontend/dist

# Collect and compress the static files for WhiteNoise. Production settings refuse to load
# without SECRET_KEY and ALLOWED_HOSTS: throwaway values for this one step only, never
# stored in the image's environment. No database or broker is touched.
RUN FCA_ENVIRONMENT=production \
    SECRET_KEY="collectstatic-only-build-time-key-not-used-at-run-time-0123456789abcdef" \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --no-input -v0

# Run as an unprivileged user, who can read the app but not change it.
# Uploaded photos are the one thing it writes: to /data/media, a volume in compose.
RUN groupadd --system --gid 10001 fca \
    && useradd --system --uid 10001 --gid fca --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin fca \
    && mkdir -p /data/media && chown fca:fca /data/media
ENV MEDIA_ROOT=/data/media
USER fca

EXPOSE 8000

# WEB_CONCURRENCY (read by gunicorn) sets the number of workers; 2 unless given. No
# control socket: nothing uses it, and the user's home is read-only.
ENV WEB_CONCURRENCY=2
CMD ["gunicorn", "fca.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", \
     "--timeout", "60", "--no-control-socket"]
