#!/bin/bash
# Data Lifecycle Manager calls this around the daily snapshot of the data volume. Freezing the filesystem makes the
# snapshot a clean XFS image; InnoDB (flush at commit, doublewrite, binlog synced) then restores from it like after
# a power cut, with every acknowledged commit. A watchdog thaws the volume if the post-script never arrives, so a
# lost DLM call cannot stall the database for more than a minute.
set -euo pipefail
case "${1:-dry-run}" in
  pre-script)
    mountpoint -q /data || exit 0
    sync
    fsfreeze -f /data
    nohup setsid sh -c 'sleep 60; fsfreeze -u /data 2>/dev/null' >/dev/null 2>&1 &
    ;;
  post-script)
    fsfreeze -u /data 2>/dev/null || true
    ;;
  dry-run)
    mountpoint -q /data
    ;;
  *)
    echo "unknown command $1" >&2
    exit 1
    ;;
esac
