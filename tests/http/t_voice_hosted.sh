#!/usr/bin/env bash
# POST /voice/process with hosted providers, all fakes: Groq transcription
# and ElevenLabs (tests/fakes/fake_speech.py), Groq chat (fake_llm.py).
# What Rose sends each provider, the TTS cache, and every fault's outcome:
# STT down falls back to PocketSphinx for WAV and is a 503 otherwise; TTS
# down leaves the reply as text; ElevenLabs' 429s are retried.
. "$(dirname "$0")/lib.sh"

UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
SKEY=sk-fake-speech-0123456789
VOICE_ID=21m00Tcm4TlvDq8ikWAM # ELEVENLABS_VOICE_ID's default

# stt_req JQ / tts_req JQ: JQ over the last transcription / ElevenLabs
# request the fake received.
stt_req() {
    speech_requests | jq -r "[.[] | select(.path | endswith(\"/audio/transcriptions\"))][-1] | $1"
}
tts_req() {
    speech_requests | jq -r "[.[] | select(.path | startswith(\"/v1/text-to-speech/\"))][-1] | $1"
}

# hears TEXT: the fake STT's next transcript.
hears() {
    speech_script "$(jq -cn --arg t "$1" '[{route: "transcriptions", transcript: $t}]')"
}

# The replies are the fake LLM's default one, steered by what the fake STT
# hears: its script is not used, because the memory extraction that runs
# after each turn (small model) would take steps too, racing the next turn.
#   reply_to TRANSCRIPT   the fake LLM's reply to it (tests/fakes/README.md)
#   reply_calls           requests for a reply (the main model) it received
reply_to() {
    printf 'I hear you. You said: %s' "${1:0:40}"
}
reply_calls() {
    fake_requests | jq '[.[] | select(.body.model == "llama-3.3-70b-versatile")] | length'
}

# Messages of the session and files under DATA_DIR, to show a turn stored nothing.
stored() {
    echo "$(db "SELECT count(*) FROM messages WHERE session_id = '$1'") $(audio_files)"
}

start_fake_llm || { not_ok "the fake LLM starts"; finish; }
start_fake_speech --key "$SKEY" || { not_ok "the fake speech server starts"; finish; }
start_server "LLM_BASE_URL=$FAKE_URL" LLM_API_KEY=sk-fake-llm \
    "STT_BASE_URL=http://127.0.0.1:$SPORT/openai/v1" "STT_API_KEY=$SKEY" \
    "TTS_BASE_URL=http://127.0.0.1:$SPORT" "ELEVENLABS_API_KEY=$SKEY" \
    RETRY_MAX_ATTEMPTS=3 RETRY_BASE_DELAY_MS=200 CIRCUIT_BREAKER_FAILURE_THRESHOLD=100 ||
    { not_ok "server starts"; finish; }

# A minimal WebM file: the EBML header (DocType "webm"), a Segment of unknown
# size, then bytes no decoder here needs to understand.
{ printf '\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08'
  printf '\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02'
  printf '\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff'
  head -c 3000 /dev/urandom; } > "$T_DIR/rec.webm"
flite -voice slt -t "my name is sarah and i feel sad today" -o "$T_DIR/sarah.wav"
new_session

# Refusals are decided before any provider is called.
{ printf 'RANDOM'; head -c 3000 /dev/urandom; } > "$T_DIR/random.bin"
voice "$SID" "$T_DIR/random.bin"
error_is 415 unsupported_media_type "random bytes with hosted STT"
voice 00000000-0000-4000-8000-000000000000 "$T_DIR/rec.webm"
error_is 404 not_found "an unknown session with hosted STT"
is "$(speech_requests | jq length)/$(fake_requests | jq length)" 0/0 "no provider was called"

# ---- A WebM turn through every hosted provider ------------------------------------
hears " I could not sleep last night."
REPLY=$(reply_to "I could not sleep last night.")
voice "$SID" "$T_DIR/rec.webm"
status_is 200 "a WebM upload with hosted STT"
json_is .transcript "I could not sleep last night." "the transcript is what the provider heard"
json_is .text "$REPLY" "the reply is the LLM's"
json_is .engine llm "engine llm"
URL=$(json .audio_url)
like "$URL" "^/api/v1/voice/audio/$UUID_RE\$" "audio_url"
json_is '.timings | [.stt_ms, .llm_ms, .tts_ms, .total_ms, .provider_ms] | map(type) | unique | join(",")' \
    number "timings"
is "$(speech_calls transcriptions)/$(speech_calls elevenlabs)" 1/1 "one transcription, one synthesis"
is "$(stt_req '.auth + " " + .fields.model + " " + .fields.language')" "ok whisper-large-v3-turbo en" \
    "STT: the key, model whisper-large-v3-turbo, language en"
is "$(stt_req '.files | length')" 1 "STT: one file part"
WEBM_SUM=$(sha256sum < "$T_DIR/rec.webm" | cut -d' ' -f1)
is "$(stt_req '.files[0] | [.field, .filename, .content_type, .size, .sha256] | join(" ")')" \
    "file recording.webm audio/webm $(stat -c %s "$T_DIR/rec.webm") $WEBM_SUM" \
    "STT: the file arrived intact (name, sniffed type, size, SHA-256)"
is "$(fake_requests | jq -r '[.[] | select(.body.model == "llama-3.3-70b-versatile")][-1]
                             | .body.messages[-1].content')" \
    "I could not sleep last night." "LLM: the transcript is the user's message"
is "$(tts_req .path)" "/v1/text-to-speech/$VOICE_ID" "ElevenLabs: the voice id in the path"
is "$(tts_req '.auth + " " + .query.output_format[0] + " " + .body.model_id')" \
    "ok mp3_44100_128 eleven_flash_v2_5" "ElevenLabs: xi-api-key, mp3_44100_128, eleven_flash_v2_5"
is "$(tts_req '.headers | to_entries | map(select(.key | ascii_downcase == "xi-api-key")) | length')" 1 \
    "ElevenLabs: the key came as xi-api-key"
is "$(tts_req .body.text)" "$REPLY" "ElevenLabs: the reply text"
is "$(tts_req '.body.voice_settings | "\(.stability) \(.similarity_boost)"')" "0.5 0.75" \
    "ElevenLabs: voice settings"
# What the fake answers for that text, asked directly.
curl -s -o "$T_DIR/fake.mp3" -H "xi-api-key: $SKEY" -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg t "$REPLY" '{text: $t, model_id: "eleven_flash_v2_5"}')" \
    "http://127.0.0.1:$SPORT/v1/text-to-speech/$VOICE_ID?output_format=mp3_44100_128"
req GET "$URL"
status_is 200 "GET the reply audio"
is "$(header Content-Type)" audio/mpeg "Content-Type audio/mpeg"
is "$(header Content-Length)" "$(stat -c %s "$T_DIR/fake.mp3")" "Content-Length"
cmp -s "$T_DIR/fake.mp3" "$BODY"; check $? "the bytes are the fake's MP3"
AID=${URL##*/}
is "$(db "SELECT mime FROM audio WHERE id = '$AID'") $(stat -c %a "$T_DIR/data/audio/$AID.mp3")" \
    "audio/mpeg 600" "stored as audio/mpeg, an .mp3 of mode 0600"
req GET "$URL" -H 'Range: bytes=0-2'
is "$STATUS $(cat "$BODY")" "206 ID3" "MP3 ranges: bytes=0-2 is the ID3 tag"
req GET "/api/v1/session/$SID/messages" -H "Authorization: Bearer $TOKEN"
is "$(json '.messages[] | [.role, .text] | @tsv')" \
    "$(printf 'user\tI could not sleep last night.\nassistant\t%s' "$REPLY")" "both messages stored"

# A WAV goes to the hosted provider too (not PocketSphinx), with its duration.
speech_reset
voice "$SID" "$T_DIR/sarah.wav"
status_is 200 "a WAV upload with hosted STT"
json_is .transcript "Hello Rose, I had a long day today." "the transcript is the provider's (trimmed)"
near_ms=$(soxi -D "$T_DIR/sarah.wav" | awk '{ printf "%d", $1 * 1000 + 0.5 }')
awk -v a="$(json .duration_ms)" -v b="$near_ms" 'BEGIN { exit !(a - b <= 50 && b - a <= 50) }'
check $? "duration_ms of the WAV ($near_ms ms)" "got $(json .duration_ms)"
is "$(stt_req '.files[0] | [.content_type, .sha256] | join(" ")')" \
    "audio/wav $(sha256sum < "$T_DIR/sarah.wav" | cut -d' ' -f1)" "STT: the WAV arrived intact"

# ---- Ranges are the worker's alone ---------------------------------------------------
# The worker answers a multi-range or malformed Range with the whole file.  A
# web server that applied its own range handling to that 200 would do so when
# the whole answer had reached it before it sent the headers, which a file
# this small (1,283 bytes: an ID3 tag and 3 MP3 frames) nearly always has.
speech_reset
speech_script '[{"route": "elevenlabs", "frames": 3}]'
hears " Hi."
voice "$SID" "$T_DIR/rec.webm"
URL=$(json .audio_url)
req GET "$URL"
cp "$BODY" "$T_DIR/hi.mp3"
is "$STATUS $(stat -c %s "$T_DIR/hi.mp3")" "200 1283" "GET a 3-frame MP3"
for r in 'bytes=0-9,20-29' 'bytes=0-1x'; do
    got=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        req GET "$URL" -H "Range: $r"
        if [ "$STATUS" = 200 ] && cmp -s "$T_DIR/hi.mp3" "$BODY"; then got="${got}y"
        else got="$got $STATUS $(header Content-Type) [$(header Content-Range)];"; fi
    done
    is "$got" yyyyyyyyyy "Range: $r → 200 and the whole file, 10 times out of 10"
done

# ---- The TTS cache: a phrase said twice is synthesized once ------------------------
speech_reset
hears " Say it again."
voice "$SID" "$T_DIR/rec.webm"
status_is 200 "a reply"
TEXT1=$(json .text) URL1=$(json .audio_url)
hears " Say it again."
voice "$SID" "$T_DIR/rec.webm"
status_is 200 "the same reply again"
is "$(json .text)" "$TEXT1" "the same words"
URL2=$(json .audio_url)
is "$(speech_calls elevenlabs)" 1 "ElevenLabs was called once"
like "$URL1 $URL2" "^/api/v1/voice/audio/$UUID_RE /api/v1/voice/audio/$UUID_RE\$" "both have audio"
[ "$URL1" != "$URL2" ]; check $? "two different audio ids"
req GET "$URL1"
cp "$BODY" "$T_DIR/one.mp3"
status_is 200 "the first plays"
req GET "$URL2"
status_is 200 "the second plays"
[ -s "$BODY" ] && cmp -s "$T_DIR/one.mp3" "$BODY"; check $? "the same sound"
is "$(db "SELECT count(DISTINCT session_id) || ' ' || count(*) FROM audio
          WHERE id IN ('${URL1##*/}', '${URL2##*/}')")" "1 2" "two rows of the session"

# ---- What Whisper invents from silence is silence -----------------------------------
# (Three in a row get a gentle reply, the fourth none.)
speech_reset
before=$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'") llm_before=$(reply_calls)
for heard in " Thanks for watching!" " Subtitles by the Amara.org community" " you" ""; do
    speech_script "$(jq -cn --arg t "$heard" '[{route: "transcriptions", transcript: $t}]')"
    voice "$SID" "$T_DIR/rec.webm"
    is "$STATUS $(json .workflow)" "200 silence" "Whisper heard '$heard': silence"
    if [ -n "$heard" ]; then
        like "$(json .text)" '[a-z]' "'$heard': a gentle reply"
    else
        is "$(json .text)|$(json .audio_url)" "|" "the fourth silence in a row: no reply"
    fi
done
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")" "$before" \
    "the artifacts are not added to the transcript"
is "$(reply_calls)" "$llm_before" "the LLM was not asked about them"

# ---- STT faults ------------------------------------------------------------------
# Every attempt answers 500: a WAV is heard offline instead.
speech_reset
speech_script '[{"route": "transcriptions", "status": 500}, {"route": "transcriptions", "status": 500},
                {"route": "transcriptions", "status": 500}]'
voice "$SID" "$T_DIR/sarah.wav"
status_is 200 "STT 500 with a WAV: PocketSphinx instead"
like "$(json .transcript)" '\bsarah\b' "the transcript is PocketSphinx's"
like "$(json .text)" '[a-z]' "a reply"
is "$(speech_calls transcriptions)" 3 "STT: RETRY_MAX_ATTEMPTS (3) attempts first"
# A WebM cannot be heard offline: 503, nothing stored, no LLM call.
speech_reset
speech_script '[{"route": "transcriptions", "status": 500}, {"route": "transcriptions", "status": 500},
                {"route": "transcriptions", "status": 500}]'
before=$(stored "$SID") llm_before=$(reply_calls)
voice "$SID" "$T_DIR/rec.webm"
error_is 503 service_unavailable "STT 500 with a WebM"
is "$(speech_calls transcriptions)" 3 "STT 500 with a WebM: 3 attempts"
is "$(stored "$SID")" "$before" "STT down: no message, no audio stored"
is "$(reply_calls)" "$llm_before" "STT down: the LLM was not called"
is "$(speech_calls elevenlabs)" 0 "STT down: no synthesis"

# ---- TTS faults ------------------------------------------------------------------
# A bad key: not worth repeating; the reply goes out as text.
speech_reset
hears " Are you still there?"
speech_script '[{"route": "elevenlabs", "status": 401}]'
before=$(audio_files)
voice "$SID" "$T_DIR/rec.webm"
status_is 200 "TTS 401 invalid_api_key"
json_is .text "$(reply_to "Are you still there?")" "TTS 401: the reply as text"
json_is .audio_url "" "TTS 401: audio_url ''"
is "$(speech_calls elevenlabs)" 1 "TTS 401: not retried"
is "$(audio_files)" "$before" "TTS 401: no audio file"
is "$(db "SELECT text FROM messages WHERE session_id = '$SID' ORDER BY id DESC LIMIT 1")" \
    "$(reply_to "Are you still there?")" "TTS 401: the reply is stored"

# ElevenLabs' two 429s: too many concurrent requests, and system busy.
for kind in too_many_concurrent_requests system_busy; do
    speech_reset
    hears " Speak after $kind."
    speech_script "[{\"route\": \"elevenlabs\", \"status\": 429, \"detail_status\": \"$kind\"}]"
    voice "$SID" "$T_DIR/rec.webm"
    status_is 200 "TTS 429 $kind"
    like "$(json .audio_url)" "^/api/v1/voice/audio/$UUID_RE\$" "429 $kind: retried, audio"
    is "$(speech_calls elevenlabs)" 2 "429 $kind: two calls"
    req GET "$(json .audio_url)"
    is "$STATUS $(header Content-Type)" "200 audio/mpeg" "429 $kind: the audio plays"
done
finish
