#!/usr/bin/env bash
# Production smoke test: the app as docker-compose.yml runs it (gunicorn, a Celery worker
# and beat, PostgreSQL, Redis, FCA_ENVIRONMENT=production), on this machine, without Docker.
#
#   bash .ci/prod_smoke.sh        (from the repository root)
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth), Redis on 127.0.0.1:6379,
# the virtualenv in .venv and the built CSS in build/css/app.css (`make install assets`).
# Exits with the status of .ci/smoke.py; prints the servers' logs when it fails.
# Other settings the caller exports (SECURE_HSTS_PRELOAD, AXES_*, LOG_LEVEL...) pass through.
set -euo pipefail

cd "$(dirname "$0")/.."

PY=.venv/bin/python
PORT="${SMOKE_PORT:-8765}"
BASE_URL="http://127.0.0.1:${PORT}"
DB_NAME=fca_smoke

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fca-prod-smoke.XXXXXX")"
GUNICORN_LOG="$WORK_DIR/gunicorn.log"
WORKER_LOG="$WORK_DIR/worker.log"
BEAT_LOG="$WORK_DIR/beat.log"
PIDS=()
STATUS=1

print_logs() {
    local log
    for log in "$GUNICORN_LOG" "$WORKER_LOG" "$BEAT_LOG"; do
        [[ -f "$log" ]] || continue
        echo ""
        echo "===== server log: $(basename "$log") ====="
        tail -n 200 "$log"
    done
}

cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        # Give each process up to 10 s to stop cleanly, then make sure.
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [[ $rc -ne 0 ]]; then
        echo ""
        echo "Production smoke test FAILED (exit $rc)."
        print_logs
    fi
    rm -rf "$WORK_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> A fresh database: $DB_NAME"
dropdb --if-exists -h 127.0.0.1 -p 5432 -U postgres "$DB_NAME"
createdb -h 127.0.0.1 -p 5432 -U postgres "$DB_NAME"

echo "==> Production environment"
export FCA_ENVIRONMENT=production
SECRET_KEY="$("$PY" -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(64)))')"
export SECRET_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB_NAME}"
# Redis database 3: never the queues of the test suite.
export CELERY_BROKER_URL=redis://127.0.0.1:6379/3
export FCA_STALE_SWEEP_SECONDS=5
unset DJANGO_DEBUG SECURE_SSL_REDIRECT

echo "==> migrate, collectstatic, check --deploy"
"$PY" manage.py migrate --no-input -v0
"$PY" manage.py collectstatic --no-input -v0
"$PY" manage.py check --deploy --fail-level WARNING

echo "==> Seed an organisation, a coach, a room and a monthly measure"
SMOKE_EMAIL="smoke.coach@example.nhs.uk"
SMOKE_PASSWORD="$("$PY" -c 'import secrets; print("Smoke-" + secrets.token_urlsafe(18))')"
export SMOKE_EMAIL SMOKE_PASSWORD
MEASURE_ID="$("$PY" manage.py shell -v0 -c '
import os
from bigrooms.models import BigRoom, RoomMembership
from fca.models import Organisation, User
from measures.models import Measure

org = Organisation.objects.create(name="Smoke Test Hospitals NHS Foundation Trust", kind="acute_trust")
coach = User.objects.create_user(
    os.environ["SMOKE_EMAIL"], os.environ["SMOKE_PASSWORD"], full_name="Smoke Coach"
)
room = BigRoom.objects.create(name="Smoke test big room", host=org)
RoomMembership.objects.create(room=room, user=coach, role="clinical_coach")
measure = Measure.objects.create(
    room=room,
    name="Discharges before noon",
    unit="%",
    improvement="increase",
    frequency="monthly",
)
print(measure.pk)
' | tail -n 1)"
if ! [[ "$MEASURE_ID" =~ ^[0-9]+$ ]]; then
    echo "Seeding did not print a measure id (got: '$MEASURE_ID')" >&2
    exit 1
fi
echo "    measure id $MEASURE_ID, coach $SMOKE_EMAIL"

echo "==> Start gunicorn, the Celery worker and beat (logs in $WORK_DIR)"
# No control socket: its default path is per user, shared with any other gunicorn here.
.venv/bin/gunicorn fca.wsgi:application -b "127.0.0.1:${PORT}" -w 2 \
    --access-logfile - --no-control-socket >"$GUNICORN_LOG" 2>&1 &
PIDS+=("$!")
.venv/bin/celery -A fca worker -l warning --pool solo >"$WORKER_LOG" 2>&1 &
PIDS+=("$!")
.venv/bin/celery -A fca beat -l warning --schedule "$WORK_DIR/celerybeat-schedule" \
    >"$BEAT_LOG" 2>&1 &
PIDS+=("$!")

echo "==> Wait for $BASE_URL/health/"
ready=0
for _ in $(seq 1 60); do
    if "$PY" -c '
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"X-Forwarded-Proto": "https"})
with urllib.request.urlopen(request, timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
' "$BASE_URL/health/" 2>/dev/null; then
        ready=1
        break
    fi
    for pid in "${PIDS[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "A server process ($pid) stopped before the app answered" >&2
            exit 1
        fi
    done
    sleep 0.5
done
if [[ $ready -ne 1 ]]; then
    echo "$BASE_URL/health/ did not answer within 30 s" >&2
    exit 1
fi

echo "==> Smoke test"
set +e
"$PY" .ci/smoke.py "$BASE_URL" "$SMOKE_EMAIL" "$SMOKE_PASSWORD" "$MEASURE_ID"
STATUS=$?
set -e
exit "$STATUS"
