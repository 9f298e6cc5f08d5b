#!/bin/bash
# serve-nginx.sh ROOT DIR PORT: run nginx in the foreground, serving the
# files of ROOT on 127.0.0.1:PORT (with Range support), its configuration,
# pid file, logs and temporary folders all in DIR.  For the stream tests
# and bench-stream.sh; stop it with SIGTERM.
set -euo pipefail

root=$1 dir=$2 port=$3
mkdir -p "$dir"
cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        root $root;
    }
}
CONF
exec nginx -c "$dir/nginx.conf" -e "$dir/error.log"
