#!/bin/bash
# Starts a shopflow command (the server, a backup, any CLI command) with the AWS-mode environment. Secrets are read
# from Secrets Manager at every start, so they never sit in a file on disk and a changed password is picked up by a
# restart. Usage: shopflow-run serve | backup | <any shopflow command>
set -euo pipefail
# shellcheck source=/dev/null
. /etc/shopflow/host.conf
export AWS_DEFAULT_REGION="$REGION"
secret=$(aws secretsmanager get-secret-value --secret-id "$DB_SECRET_ARN" --query SecretString --output text)
db_user=$(jq -r .username <<<"$secret")
db_pass=$(jq -r .password <<<"$secret")
unset secret
# the generated password has no URL-reserved characters, so it needs no percent-encoding
export SHOPFLOW_DATABASE_URL="mysql://${db_user}:${db_pass}@${DB_HOST}:${DB_PORT}/${DB_NAME}"
if [ -n "${SMTP_SECRET_ARN:-}" ]; then
  SHOPFLOW_SMTP_URL=$(aws secretsmanager get-secret-value --secret-id "$SMTP_SECRET_ARN" --query SecretString --output text)
  export SHOPFLOW_SMTP_URL
fi
export SHOPFLOW_MODE=aws
export SHOPFLOW_STORAGE=s3://
export SHOPFLOW_S3_REGION="$REGION"
export SHOPFLOW_SALES_BUCKET="$SALES_BUCKET"
export SHOPFLOW_REPORTS_BUCKET="$REPORTS_BUCKET"
export SHOPFLOW_BACKUPS_BUCKET="$BACKUPS_BUCKET"
export SHOPFLOW_DB_POOL="$API_POOL"
export SHOPFLOW_DATA_DIR="$APP_DATA_DIR"
export SHOPFLOW_HOST=0.0.0.0
export SHOPFLOW_PORT="$APP_PORT"
export SHOPFLOW_TIMEZONE="$TIMEZONE"
export SHOPFLOW_DEMO=false
export SHOPFLOW_COOKIE_SECURE=true
export SHOPFLOW_SNS_TOPIC_ARN="$SNS_TOPIC_ARN"
export SHOPFLOW_MAIL_FROM="$MAIL_FROM"
export SHOPFLOW_METRICS_NAMESPACE="$METRICS_NAMESPACE"
export SHOPFLOW_INGEST_FUNCTION_NAME="$INGEST_FUNCTION"
[ -z "${SES_IDENTITY:-}" ] || export SHOPFLOW_SES_IDENTITY="$SES_IDENTITY"
export NODE_ENV=production
cd /opt/shopflow/current
exec /usr/local/bin/node bin/shopflow.js "$@"
