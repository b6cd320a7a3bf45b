#!/bin/bash
# Prepares an Amazon Linux 2023 host for shopflow. It runs from the release being installed, before every install,
# so it is idempotent: packages, the data volume, MariaDB (when the database lives on this host), the database
# account, the CloudWatch agent and the systemd units all converge to what this file says.
set -euo pipefail
# shellcheck source=/dev/null
. /etc/shopflow/host.conf
export AWS_DEFAULT_REGION="$REGION"

log() { echo "[provision] $*"; }

install_packages() {
  local want=(jq unzip tar logrotate amazon-cloudwatch-agent gcc-c++ make python3)
  if [ "$DB_MODE" = local ]; then want+=(mariadb105-server); else want+=(mariadb105); fi
  local missing=()
  for p in "${want[@]}"; do rpm -q "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then dnf install -y "${missing[@]}"; fi
  # AL2023 ships Node majors side by side (node-20, npm-20) when another one is the default
  if ! command -v node-20 >/dev/null 2>&1 && ! node --version 2>/dev/null | grep -q '^v20\.'; then
    dnf install -y nodejs20 nodejs20-npm
  fi
  local node npm
  node=$(command -v node-20 || command -v node)
  npm=$(command -v npm-20 || command -v npm)
  ln -sfn "$node" /usr/local/bin/node
  ln -sfn "$npm" /usr/local/bin/npm
  /usr/local/bin/node -e 'if (Number(process.versions.node.split(".")[0]) < 20) process.exit(1)' ||
    { log "Node.js 20 or newer is required"; exit 1; }
}

mount_data_volume() {
  # Nitro instances expose EBS volumes as NVMe devices named after the volume id; Xen ones keep /dev/xvdf.
  local dev="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${DATA_VOLUME_ID/-/}"
  for _ in $(seq 1 120); do
    [ -e "$dev" ] && break
    [ -e /dev/xvdf ] && { dev=/dev/xvdf; break; }
    sleep 5
  done
  [ -e "$dev" ] || { log "data volume $DATA_VOLUME_ID is not attached"; exit 1; }
  if ! blkid "$dev" >/dev/null 2>&1; then
    log "formatting the new data volume"
    mkfs.xfs -L shopflow-data "$dev"
  fi
  local uuid
  uuid=$(blkid -s UUID -o value "$dev")
  grep -q "UUID=$uuid" /etc/fstab || echo "UUID=$uuid /data xfs defaults,noatime,nofail 0 2" >>/etc/fstab
  mkdir -p /data
  mountpoint -q /data || mount /data
}

configure_mariadb() {
  install -d -o mysql -g mysql -m 0750 /data/mysql /data/mysql-binlog
  local mem_kb pool_mb tmp
  mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
  # the API server and the page cache share the machine: 35% for InnoDB
  pool_mb=$((mem_kb * 35 / 100 / 1024))
  tmp=$(mktemp)
  cat >"$tmp" <<CNF
[mysqld]
datadir=/data/mysql
bind-address=0.0.0.0
port=${DB_PORT}
max_connections=${DB_MAX_CONNECTIONS}
innodb_buffer_pool_size=${pool_mb}M
# durability: a commit acknowledged to a checkout or a file load survives a crash or a power loss
innodb_flush_log_at_trx_commit=1
sync_binlog=1
innodb_doublewrite=1
log_bin=/data/mysql-binlog/mysql-bin
binlog_format=ROW
server_id=1
expire_logs_days=7
transaction_isolation=REPEATABLE-READ
character_set_server=utf8mb4
collation_server=utf8mb4_unicode_ci
skip_name_resolve=ON
CNF
  install -d /etc/systemd/system/mariadb.service.d
  printf '[Unit]\nRequiresMountsFor=/data\n' >/etc/systemd/system/mariadb.service.d/shopflow.conf
  systemctl daemon-reload
  if ! cmp -s "$tmp" /etc/my.cnf.d/zz-shopflow.cnf; then
    install -m 0644 "$tmp" /etc/my.cnf.d/zz-shopflow.cnf
    systemctl enable mariadb
    systemctl restart mariadb
  else
    systemctl enable --now mariadb
  fi
  rm -f "$tmp"
  local got
  got=$(mysql --protocol=socket -uroot -N -B -e \
    'SELECT @@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin, @@innodb_doublewrite' | tr '\t' ' ')
  [ "$got" = "1 1 1 1" ] || { log "MariaDB durability settings drifted: $got"; exit 1; }
}

create_database_account() {
  local secret user pass admin hosts
  secret=$(aws secretsmanager get-secret-value --secret-id "$DB_SECRET_ARN" --query SecretString --output text)
  user=$(jq -r .username <<<"$secret")
  pass=$(jq -r .password <<<"$secret")
  hosts=("$DB_CLIENT_HOSTS")
  if [ "$DB_MODE" = local ]; then
    admin=(mysql --protocol=socket -uroot)
    hosts+=("127.0.0.1")
  else
    local admin_secret defaults
    admin_secret=$(aws secretsmanager get-secret-value --secret-id "$DB_ADMIN_SECRET_ARN" --query SecretString --output text)
    defaults=$(mktemp)
    chmod 0600 "$defaults"
    jq -r '"[client]\nuser=\(.username)\npassword=\(.password)\nhost=\(.host)\nport=\(.port)"' <<<"$admin_secret" >"$defaults"
    admin=(mysql --defaults-extra-file="$defaults")
  fi
  {
    echo "CREATE DATABASE IF NOT EXISTS \`${DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    for h in "${hosts[@]}"; do
      echo "CREATE USER IF NOT EXISTS '${user}'@'${h}' IDENTIFIED BY '${pass}';"
      echo "ALTER USER '${user}'@'${h}' IDENTIFIED BY '${pass}';"
      echo "GRANT ALL PRIVILEGES ON \`${DB_NAME}\`.* TO '${user}'@'${h}';"
    done
  } | "${admin[@]}"
  [ -z "${defaults:-}" ] || rm -f "$defaults"
}

configure_cloudwatch_agent() {
  local cfg=/opt/aws/amazon-cloudwatch-agent/etc/shopflow.json
  local disks='"/"'
  [ "$DB_MODE" = local ] && disks='"/", "/data"'
  cat >"$cfg" <<JSON
{
  "agent": { "metrics_collection_interval": 60, "run_as_user": "root" },
  "metrics": {
    "namespace": "${HOST_METRICS_NAMESPACE}",
    "append_dimensions": { "InstanceId": "\${aws:InstanceId}" },
    "aggregation_dimensions": [["path"], []],
    "metrics_collected": {
      "disk": { "resources": [${disks}], "measurement": ["used_percent"], "drop_device": true },
      "mem": { "measurement": ["used_percent"] }
    }
  },
  "logs": {
    "logs_collected": {
      "files": {
        "collect_list": [
          { "file_path": "/var/log/shopflow/app.log", "log_group_name": "${APP_LOG_GROUP}", "log_stream_name": "{instance_id}/app" },
          { "file_path": "/var/log/shopflow/backup.log", "log_group_name": "${APP_LOG_GROUP}", "log_stream_name": "{instance_id}/backup" }
        ]
      }
    }
  }
}
JSON
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "file:$cfg"
}

install_units() {
  local db_unit="" mounts=""
  if [ "$DB_MODE" = local ]; then
    db_unit="mariadb.service"
    mounts="RequiresMountsFor=/data"
  fi
  cat >/etc/systemd/system/shopflow.service <<UNIT
[Unit]
Description=shopflow API server
After=network-online.target ${db_unit}
Wants=network-online.target ${db_unit}
${mounts}

[Service]
User=shopflow
Group=shopflow
WorkingDirectory=/opt/shopflow/current
ExecStart=/usr/local/sbin/shopflow-run serve
Restart=always
RestartSec=5
LimitNOFILE=65536
StandardOutput=append:/var/log/shopflow/app.log
StandardError=append:/var/log/shopflow/app.log
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
ReadWritePaths=${APP_DATA_DIR} /var/lib/shopflow

[Install]
WantedBy=multi-user.target
UNIT
  cat >/etc/systemd/system/shopflow-backup.service <<UNIT
[Unit]
Description=shopflow database backup to the backups bucket
After=shopflow.service

[Service]
Type=oneshot
User=shopflow
Group=shopflow
WorkingDirectory=/opt/shopflow/current
ExecStart=/usr/local/sbin/shopflow-run backup
StandardOutput=append:/var/log/shopflow/backup.log
StandardError=append:/var/log/shopflow/backup.log
UNIT
  cat >/etc/systemd/system/shopflow-backup.timer <<UNIT
[Unit]
Description=daily shopflow database backup

[Timer]
OnCalendar=*-*-* ${BACKUP_TIME_UTC}:00 UTC
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target
UNIT
  cat >/etc/logrotate.d/shopflow <<'ROT'
/var/log/shopflow/*.log {
  daily
  rotate 7
  compress
  missingok
  notifempty
  copytruncate
}
ROT
  systemctl daemon-reload
  # RDS keeps its own automated backups, and every fleet member would otherwise dump the same database
  if [ "$DB_MODE" = local ]; then systemctl enable --now shopflow-backup.timer; fi
}

install_packages
id -u shopflow >/dev/null 2>&1 ||
  useradd --system --home-dir /var/lib/shopflow --create-home --shell /sbin/nologin shopflow
install -d -o shopflow -g shopflow -m 0750 /var/lib/shopflow
install -d -m 0755 /var/log/shopflow /opt/shopflow/releases
if [ "$DB_MODE" = local ]; then
  mount_data_volume
  configure_mariadb
fi
install -d -o shopflow -g shopflow -m 0750 "$APP_DATA_DIR"
create_database_account
configure_cloudwatch_agent
install_units
log "host ready"
