#!/usr/bin/env bash
# Writes a self-contained nginx.conf into DIR that serves the shipped site file
# deploy/nginx-idem.conf on PORT, talking to the responder at UPSTREAM
# (an nginx upstream address: unix:/path/idem.sock or 127.0.0.1:9001).
# Usage: scripts/nginx-conf.sh DIR PORT UPSTREAM
set -euo pipefail
dir=$1 port=$2 upstream=$3
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir/logs" "$dir/tmp"
cp /etc/nginx/fastcgi_params "$dir/fastcgi_params"
sed -e "s#unix:/run/idem/idem.sock#$upstream#" -e "s#127.0.0.1:9000#127.0.0.1:$port#" \
  "$root/deploy/nginx-idem.conf" > "$dir/site.conf"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    fastcgi_temp_path $dir/tmp/fastcgi;
    proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/site.conf;
}
CONF
