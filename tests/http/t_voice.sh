#!/usr/bin/env bash
# POST /voice/process and GET /voice/audio/{id} with no keys: PocketSphinx
# hears, the companion answers, Flite speaks.  Every refused upload stores
# nothing; silence gets a gentle word outside the history; the reply audio is
# served with byte ranges to its owner only.
. "$(dirname "$0")/lib.sh"

UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
V=/api/v1/voice/process
UNKNOWN=00000000-0000-4000-8000-000000000000

# near A B TOLERANCE DESC: |A - B| <= TOLERANCE, A a number.
near() {
    if awk -v a="$1" -v b="$2" -v t="$3" \
        'BEGIN { exit !(a ~ /^[0-9.]+$/ && a - b <= t && b - a <= t) }'; then
        ok "$4"
    else
        not_ok "$4"; echo "#   got '$1', want $2 ± $3"
    fi
}

# same_bytes FILE DESC: the last body is exactly FILE.
same_bytes() {
    if cmp -s "$1" "$BODY"; then
        ok "$2"
    else
        not_ok "$2"; echo "#   $(stat -c %s "$BODY") bytes, not the $(stat -c %s "$1") expected"
    fi
}

# refused STATUS CODE DESC [MESSAGE-REGEX]: an error that stored nothing.
refused() {
    error_is "$1" "$2" "$3"
    [ $# -gt 3 ] && like "$(json .message)" "$4" "$3: message"
    is "$(db_user_fingerprint)" "$FP" "$3: stored data unchanged"
    is "$(audio_files)" "$NF" "$3: no audio file written"
}

# settled_fingerprint: db_user_fingerprint once the work a worker does after
# its answer (memory extraction) is over: two reads 0.2 s apart agree.
settled_fingerprint() {
    local a b
    b=$(db_user_fingerprint)
    for _ in $(seq 25); do
        sleep 0.2
        a=$b b=$(db_user_fingerprint)
        [ "$a" = "$b" ] && break
    done
    echo "$b"
}

start_server || { not_ok "server starts"; finish; }

# ---- The offline round trip ---------------------------------------------------
flite -voice slt -t "my name is sarah and i feel sad today" -o "$T_DIR/sarah.wav"
sarah_ms=$(soxi -D "$T_DIR/sarah.wav" | awk '{ printf "%d", $1 * 1000 + 0.5 }')
new_session
R_SID=$SID R_UID=$UID_ R_TOKEN=$TOKEN
voice "$R_SID" "$T_DIR/sarah.wav"
status_is 200 "POST /voice/process with Flite's 'my name is sarah and i feel sad today'"
TRANSCRIPT=$(json .transcript) REPLY=$(json .text) URL=$(json .audio_url)
like "$TRANSCRIPT" '\bsarah\b' "the transcript has 'sarah'"
like "$TRANSCRIPT" '\bsad\b' "the transcript has 'sad'"
like "$REPLY" '[a-z]' "Rose replies"
json_is .session_id "$R_SID" "session_id"
like "$URL" "^/api/v1/voice/audio/$UUID_RE\$" "audio_url names a server-made id"
near "$(json .duration_ms)" "$sarah_ms" 50 "duration_ms is the WAV's length ($sarah_ms ms)"
json_is '.timings | [.stt_ms, .llm_ms, .tts_ms, .total_ms] | map(type) | unique | join(",")' number \
    "timings: stt_ms, llm_ms, tts_ms, total_ms"
AID=${URL##*/}

# The transcript is the user's message, the reply Rose's.
req GET "/api/v1/session/$R_SID/messages" -H "Authorization: Bearer $R_TOKEN"
status_is 200 "GET /session/{id}/messages"
is "$(json '.messages[] | [.role, .text] | @tsv')" \
    "$(printf 'user\t%s\nassistant\t%s' "$TRANSCRIPT" "$REPLY")" \
    "the transcript and the reply are the session's two messages"

# The reply audio.
req GET "$URL"
status_is 200 "GET audio_url without a token"
cp "$BODY" "$T_DIR/reply.wav"
N=$(stat -c %s "$T_DIR/reply.wav")
is "$(header Content-Type)" audio/wav "Content-Type audio/wav"
is "$(header Content-Length)" "$N" "Content-Length is the bytes received ($N)"
is "$(header Accept-Ranges)" bytes "Accept-Ranges: bytes"
is "$(soxi -t "$T_DIR/reply.wav" 2>&1)" wav "soxi reads the reply as WAV"
is "$(soxi -b "$T_DIR/reply.wav" 2>&1)/$(soxi -c "$T_DIR/reply.wav" 2>&1)" 16/1 "16-bit mono"
awk -v d="$(soxi -D "$T_DIR/reply.wav" 2>&1)" 'BEGIN { exit !(d > 1) }'; check $? "longer than 1 s"
if cmp -s "$T_DIR/reply.wav" "$T_DIR/data/audio/$AID.wav"; then ok "the bytes are the stored file"
else not_ok "the bytes are the stored file"; fi
is "$(db "SELECT session_id || ' ' || user_id || ' ' || mime || ' ' || bytes FROM audio WHERE id = '$AID'")" \
    "$R_SID $R_UID audio/wav $N" "the audio row has the session, the user, the type and the size"
is "$(stat -c %a "$T_DIR/data/audio/$AID.wav")" 600 "the audio file is mode 0600"

# Byte ranges (Safari plays nothing without them).
req GET "$URL" -H 'Range: bytes=0-99'
status_is 206 "Range: bytes=0-99"
is "$(header Content-Range)" "bytes 0-99/$N" "bytes=0-99: Content-Range"
is "$(header Content-Length)/$(stat -c %s "$BODY")" 100/100 "bytes=0-99: 100 bytes"
same_bytes <(head -c 100 "$T_DIR/reply.wav") "bytes=0-99: the first 100 bytes"
req GET "$URL" -H 'Range: bytes=100-'
status_is 206 "Range: bytes=100-"
is "$(header Content-Range)" "bytes 100-$((N - 1))/$N" "bytes=100-: Content-Range"
same_bytes <(tail -c +101 "$T_DIR/reply.wav") "bytes=100-: the rest"
req GET "$URL" -H 'Range: bytes=-10'
status_is 206 "Range: bytes=-10"
is "$(header Content-Range)" "bytes $((N - 10))-$((N - 1))/$N" "bytes=-10: Content-Range"
same_bytes <(tail -c 10 "$T_DIR/reply.wav") "bytes=-10: the last 10 bytes"
req GET "$URL" -H "Range: bytes=$N-"
error_is 416 range_not_satisfiable "Range: bytes=$N- (past the end)"
is "$(header Content-Range)" "bytes */$N" "416: Content-Range bytes */$N"
# A multi-range request, and a malformed Range (which RFC 9110 §14.2 lets a
# server ignore), get the whole file, as the worker answers them.  (The web
# server must not apply its own range handling to the worker's 200:
# t_voice_hosted.sh asks that of a small file, many times.)
req GET "$URL" -H 'Range: bytes=0-9,20-29'
status_is 200 "a multi-range request"
same_bytes "$T_DIR/reply.wav" "multi-range: the whole file"
req GET "$URL" -H 'Range: bytes=0-1x'
status_is 200 "a malformed Range (bytes=0-1x)"
same_bytes "$T_DIR/reply.wav" "malformed Range: the whole file"

# The original web app's client: the seed's path, no Authorization, the file
# named recording.webm and typed audio/webm whatever it holds.
new_session
req POST /api/voice/process -F "audio=@$T_DIR/sarah.wav;filename=recording.webm;type=audio/webm" \
    -F "session_id=$SID"
status_is 200 "the original client's upload (POST /api/voice/process)"
json_is '[.text, .audio_url] | map(type) | join(",")' string,string "original client: text and audio_url"
like "$(json .text)" '[a-z]' "original client: a reply"
req GET "$(json .audio_url)"
status_is 200 "original client: the audio plays"

# ---- Validation: each refusal before any work, storing nothing -----------------
new_session
OTHER_TOKEN=$TOKEN
new_session
VSID=$SID
: > "$T_DIR/empty.wav"
{ printf 'RANDOM'; head -c 4096 /dev/urandom; } > "$T_DIR/random.bin"
{ printf '\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01'; head -c 2000 /dev/urandom; } > "$T_DIR/h.webm"
{ printf 'OggS\x00\x02'; head -c 2000 /dev/urandom; } > "$T_DIR/h.ogg"
{ printf 'ID3\x04\x00\x00\x00\x00\x00\x00'; head -c 2000 /dev/urandom; } > "$T_DIR/h.mp3"
{ printf 'fLaC\x00\x00\x00\x22'; head -c 2000 /dev/urandom; } > "$T_DIR/h.flac"
{ printf '\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom'; head -c 2000 /dev/urandom; } > "$T_DIR/h.m4a"
# RIFF/WAVE magic, then a fmt chunk that says 0 channels at 0 Hz.
{ printf 'RIFF\x24\x10\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00'
  printf '\x00\x00\x00\x00\x00\x00\x10\x00data\x00\x10\x00\x00'; head -c 4096 /dev/zero; } > "$T_DIR/bad.wav"
{ head -c 44 "$T_DIR/sarah.wav"; head -c $((10 * 1024 * 1024 + 1 - 44)) /dev/zero; } > "$T_DIR/big.wav"
MP='multipart/form-data; boundary=b0undary'
part_sid() {
    printf -- '--b0undary\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n%s\r\n' "$1"
}
part_audio() {
    printf -- '--b0undary\r\nContent-Disposition: form-data; name="audio"; filename="recording.webm"\r\n'
    printf 'Content-Type: audio/webm\r\n\r\n'
}
{ part_sid "$VSID"; part_audio; cat "$T_DIR/sarah.wav"; printf '\r\n'; } > "$T_DIR/unclosed.body"
{ part_sid "$UNKNOWN"; part_audio; cat "$T_DIR/sarah.wav"; printf '\r\n--b0undary--\r\n'; } > "$T_DIR/closed.body"
# A whole request of 11 MiB + 1 byte: over the web server's cap.
{ part_sid "$VSID"; part_audio; head -c 44 "$T_DIR/sarah.wav"; } > "$T_DIR/huge.head"
CLOSE=$'\r\n--b0undary--\r\n'
{ cat "$T_DIR/huge.head"
  head -c $((11 * 1024 * 1024 + 1 - $(stat -c %s "$T_DIR/huge.head") - ${#CLOSE})) /dev/zero
  printf %s "$CLOSE"; } > "$T_DIR/huge.body"
is "$(stat -c %s "$T_DIR/huge.body")" $((11 * 1024 * 1024 + 1)) \
    "(the oversized request is 11 MiB + 1 byte)"

FP=$(settled_fingerprint) NF=$(audio_files)
req POST "$V" -H 'Content-Type:' --data-binary ''
refused 415 unsupported_media_type "no body, no Content-Type"
req POST "$V" -H 'Content-Type: application/json' --data-binary "{\"session_id\":\"$VSID\"}"
refused 415 unsupported_media_type "a JSON body"
req POST "$V" -H "Content-Type: $MP" --data-binary ''
refused 400 bad_request "multipart with an empty body"
req POST "$V" -H 'Content-Type: multipart/form-data' --data-binary @"$T_DIR/unclosed.body"
refused 400 bad_request "multipart without a boundary parameter"
req POST "$V" -F "session_id=$VSID"
refused 400 missing_field "no audio part" audio
req POST "$V" -F "audio=@$T_DIR/sarah.wav;filename=recording.webm"
refused 400 missing_field "no session_id part" session_id
voice not-a-uuid "$T_DIR/sarah.wav"
refused 400 invalid_field "session_id not a UUID"
voice "$UNKNOWN" "$T_DIR/sarah.wav"
refused 404 not_found "an unknown session"
voice "$VSID" "$T_DIR/sarah.wav" -H "Authorization: Bearer $OTHER_TOKEN"
refused 404 not_found "the session with another user's token"
voice "$VSID" "$T_DIR/sarah.wav" -H 'Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
refused 401 unauthorized "an unknown token"
voice "$VSID" "$T_DIR/empty.wav"
refused 400 empty "an empty audio file"
voice "$VSID" "$T_DIR/random.bin"
refused 415 unsupported_media_type "random bytes" 'WAV, WebM, Ogg, MP3, MP4/M4A (or|and) FLAC'
for f in webm ogg mp3 flac m4a; do
    voice "$VSID" "$T_DIR/h.$f"
    refused 415 unsupported_media_type "a $f header offline" 'needs WAV'
done
voice "$VSID" "$T_DIR/bad.wav"
refused 400 invalid_field "a broken WAV header behind RIFF/WAVE magic"
req POST "$V" -F "audio=@$T_DIR/sarah.wav" -F "audio=@$T_DIR/sarah.wav" -F "session_id=$VSID"
refused 400 invalid_field "two audio parts" audio
req POST "$V" -F "audio=@$T_DIR/sarah.wav" -F "session_id=$VSID" -F "session_id=$VSID"
refused 400 invalid_field "two session_id parts" session_id
req POST "$V" -H "Content-Type: $MP" --data-binary @"$T_DIR/unclosed.body"
refused 400 bad_request "no closing boundary"
req POST "$V" -H "Content-Type: $MP" --data-binary @"$T_DIR/closed.body"
refused 404 not_found "(control: the same body closed parses, and meets the unknown session)"
voice "$VSID" "$T_DIR/big.wav"
refused 413 payload_too_large "audio of MAX_AUDIO_BYTES + 1 (10 MiB + 1)" 'larger than 10485760 bytes'
req POST "$V" -H "Content-Type: $MP" --data-binary @"$T_DIR/huge.body"
status_is 413 "a request over the web server's cap (11 MiB + 1)"
is "$(json .error)" payload_too_large "over the server cap: JSON error code"
is "$(db_user_fingerprint)" "$FP" "over the server cap: stored data unchanged"
is "$(audio_files)" "$NF" "over the server cap: no audio file written"

# A body written by hand: an unusual boundary (quoted, RFC 2046's odd
# characters and a space), a preamble, transport padding, an unquoted name,
# an epilogue, and audio data holding near-boundaries, which stay data.
B="rose'()+_,-./:=? x"
cp "$T_DIR/sarah.wav" "$T_DIR/odd.wav"
printf '\r\n--%s\r\n--%sQ\r\n-\r\r\nxx--%s\r\n' "${B%?}" "${B%?}" "$B" |
    dd of="$T_DIR/odd.wav" bs=1 seek=2000 conv=notrunc status=none
{ printf 'This is the preamble.\r\n--%s \t\r\n' "$B"
  printf 'Content-Disposition: form-data; name="session_id"\r\n\r\n%s\r\n--%s\r\n' "$VSID" "$B"
  printf 'content-disposition: form-data; name=audio; filename="recording.webm"\r\n\r\n'
  cat "$T_DIR/odd.wav"
  printf '\r\n--%s--\r\nThe epilogue.\r\n' "$B"; } > "$T_DIR/odd.body"
req POST "$V" -H "Content-Type: multipart/form-data; boundary=\"$B\"" --data-binary @"$T_DIR/odd.body"
status_is 200 "a hand-written multipart body with an odd boundary"
near "$(json .duration_ms)" "$sarah_ms" 50 "odd boundary: the audio arrived whole"
like "$(json .transcript)" sarah "odd boundary: still heard"

# ---- Silence: a gentle word, not part of the conversation ------------------------
sox -n -r 16000 -b 16 -c 1 "$T_DIR/silence.wav" trim 0 1.5
new_session
S_SID=$SID S_TOKEN=$TOKEN
replies=
for i in 1 2 3; do
    voice "$S_SID" "$T_DIR/silence.wav"
    status_is 200 "silence $i"
    json_is .transcript "" "silence $i: transcript ''"
    like "$(json .text)" '^.{1,80}$' "silence $i: a short reply"
    like "$(json .audio_url)" "^/api/v1/voice/audio/$UUID_RE\$" "silence $i: with audio"
    replies="$replies$(json .text)"$'\n'
    req GET "$(json .audio_url)"
    status_is 200 "silence $i: the audio plays"
done
is "$(printf '%s' "$replies" | sort -u | grep -c .)" 3 "three different gentle replies"
voice "$S_SID" "$T_DIR/silence.wav"
status_is 200 "silence 4"
is "$(json .text)|$(json .audio_url)" "|" "silence 4: no reply, no audio"
is "$(db "SELECT count(*) || ' ' || (SELECT message_count FROM sessions WHERE id = '$S_SID')
          FROM messages WHERE session_id = '$S_SID'")" "0 0" "silences are not added to the transcript"
voice "$S_SID" "$T_DIR/sarah.wav"
status_is 200 "then speech"
like "$(json .text)" '[a-z]' "speech: a reply"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$S_SID'")" 2 "speech: two messages stored"
voice "$S_SID" "$T_DIR/silence.wav"
like "$(json .text)" '[a-z]' "speech reset the count: silence gets a gentle reply again"

# ---- GET /voice/audio/{id} ----------------------------------------------------------
for bad in ..%2F..%2Fetc%2Fpasswd abc "$AID-x" "${AID:0:35}"; do
    req GET "/api/v1/voice/audio/$bad"
    error_is 404 not_found "audio id '$bad'"
done
req GET "/api/v1/voice/audio/$UNKNOWN"
error_is 404 not_found "an unknown audio id"
req GET "$URL" -H "Authorization: Bearer $OTHER_TOKEN"
error_is 404 not_found "another user's audio with that user's token"
req GET "$URL" -H "Authorization: Bearer $R_TOKEN"
status_is 200 "the owner's token"
same_bytes "$T_DIR/reply.wav" "the owner gets the audio"
req GET "/api/v1/voice/audio/$(printf %s "$AID" | tr a-f A-F)"
status_is 200 "audio ids are case-insensitive"
# (curl -I: with -X HEAD alone curl would wait for the Content-Length bytes.)
req HEAD "$URL" -I
status_is 200 "HEAD"
is "$(header Content-Length)|$(header Content-Type)|$(header Accept-Ranges)" "$N|audio/wav|bytes" \
    "HEAD: the length, type and Accept-Ranges of GET"
rm -f "$T_DIR/data/audio/$AID.wav"
req GET "$URL"
error_is 404 not_found "audio whose file is gone"
like "$(json .message)" expired "gone: the message says it expired"
req GET "$V"
error_is 405 method_not_allowed "GET /voice/process"
is "$(header Allow)" "POST, OPTIONS" "GET /voice/process: Allow"
req POST "$URL" -d x
error_is 405 method_not_allowed "POST /voice/audio/{id}"

# Deleting a session deletes its audio, rows and files.
S_AUDIO=$(db "SELECT id FROM audio WHERE session_id = '$S_SID'")
is "$(printf '%s\n' "$S_AUDIO" | grep -cE "^$UUID_RE\$")" 5 "(the silence session has 5 audio files)"
req DELETE "/api/v1/session/$S_SID" -H "Authorization: Bearer $S_TOKEN"
status_is 204 "DELETE the silence session"
is "$(db "SELECT count(*) FROM audio WHERE session_id = '$S_SID'")" 0 "its audio rows are gone"
left=0
for a in $S_AUDIO; do [ -e "$T_DIR/data/audio/$a.wav" ] && left=$((left + 1)); done
is "$left" 0 "its audio files are gone"
req GET "/api/v1/voice/audio/${S_AUDIO%%$'\n'*}"
error_is 404 not_found "its audio"

# ---- Configured limits: MAX_AUDIO_SECONDS=2, MAX_AUDIO_BYTES=50000 ----------------
stop_server
start_server MAX_AUDIO_SECONDS=2 MAX_AUDIO_BYTES=50000 || { not_ok "server restarts"; finish; }
new_session
sox -n -r 8000 -b 8 -c 1 "$T_DIR/2s.wav" trim 0 2
sox -n -r 8000 -b 8 -c 1 "$T_DIR/3s.wav" trim 0 3
# 50,000 bytes: a 44-byte header and 24,978 16-bit samples (1.56 s).
sox -r 16000 -n -b 16 -c 1 "$T_DIR/at.wav" trim 0 24978s
{ cat "$T_DIR/at.wav"; printf '\0'; } > "$T_DIR/over.wav"
is "$(stat -c %s "$T_DIR/at.wav") $(stat -c %s "$T_DIR/over.wav")" "50000 50001" "(WAVs of 50,000 and 50,001 bytes)"
FP=$(settled_fingerprint) NF=$(audio_files)
voice "$SID" "$T_DIR/3s.wav"
refused 413 payload_too_large "a 3 s WAV over MAX_AUDIO_SECONDS=2" 'longer than 2 seconds'
voice "$SID" "$T_DIR/over.wav"
refused 413 payload_too_large "50,001 bytes over MAX_AUDIO_BYTES=50000" 'larger than 50000 bytes'
voice "$SID" "$T_DIR/2s.wav"
status_is 200 "a WAV of exactly MAX_AUDIO_SECONDS"
json_is .duration_ms 2000 "2 s: duration_ms"
voice "$SID" "$T_DIR/at.wav"
status_is 200 "exactly MAX_AUDIO_BYTES"
finish
