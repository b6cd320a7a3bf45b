#!/bin/bash
# Activates an unpacked release: production dependencies, the /opt/shopflow/current switch, a restart, and a wait
# for /readyz. A release that never gets ready is rolled back to the previous one, and the run fails so the SSM
# association (and its alarm in the console) shows it.
set -euo pipefail
rel="$1"
# shellcheck source=/dev/null
. /etc/shopflow/host.conf
cd "$rel"
if [ ! -f .deps-installed ]; then
  HOME=/root /usr/local/bin/npm ci --omit=dev --no-audit --no-fund --loglevel=error
  touch .deps-installed
fi
install -m 0755 "$rel/infra/host/run.sh" /usr/local/sbin/shopflow-run
previous=$(readlink -f /opt/shopflow/current 2>/dev/null || true)
ln -sfn "$rel" /opt/shopflow/current.new
mv -Tf /opt/shopflow/current.new /opt/shopflow/current
systemctl daemon-reload
systemctl enable shopflow.service
systemctl restart shopflow.service

ready() {
  for _ in $(seq 1 90); do
    curl -fsS -o /dev/null "http://127.0.0.1:${APP_PORT}/readyz" && return 0
    sleep 2
  done
  return 1
}

if ! ready; then
  echo "[install] $rel did not become ready" >&2
  journalctl -u shopflow.service -n 100 --no-pager >&2 || true
  tail -n 100 /var/log/shopflow/app.log >&2 || true
  if [ -n "$previous" ] && [ "$previous" != "$(readlink -f "$rel")" ] && [ -d "$previous" ]; then
    echo "[install] rolling back to $previous" >&2
    ln -sfn "$previous" /opt/shopflow/current.new
    mv -Tf /opt/shopflow/current.new /opt/shopflow/current
    install -m 0755 "$previous/infra/host/run.sh" /usr/local/sbin/shopflow-run
    systemctl restart shopflow.service
  fi
  exit 1
fi
echo "[install] $rel is ready"
# the three newest releases stay for a manual rollback
find /opt/shopflow/releases -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +4 |
  cut -d' ' -f2- | xargs -r rm -rf
