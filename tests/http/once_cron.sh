#!/usr/bin/env bash
# The maintenance jobs (cron/) against a live server's data while a client
# keeps starting sessions: audio cleanup, session expiry, backup and restore,
# dry runs, the lock.  docs/internals/cron.md says what each job guarantees.
. "$(dirname "$0")/lib.sh"

CRON=$ROSE_TOP/cron
for j in audio-cleanup session-expire backup; do
    [ -x "$CRON/rose-$j" ] || { not_ok "cron/rose-$j is built (run make)"; finish; }
done
start_server "AUDIO_RETENTION_HOURS=1" "SESSION_RETENTION_DAYS=1" "BACKUP_KEEP=3" \
    "RATE_LIMIT_PER_MINUTE=100000" || { not_ok "server starts"; finish; }
CONF=$T_DIR/rose.conf
DATA=$T_DIR/data
AUDIO=$DATA/audio
BACKUPS=$DATA/backups
mkdir -p "$AUDIO" "$T_DIR/outside"
chmod 0700 "$AUDIO"
: > "$T_DIR/jobs.log"

now_ms() { date +%s%3N; }
new_uuid() { cat /proc/sys/kernel/random/uuid; }

# run_job NAME [ARGS...]: sets OUT (stdout, the summary) and RC; the job's
# log lines (stderr) are kept in $T_DIR/job.err and jobs.log.
run_job() {
    local name=$1
    shift
    OUT=$("$CRON/rose-$name" -c "$CONF" "$@" 2> "$T_DIR/job.err")
    RC=$?
    cat "$T_DIR/job.err" >> "$T_DIR/jobs.log"
    if grep -qE 'Sanitizer|runtime error:' "$T_DIR/job.err"; then
        not_ok "rose-$name $*: no sanitizer report"
        head -n 30 "$T_DIR/job.err" | sed 's/^/#   /'
    fi
    echo "# rose-$name $*: $OUT (exit $RC)"
}

# The data folder as files see it: every name, with size and time for files.
# Left out: the live database (db_fingerprint covers its rows), lock files
# (the first run of each job creates its own) and folder times (which a lock
# file's creation changes).
listing() {
    (cd "$DATA" && find . -mindepth 1 \( -name rose.db -o -name rose.db-wal -o -name rose.db-shm \
        -o -name '*.lock' \) -prune -o -type d -printf '%p %y\n' \
        -o -printf '%p %y %s %T@ %l\n' | sort)
}

# bg_start N: a client keeps chatting in the background: N times, it starts
# a session (ids in bg.ids) and says something in it (statuses of both in
# bg.status); returns once it is under way.
bg_start() {
    BG_N=$1
    : > "$T_DIR/bg.ids"
    : > "$T_DIR/bg.status"
    (
        for n in $(seq 1 "$BG_N"); do
            curl -s -o "$T_DIR/bg.body" -w 'start - %{http_code}\n' -X POST \
                -H 'Content-Type: application/json' -d '{}' \
                "$BASE/api/v1/session/start" >> "$T_DIR/bg.status"
            sid=$(jq -r '.session_id // empty' "$T_DIR/bg.body")
            echo "$sid" >> "$T_DIR/bg.ids"
            curl -s -o /dev/null -w "chat $sid %{http_code}\n" -H 'Content-Type: application/json' \
                -d "{\"session_id\":\"$sid\",\"message\":\"I planted tulips today, number $n.\"}" \
                "$BASE/api/v1/chat" >> "$T_DIR/bg.status"
        done
    ) &
    BG_PID=$!
    local i=0
    while [ "$(wc -l < "$T_DIR/bg.status")" -lt 5 ] && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
}

# bg_wait DESC [restore]: wait for the client; every one of its requests got
# a 200.  After a restore, a chat turn may get 404 instead, but only in a
# session the restore rolled back (started after the backup was taken).
bg_wait() {
    local lost
    wait "$BG_PID"
    is "$(grep -c '^start - 200$' "$T_DIR/bg.status")" "$BG_N" \
        "$1: the server answered all $BG_N session starts with 200 meanwhile"
    if [ "${2:-}" = restore ]; then
        lost=$(awk '$1 == "chat" && $3 == 404 {print $2}' "$T_DIR/bg.status")
        is "$(awk '$1 == "chat" && ($3 == 200 || $3 == 404)' "$T_DIR/bg.status" | wc -l)" "$BG_N" \
            "$1: every chat turn answered 200, or 404 for a session rolled back"
        is "$(for s in $lost; do db "SELECT count(*) FROM sessions WHERE id = '$s'"; done | grep -vc '^0$')" 0 \
            "$1: each 404 was for a session the restore rolled back"
    else
        is "$(grep -c '^chat .* 200$' "$T_DIR/bg.status")" "$BG_N" \
            "$1: the server answered all $BG_N chat turns with 200 meanwhile"
    fi
}

# rows_equal WANT_FILE GOT_FILE DESC: the same rows, listing any difference.
rows_equal() {
    if diff -q "$1" "$2" > /dev/null; then
        ok "$3 ($(wc -l < "$1") rows, row by row)"
    else
        not_ok "$3"
        diff "$1" "$2" | head -n 20 | sed 's/^/#   /'
    fi
}

# gone / there TABLE WHERE DESC
gone() { is "$(db "SELECT count(*) FROM $1 WHERE $2")" 0 "$3"; }
there() { is "$(db "SELECT count(*) FROM $1 WHERE $2")" 1 "$3"; }

# --- conf/crontab ----------------------------------------------------------------
for j in audio-cleanup session-expire backup; do
    n=$(grep -cE "^[0-9*,/-]+ +[0-9*,/-]+ +[*] +[*] +[*] +rose-$j -c /etc/rose/rose.conf " \
        "$ROSE_TOP/conf/crontab")
    is "$n" 1 "conf/crontab runs rose-$j once, with -c /etc/rose/rose.conf"
done
is "$(grep -E '^[0-9]' "$ROSE_TOP/conf/crontab" | awk '{print $1}' | sort -u | wc -l)" 3 \
    "conf/crontab: the jobs start at different minutes"

# --- arguments and configuration ------------------------------------------------
out=$("$CRON/rose-audio-cleanup" -h 2>&1)
is "$?" 0 "-h exits 0"
like "$out" '^usage: rose-audio-cleanup \[-c CONFIG\] \[-n\] \[-h\]' "-h prints the usage"
"$CRON/rose-audio-cleanup" -c "$T_DIR/no-such.conf" > "$T_DIR/o" 2> "$T_DIR/e"
is "$?" 2 "a missing config file: exit 2"
like "$(cat "$T_DIR/e")" 'no-such\.conf: cannot open' "a missing config file: said on stderr"
is "$(cat "$T_DIR/o")" "" "a missing config file: nothing on stdout"
printf 'DATA_DIR=%s\nAUDIO_RETENTION_HOURS=0\n' "$DATA" > "$T_DIR/bad.conf"
"$CRON/rose-audio-cleanup" -c "$T_DIR/bad.conf" > /dev/null 2> "$T_DIR/e"
is "$?" 2 "a bad value: exit 2"
like "$(cat "$T_DIR/e")" '^rose-audio-cleanup: AUDIO_RETENTION_HOURS=0: must be 1\.\.' \
    "a bad value: the key and the range on stderr"
"$CRON/rose-session-expire" -c "$CONF" extra > /dev/null 2> "$T_DIR/e"
is "$?" 2 "an unexpected argument: exit 2"

# --- rose-audio-cleanup ---------------------------------------------------------
new_session
A_SID=$SID A_UID=$UID_
NOW=$(now_ms)
HOUR=3600000

# audio_row ID AGE_MS BYTES: an index row created AGE_MS ago.
audio_row() {
    db "INSERT INTO audio (id, session_id, user_id, mime, bytes, created_at)
        VALUES ('$1', '$A_SID', '$A_UID', 'audio/mpeg', $3, $((NOW - $2)))"
}
# audio_file NAME BYTES MTIME_AGE: a file under audio/ last modified that long ago.
audio_file() {
    head -c "$2" /dev/urandom > "$AUDIO/$1"
    touch -d "@$(( $(date +%s) - $3 ))" "$AUDIO/$1"
}

OLD1=$(new_uuid) OLD2=$(new_uuid) FRESH=$(new_uuid) FRESH_OLDFILE=$(new_uuid)
ORPHAN=$(new_uuid) ORPHAN_NEW=$(new_uuid) NOFILE=$(new_uuid) NOFILE_NEW=$(new_uuid)
LINKED=$(new_uuid) LINKED_EXPIRED=$(new_uuid) ADIR=$(new_uuid)
UPPER=$(new_uuid | tr a-f A-F)

audio_row "$OLD1" $((2 * HOUR)) 3000;  audio_file "$OLD1.mp3" 3000 7200      # expired
audio_row "$OLD2" $((3 * HOUR)) 5000;  audio_file "$OLD2.wav" 5000 10800     # expired
audio_row "$FRESH" $((5 * 60000)) 100; audio_file "$FRESH.mp3" 100 300       # fresh
audio_row "$FRESH_OLDFILE" $((20 * 60000)) 100
audio_file "$FRESH_OLDFILE.wav" 100 10800      # the row decides, not the file's time
audio_file "$ORPHAN.mp3" 2048 3600             # no row, old: orphan
audio_file "$ORPHAN_NEW.wav" 100 0             # no row, new: its row may be on the way
audio_row "$NOFILE" $((30 * 60000)) 10         # settled row without a file
audio_row "$NOFILE_NEW" 60000 10               # fresh row, file may be on the way
for name in notes.txt not-a-uuid.wav "$UPPER.wav" "$ORPHAN.ogg" "$ORPHAN.wav.bak" ".$ORPHAN.mp3"; do
    audio_file "$name" 10 10800                # not a server-made name: never touched
done
mkdir "$AUDIO/$ADIR.wav"                       # a folder with a server-made name
touch -d '@1000000000' "$AUDIO/$ADIR.wav"
echo secret > "$T_DIR/outside/target.wav"
echo secret > "$T_DIR/outside/target2.mp3"
ln -s "$T_DIR/outside/target.wav" "$AUDIO/$LINKED.wav"             # no row
ln -s "$T_DIR/outside/target2.mp3" "$AUDIO/$LINKED_EXPIRED.mp3"    # expired row
touch -h -d '@1000000000' "$AUDIO/$LINKED.wav" "$AUDIO/$LINKED_EXPIRED.mp3"
audio_row "$LINKED_EXPIRED" $((2 * HOUR)) 7
AUDIO_ROWS=$(db "SELECT count(*) FROM audio")

# A dry run reports and changes nothing.
before_db=$(db_fingerprint) before_files=$(listing)
run_job audio-cleanup -n
is "$RC" 0 "audio-cleanup -n: exit 0"
is "$OUT" "rose-audio-cleanup: dry run: would delete 2 expired files (7.8 KiB), 1 orphan file (2.0 KiB), 2 rows without file; 0 errors" \
    "audio-cleanup -n: summary"
is "$(db_fingerprint)" "$before_db" "audio-cleanup -n: no row changed"
is "$(listing)" "$before_files" "audio-cleanup -n: no file changed"

# The lock: while another run holds it, a run does nothing and says so.
OUT=$(flock "$DATA/.rose-audio-cleanup.lock" "$CRON/rose-audio-cleanup" -c "$CONF" 2>> "$T_DIR/jobs.log")
RC=$?
echo "# held lock: $OUT (exit $RC)"
is "$RC" 0 "audio-cleanup with the lock held: exit 0 (a skipped run is no failure)"
like "$OUT" '^rose-audio-cleanup: already running \(lock .*/\.rose-audio-cleanup\.lock\); nothing done; 0 errors$' \
    "audio-cleanup with the lock held: says already running"
is "$(db_fingerprint)" "$before_db" "audio-cleanup with the lock held: no row changed"
is "$(listing)" "$before_files" "audio-cleanup with the lock held: no file changed"

# The real run, while a client keeps the server busy.
bg_start 200
run_job audio-cleanup
bg_wait "audio-cleanup"
is "$RC" 0 "audio-cleanup: exit 0"
is "$OUT" "rose-audio-cleanup: deleted 2 expired files (7.8 KiB), 1 orphan file (2.0 KiB), 2 rows without file; 0 errors" \
    "audio-cleanup: summary"
for id in "$OLD1" "$OLD2" "$NOFILE" "$LINKED_EXPIRED"; do
    gone audio "id = '$id'" "audio row $id deleted"
done
for id in "$FRESH" "$FRESH_OLDFILE" "$NOFILE_NEW"; do
    there audio "id = '$id'" "audio row $id kept"
done
is "$(db "SELECT count(*) FROM audio")" $((AUDIO_ROWS - 4)) "no other audio row deleted"
for f in "$OLD1.mp3" "$OLD2.wav" "$ORPHAN.mp3"; do
    [ ! -e "$AUDIO/$f" ]; check $? "file $f deleted"
done
for f in "$FRESH.mp3" "$FRESH_OLDFILE.wav" "$ORPHAN_NEW.wav" notes.txt not-a-uuid.wav "$UPPER.wav" \
    "$ORPHAN.ogg" "$ORPHAN.wav.bak" ".$ORPHAN.mp3"; do
    [ -f "$AUDIO/$f" ]; check $? "file $f kept"
done
[ -d "$AUDIO/$ADIR.wav" ]; check $? "a folder with a server-made name is kept"
[ -L "$AUDIO/$LINKED.wav" ] && [ -L "$AUDIO/$LINKED_EXPIRED.mp3" ]
check $? "symbolic links are left alone"
[ "$(cat "$T_DIR/outside/target.wav" "$T_DIR/outside/target2.mp3")" = "secret
secret" ]; check $? "files behind symbolic links are untouched"

run_job audio-cleanup
is "$OUT" "rose-audio-cleanup: deleted 0 expired files (0 B), 0 orphan files (0 B), 0 rows without file; 0 errors" \
    "audio-cleanup again: nothing left to do"

# --- rose-session-expire --------------------------------------------------------
DAY=86400000
new_session
OLD_SID=$SID U1=$UID_ U1_TOKEN=$TOKEN
req POST /api/v1/session/start -H "Authorization: Bearer $U1_TOKEN" -H 'Content-Type: application/json' -d '{}'
OLD2_SID=$(json .session_id)
req POST /api/v1/session/start -H "Authorization: Bearer $U1_TOKEN" -H 'Content-Type: application/json' -d '{}'
KEEP_SID=$(json .session_id)      # same user, still in use
new_session
NEW_SID=$SID NEW_TOKEN=$TOKEN
NOW=$(now_ms)
db "UPDATE sessions SET last_active = $((NOW - 2 * DAY)) WHERE id IN ('$OLD_SID', '$OLD2_SID');
    UPDATE sessions SET last_active = $((NOW - DAY + 3600000)) WHERE id = '$KEEP_SID'"
# 250 more idle sessions of the same user: three batches.
db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
    INSERT INTO sessions (id, user_id, created_at, last_active)
    SELECT lower(hex(randomblob(16))), '$U1', 0, $((NOW - 3 * DAY)) FROM n"
for s in "$OLD_SID" "$NEW_SID"; do
    db "INSERT INTO messages (session_id, role, text, created_at) VALUES
          ('$s', 'user', 'private words 42', $NOW), ('$s', 'assistant', 'a reply', $NOW),
          ('$s', 'user', 'more private words', $NOW);
        INSERT INTO checkpoints (thread_id, checkpoint_id, node, state, created_at) VALUES
          ('$s', 'c1', 'router', '{}', $NOW), ('$s', 'c2', 'respond', '{}', $NOW);
        INSERT INTO idempotency (session_id, key, route, status, body, created_at) VALUES
          ('$s', 'k1', 'chat', 200, '{}', $NOW)"
done
SA1=$(new_uuid) SA2=$(new_uuid) SN1=$(new_uuid)
A_SID=$OLD_SID A_UID=$U1
audio_row "$SA1" 0 1024; audio_file "$SA1.mp3" 1024 0     # fresh, but its session expires
audio_row "$SA2" 0 2048; audio_file "$SA2.wav" 2048 0
A_SID=$NEW_SID
audio_row "$SN1" 0 512; audio_file "$SN1.mp3" 512 0
USERS=$(db "SELECT count(*) FROM users")

before_db=$(db_fingerprint) before_files=$(listing)
run_job session-expire -n
is "$RC" 0 "session-expire -n: exit 0"
is "$OUT" "rose-session-expire: dry run: would expire 252 sessions (3 messages, 2 checkpoints, 2 audio files, 3.0 KiB); 0 errors" \
    "session-expire -n: summary"
is "$(db_fingerprint)" "$before_db" "session-expire -n: no row changed"
is "$(listing)" "$before_files" "session-expire -n: no file changed"

OUT=$(flock "$DATA/.rose-session-expire.lock" "$CRON/rose-session-expire" -c "$CONF" 2>> "$T_DIR/jobs.log")
RC=$?
is "$RC" 0 "session-expire with the lock held: exit 0"
like "$OUT" '^rose-session-expire: already running .*; nothing done; 0 errors$' \
    "session-expire with the lock held: says already running"
is "$(db_fingerprint)" "$before_db" "session-expire with the lock held: no row changed"

bg_start 200
run_job session-expire
bg_wait "session-expire"
is "$RC" 0 "session-expire: exit 0"
is "$OUT" "rose-session-expire: expired 252 sessions (3 messages, 2 checkpoints, 2 audio files, 3.0 KiB); 0 errors" \
    "session-expire: summary"
is "$(grep -c '"event":"sessions_expired"' "$T_DIR/job.err")" 3 "session-expire: three batches (100, 100, 52)"
gone sessions "id IN ('$OLD_SID', '$OLD2_SID')" "idle sessions deleted"
gone sessions "last_active < $((NOW - DAY))" "no session idle past the retention is left"
there sessions "id = '$KEEP_SID'" "a session idle less than the retention is kept"
there sessions "id = '$NEW_SID'" "an active session is kept"
gone messages "session_id = '$OLD_SID'" "messages of the expired session deleted"
gone checkpoints "thread_id = '$OLD_SID'" "checkpoints of the expired session deleted"
gone idempotency "session_id = '$OLD_SID'" "idempotent answers of the expired session deleted"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$NEW_SID'")" 3 "messages of the active session kept"
is "$(db "SELECT count(*) FROM checkpoints WHERE thread_id = '$NEW_SID'")" 2 "checkpoints of the active session kept"
there idempotency "session_id = '$NEW_SID'" "idempotent answer of the active session kept"
gone audio "id IN ('$SA1', '$SA2')" "audio rows of the expired session deleted"
[ ! -e "$AUDIO/$SA1.mp3" ] && [ ! -e "$AUDIO/$SA2.wav" ]; check $? "audio files of the expired session deleted"
there audio "id = '$SN1'" "audio row of the active session kept"
[ -f "$AUDIO/$SN1.mp3" ]; check $? "audio file of the active session kept"
there users "id = '$U1'" "the user of the expired sessions is kept"
is "$(db "SELECT count(*) FROM users")" $((USERS + BG_N)) "no user deleted"
is "$(db "SELECT count(*) FROM sessions WHERE id IN ($(sed "s/.*/'&'/" "$T_DIR/bg.ids" | paste -sd,))")" \
    "$BG_N" "every session the client started meanwhile is there"
req GET "/api/v1/session/$KEEP_SID" -H "Authorization: Bearer $U1_TOKEN"
status_is 200 "the kept session still works for its user"
req GET "/api/v1/session/$OLD_SID" -H "Authorization: Bearer $U1_TOKEN"
status_is 404 "the expired session is gone for its user"

run_job session-expire
is "$OUT" "rose-session-expire: expired 0 sessions (0 messages, 0 checkpoints, 0 audio files, 0 B); 0 errors" \
    "session-expire again: nothing left to do"

# --- rose-backup ----------------------------------------------------------------
mkdir -p "$BACKUPS"
for d in 20200101 20200102 20200103 20200104; do echo fake > "$BACKUPS/rose-$d-000000.db"; done
for f in rose-latest.db notes.txt rose-20200101-000000.db.bak; do echo keep > "$BACKUPS/$f"; done
BACKUP_RE="$BACKUPS/rose-[0-9]{8}-[0-9]{6}\\.db"

before_db=$(db_fingerprint) before_files=$(listing)
run_job backup -n
is "$RC" 0 "backup -n: exit 0"
like "$OUT" "^rose-backup: dry run: would write $BACKUP_RE, keep 3, delete 2 old backups; 0 errors\$" \
    "backup -n: summary"
is "$(db_fingerprint)" "$before_db" "backup -n: no row changed"
is "$(listing)" "$before_files" "backup -n: no file changed"

OUT=$(flock "$DATA/.rose-backup.lock" "$CRON/rose-backup" -c "$CONF" 2>> "$T_DIR/jobs.log")
is "$?" 0 "backup with the lock held: exit 0"
like "$OUT" '^rose-backup: already running' "backup with the lock held: says already running"
is "$(listing)" "$before_files" "backup with the lock held: no file changed"

# A backup while the client writes: a consistent snapshot of the live data.
db "SELECT id, user_id, created_at FROM sessions ORDER BY id" > "$T_DIR/r0.sessions"
db "SELECT id, session_id, role, text, created_at FROM messages ORDER BY id" > "$T_DIR/r0.messages"
bg_start 200
t0=$(date -u +%Y%m%d%H%M%S)
run_job backup
t1=$(date -u +%Y%m%d%H%M%S)
bg_wait "backup"
is "$RC" 0 "backup: exit 0"
like "$OUT" "^rose-backup: wrote $BACKUP_RE \\([0-9.]+ (KiB|MiB), integrity ok\\), kept 3, deleted 2 old backups; 0 errors\$" \
    "backup: summary"
B0=$(printf '%s' "$OUT" | grep -oE "$BACKUP_RE")
[ -f "$B0" ]; check $? "backup: the file named in the summary exists"
stamp=$(basename "$B0" .db | tr -cd 0-9)
[ "$stamp" -ge "$t0" ] && [ "$stamp" -le "$t1" ]
check $? "backup: named by the UTC time it was taken" "$t0 <= $stamp <= $t1"
is "$(stat -c %a "$B0")" 600 "backup: private to the service user"
is "$(sqlite3 "$B0" 'PRAGMA integrity_check')" ok "backup: integrity_check ok"
is "$(sqlite3 "$B0" 'PRAGMA journal_mode')" delete "backup: one self-contained file (no WAL)"
is "$(sqlite3 "$B0" 'PRAGMA user_version')" "$(db 'PRAGMA user_version')" "backup: same schema version"
sqlite3 -batch -noheader "$B0" "SELECT id, user_id, created_at FROM sessions ORDER BY id" > "$T_DIR/b0.sessions"
is "$(comm -23 "$T_DIR/r0.sessions" "$T_DIR/b0.sessions" | wc -l)" 0 \
    "backup: every session committed before it started is in it, row by row"
db "SELECT id, user_id, created_at FROM sessions ORDER BY id" > "$T_DIR/live.sessions"
is "$(comm -23 "$T_DIR/b0.sessions" "$T_DIR/live.sessions" | wc -l)" 0 \
    "backup: every session in it is a committed live row, unchanged"
# Messages are never updated: every one committed before the backup began is
# in it exactly, and every one in it is a live row.
sqlite3 -batch -noheader "$B0" "SELECT id, session_id, role, text, created_at FROM messages ORDER BY id" > "$T_DIR/b0.messages"
is "$(comm -23 "$T_DIR/r0.messages" "$T_DIR/b0.messages" | wc -l)" 0 \
    "backup: every message committed before it started is in it, row by row"
db "SELECT id, session_id, role, text, created_at FROM messages ORDER BY id" > "$T_DIR/live.messages"
is "$(comm -23 "$T_DIR/b0.messages" "$T_DIR/live.messages" | wc -l)" 0 \
    "backup: every message in it is a committed live row, unchanged"
[ "$(wc -l < "$T_DIR/b0.messages")" -gt 0 ]; check $? "backup: it holds the chat traffic's messages"
ls -A "$BACKUPS" | sort > "$T_DIR/backups.ls"
is "$(grep -cE '^rose-[0-9]{8}-[0-9]{6}\.db$' "$T_DIR/backups.ls")" 3 "backup: BACKUP_KEEP=3 backups kept"
[ -f "$BACKUPS/rose-20200104-000000.db" ] && [ -f "$BACKUPS/rose-20200103-000000.db" ]
check $? "backup: the newest older backups kept"
[ ! -e "$BACKUPS/rose-20200101-000000.db" ] && [ ! -e "$BACKUPS/rose-20200102-000000.db" ]
check $? "backup: the oldest backups deleted"
for f in rose-latest.db notes.txt rose-20200101-000000.db.bak; do
    [ -f "$BACKUPS/$f" ]; check $? "backup: $f (another name) untouched"
done
others='^(rose-[0-9]{8}-[0-9]{6}\.db|rose-latest\.db|notes\.txt|rose-20200101-000000\.db\.bak)$'
is "$(grep -vcE "$others" "$T_DIR/backups.ls")" 0 "backup: no temporary file left"

# Restore: every row committed before the backup comes back, nothing else.
sleep 1   # the next backup gets a name of its own (names have seconds)
for t in users sessions messages checkpoints audio; do db "SELECT * FROM $t ORDER BY 1, 2" > "$T_DIR/r1.$t"; done
r1_print=$(db_fingerprint)
run_job backup
is "$RC" 0 "second backup: exit 0"
B1=$(printf '%s' "$OUT" | grep -oE "$BACKUP_RE")
like "$OUT" 'kept 3, deleted 1 old backup; 0 errors$' "second backup: the oldest fake pruned"
req POST /api/v1/session/start -H "Authorization: Bearer $NEW_TOKEN" -H 'Content-Type: application/json' -d '{}'
AFTER_SID=$(json .session_id)
new_session
AFTER2_SID=$SID
db "INSERT INTO messages (session_id, role, text, created_at) VALUES ('$NEW_SID', 'user', 'after', $NOW)"

before_db=$(db_fingerprint) before_files=$(listing)
run_job backup -n --restore "$B1"
is "$RC" 0 "restore -n: exit 0"
like "$OUT" "^rose-backup: dry run: would restore $B1 \\(schema [0-9]+, [0-9.]+ (KiB|MiB), integrity ok\\) into $DATA/rose.db" \
    "restore -n: summary"
is "$(db_fingerprint)" "$before_db" "restore -n: no row changed"
is "$(listing)" "$before_files" "restore -n: no file changed"

OUT=$(flock "$DATA/.rose-backup.lock" "$CRON/rose-backup" -c "$CONF" --restore "$B1" 2>> "$T_DIR/jobs.log")
is "$?" 1 "restore with the lock held: exit 1 (the operator's restore did not happen)"
like "$OUT" '^rose-backup: already running .*; nothing done; 1 error$' "restore with the lock held: says so"
is "$(db_fingerprint)" "$before_db" "restore with the lock held: no row changed"

run_job backup --restore "$B1"
is "$RC" 0 "restore: exit 0"
ASIDE_RE="$DATA/rose.db.before-restore-[0-9]{8}-[0-9]{6}"
like "$OUT" "^rose-backup: restored $B1 \\(schema [0-9]+, [0-9.]+ (KiB|MiB)\\) into $DATA/rose.db \\(integrity ok\\); \
the previous database is kept as $ASIDE_RE; 0 errors\$" "restore: summary"
for t in users sessions messages checkpoints audio; do
    db "SELECT * FROM $t ORDER BY 1, 2" > "$T_DIR/after.$t"
    rows_equal "$T_DIR/r1.$t" "$T_DIR/after.$t" "restore: $t holds exactly the rows committed before the backup"
done
is "$(db_fingerprint)" "$r1_print" "restore: the whole database is as it was at the backup"
is "$(db 'PRAGMA integrity_check')" ok "restore: the live database passes integrity_check"
ASIDE=$(printf '%s' "$OUT" | grep -oE "$ASIDE_RE")
[ -f "$ASIDE" ]; check $? "restore: the previous database was kept aside"
is "$(sqlite3 "$ASIDE" "SELECT count(*) FROM sessions WHERE id IN ('$AFTER_SID', '$AFTER2_SID')")" 2 \
    "restore: the copy aside holds what came after the backup (the way back)"
req GET /api/v1/health
status_is 200 "restore: the server still answers health"
json_is .services.database.status ok "restore: health sees the database"
req GET "/api/v1/session/$KEEP_SID" -H "Authorization: Bearer $U1_TOKEN"
status_is 200 "restore: a session from before the backup works"
req GET "/api/v1/session/$AFTER_SID" -H "Authorization: Bearer $NEW_TOKEN"
status_is 404 "restore: a session started after the backup is gone"
new_session
status_is 200 "restore: new sessions can be started"

# Restore again while the client writes: rows from before the backup come back
# exactly; the only other rows are the client's, committed after the restore.
sleep 1   # its own before-restore name
bg_start 200
run_job backup --restore "$B1"
bg_wait "restore" restore
is "$RC" 0 "restore under traffic: exit 0"
db "SELECT * FROM sessions ORDER BY 1, 2" > "$T_DIR/after.sessions"
is "$(comm -23 "$T_DIR/r1.sessions" "$T_DIR/after.sessions" | wc -l)" 0 \
    "restore under traffic: every session of the backup is back, row by row"
comm -13 "$T_DIR/r1.sessions" "$T_DIR/after.sessions" | cut -d'|' -f1 | sort > "$T_DIR/extra.ids"
is "$(sort "$T_DIR/bg.ids" | comm -23 "$T_DIR/extra.ids" - | wc -l)" 0 \
    "restore under traffic: any other session is one the client started meanwhile"
gone sessions "id IN ('$AFTER_SID', '$AFTER2_SID', '$SID')" \
    "restore under traffic: sessions from after the backup are gone"
is "$(db 'PRAGMA integrity_check')" ok "restore under traffic: integrity_check ok"

# Files that must not be restored: nothing changes, exit 1.
before_db=$(db_fingerprint) before_files=$(listing)
head -c 20000 /dev/urandom > "$T_DIR/garbage.db"
sqlite3 "$T_DIR/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1)"
cp "$B1" "$T_DIR/newer.db"
sqlite3 "$T_DIR/newer.db" "PRAGMA user_version = 999"
cp "$B1" "$T_DIR/pagesize.db"
sqlite3 "$T_DIR/pagesize.db" "PRAGMA page_size = 8192; VACUUM"
for f in "$T_DIR/garbage.db" "$T_DIR/other.db" "$T_DIR/newer.db" "$T_DIR/pagesize.db" \
    "$DATA/rose.db" "$T_DIR/missing.db"; do
    run_job backup --restore "$f"
    is "$RC" 1 "restore of $(basename "$f"): exit 1"
    is "$OUT" "rose-backup: $f cannot be restored (see the log); nothing changed; 1 error" \
        "restore of $(basename "$f"): summary"
done
is "$(db_fingerprint)" "$before_db" "refused restores: no row changed"
is "$(listing)" "$before_files" "refused restores: no file changed (no copy aside)"
grep -q '"event":"restore_check".*newer than this build' "$T_DIR/jobs.log"
check $? "the log says why a newer schema is refused"

# An audio folder that is a symbolic link is not followed: the job stops.
mv "$AUDIO" "$DATA/audio.real"
ln -s "$DATA/audio.real" "$AUDIO"
touch -d '@1000000000' "$DATA/audio.real/$(new_uuid).mp3"   # an old orphan it must not reach
before_files=$(ls -la --time-style=+%s "$DATA/audio.real")
run_job audio-cleanup
is "$RC" 1 "audio folder is a link: exit 1"
like "$OUT" '; stopped early; 1 error$' "audio folder is a link: the summary says it stopped"
is "$(ls -la --time-style=+%s "$DATA/audio.real")" "$before_files" "audio folder is a link: nothing behind it touched"
rm "$AUDIO"
mv "$DATA/audio.real" "$AUDIO"

# Logs: JSON lines with ids and counts, never what people wrote.
bad=$(grep -v '^{.*}$' "$T_DIR/jobs.log" | grep -vE '^[[:space:]]*$' | head -n 3)
is "$bad" "" "every job log line is a JSON object"
grep -q 'private words' "$T_DIR/jobs.log"
is "$?" 1 "no message text in the job logs"

finish
