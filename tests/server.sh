# server.sh — start and stop a private Rose web server (sourced, not run).
#
#   rose_server_start KIND DIR PORT   KIND: lighttpd | apache
#   rose_server_stop DIR
#
# DIR gets the generated server config, logs, sockets and the data folder.
# The app config is DIR/rose.conf (the caller writes it; DATA_DIR=DIR/data is
# appended).  The server config is the repository's conf/ file itself: for
# lighttpd only the "var.rose_*" site settings are replaced, for Apache
# conf/apache-rose.conf is included after a small main config with Defines.

ROSE_TOP=${ROSE_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)}

rose_server_start() {
    local kind=$1 dir=$2 port=$3 user group i
    mkdir -p "$dir/run" "$dir/data"
    chmod 0700 "$dir/data"
    touch "$dir/rose.conf"
    grep -q '^DATA_DIR=' "$dir/rose.conf" || echo "DATA_DIR=$dir/data" >> "$dir/rose.conf"
    grep -q '^EMBEDDINGS_MODEL_PATH=' "$dir/rose.conf" ||
        echo "EMBEDDINGS_MODEL_PATH=$ROSE_TOP/build/embed/rose-embed.bin" >> "$dir/rose.conf"
    case $kind in
    lighttpd)
        sed -e "s|^var.rose_www .*|var.rose_www   = \"$ROSE_TOP/www\"|" \
            -e "s|^var.rose_cgi .*|var.rose_cgi   = \"$ROSE_TOP/cgi-bin\"|" \
            -e "s|^var.rose_conf .*|var.rose_conf  = \"$dir/rose.conf\"|" \
            -e "s|^var.rose_run .*|var.rose_run   = \"$dir/run\"|" \
            -e "s|^var.rose_log .*|var.rose_log   = \"$dir/error.log\"|" \
            -e "s|^var.rose_port .*|var.rose_port  = $port|" \
            -e "s|^var.rose_procs .*|var.rose_procs = ${ROSE_PROCS:-2}|" \
            "$ROSE_TOP/conf/lighttpd.conf" > "$dir/lighttpd.conf"
        echo "server.pid-file = \"$dir/server.pid\"" >> "$dir/lighttpd.conf"
        lighttpd -tt -f "$dir/lighttpd.conf" || return 1
        if [ "${ROSE_FOREGROUND:-0}" = 1 ]; then
            exec lighttpd -D -f "$dir/lighttpd.conf"
        fi
        lighttpd -f "$dir/lighttpd.conf" || return 1
        ;;
    apache)
        user=$(id -un) group=$(id -gn)
        mkdir -p "$dir/fcgid"
        if [ "$(id -u)" = 0 ]; then
            # Apache will not run its children as root: hand the data to www-data.
            user=www-data group=www-data
            chown -R www-data:www-data "$dir"
        fi
        cat > "$dir/apache.conf" <<CONF
ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $dir/server.pid
DefaultRuntimeDir $dir/run
ErrorLog $dir/error.log
LogLevel warn
User $user
Group $group
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
LoadModule fcgid_module /usr/lib/apache2/modules/mod_fcgid.so
TypesConfig /etc/mime.types
FcgidIPCDir $dir/fcgid
FcgidProcessTableFile $dir/fcgid/shm
Define ROSE_WWW $ROSE_TOP/www
Define ROSE_CGI $ROSE_TOP/cgi-bin
Define ROSE_CONF $dir/rose.conf
Define ROSE_PROCS ${ROSE_PROCS:-2}
Include $ROSE_TOP/conf/apache-rose.conf
CONF
        apache2 -t -f "$dir/apache.conf" >/dev/null 2>"$dir/apache-t.log" || { cat "$dir/apache-t.log"; return 1; }
        if [ "${ROSE_FOREGROUND:-0}" = 1 ]; then
            exec apache2 -DFOREGROUND -f "$dir/apache.conf"
        fi
        apache2 -f "$dir/apache.conf" -k start || return 1
        ;;
    *) echo "unknown server kind $kind" >&2; return 1 ;;
    esac
    # Wait until it answers (health may legitimately be 503, any status will do).
    i=0
    while [ $i -lt 100 ]; do
        if curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/health"; then return 0; fi
        sleep 0.1; i=$((i + 1))
    done
    echo "server did not start on port $port" >&2
    return 1
}

rose_server_stop() {
    local dir=$1 pid i
    [ -f "$dir/server.pid" ] || return 0
    pid=$(cat "$dir/server.pid")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
    # Wait for this server's workers too (they carry ROSE_CONF=$dir/rose.conf):
    # one still running could write to files the next test replaces.
    local w left
    for i in $(seq 1 50); do
        left=""
        for w in /proc/[0-9]*; do
            if tr '\0' '\n' 2>/dev/null < "$w/environ" | grep -qxF "ROSE_CONF=$dir/rose.conf"; then
                left="$left ${w#/proc/}"
            fi
        done
        [ -z "$left" ] && break
        [ "$i" -eq 25 ] && kill $left 2>/dev/null
        [ "$i" -eq 45 ] && kill -9 $left 2>/dev/null
        sleep 0.1
    done
    rm -f "$dir/server.pid"
}

# A free TCP port on 127.0.0.1.
rose_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
