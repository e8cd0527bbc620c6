#!/usr/bin/env bash
# POST /voice/process with Accept: text/event-stream (DESIGN.md §6): the
# transcript, Rose's words as tokens, one audio event per sentence (spoken
# while the rest is still being written), then done, or an error event.
# And POST /chat with "voice": true, which speaks the reply the same way.
# Offline first (PocketSphinx, the companion engine, Flite), then with the
# fake LLM and the fake ElevenLabs, whose faults must end the stream cleanly.
. "$(dirname "$0")/lib.sh"

UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
SKEY=sk-fake-speech-0123456789

# transcript_audio: the audio_urls of the session's last assistant message.
transcript_audio() {
    curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/session/$SID/messages" |
        jq -c '[.messages[] | select(.role == "assistant")] | last | (.audio_urls // [])'
}
# vchat SID MESSAGE [curl args]: a chat turn with "voice": true.
vchat() {
    req POST /api/v1/chat -H 'Content-Type: application/json' \
        -d "$(jq -cn --arg s "$1" --arg m "$2" '{session_id: $s, message: $m, voice: true}')" "${@:3}"
}
# vstream SID FILE [curl args]: a streamed voice turn; the events are in $BODY.
vstream() {
    voice "$1" "$2" -H 'Accept: text/event-stream' "${@:3}"
}
# The event names of the last stream, in order, runs of tokens as one "token".
events() {
    tr -d '\r' < "$BODY" | sed -n 's/^event: //p' | uniq | tr '\n' ' ' | sed 's/ $//'
}
# Checks every streamed turn must pass: the audio events' urls are done's
# audio_urls in order, each a server-made id that serves a playable file of
# MIME $1, and the sentences spoken, joined, are done's text.
stream_sound() {   # stream_sound MIME WHAT
    local urls done_urls u ok=0 n=0
    urls=$(sse_data audio | jq -r .url)
    done_urls=$(sse_data done | jq -r '.audio_urls[]')
    is "$done_urls" "$urls" "$2: done lists the audio events' urls, in order"
    is "$(sse_data audio | jq -r .index | tr '\n' ' ')" "$(seq 0 $(($(grep -c . <<< "$urls") - 1)) | tr '\n' ' ')" \
        "$2: audio events are numbered 0, 1, ..."
    is "$(sse_data done | jq -r .audio_url)" "$(head -n 1 <<< "$urls")" "$2: audio_url is the first sentence's"
    is "$(sse_data audio | jq -r .text | paste -sd' ')" "$(sse_data done | jq -r .text)" \
        "$2: the sentences spoken are the reply, in order"
    for u in $urls; do
        n=$((n + 1))
        [[ $u =~ ^/api/v1/voice/audio/$UUID_RE$ ]] || continue
        curl -s -o "$T_DIR/piece" -w '%{http_code} %{content_type}\n' "$BASE$u" > "$T_DIR/piece.st"
        [ "$(cat "$T_DIR/piece.st")" = "200 $1" ] || continue
        case $1 in
        audio/wav) soxi "$T_DIR/piece" > /dev/null 2>&1 && ok=$((ok + 1)) ;;
        audio/mpeg) head -c 3 "$T_DIR/piece" | grep -q ID3 && ok=$((ok + 1)) ;;
        esac
    done
    is "$ok/$n" "$n/$n" "$2: every sentence's audio is served as $1 and decodes"
}

start_server LONG_TERM_MEMORY=off || { not_ok "server starts"; finish; }
flite -voice slt -t "my name is sarah and i feel sad today" -o "$T_DIR/sarah.wav"
new_session

# ---- Offline: a whole streamed turn ----------------------------------------------
vstream "$SID" "$T_DIR/sarah.wav"
status_is 200 "offline: streamed voice turn"
like "$(header Content-Type)" '^text/event-stream' "offline: served as an event stream"
is "$(header Cache-Control)" no-store "offline: not cached"
like "$(events)" '^transcript token( token| audio)* audio done$' "offline: transcript, tokens and audio, then done ($(events))"
transcript=$(sse_data transcript | jq -r .transcript)
like "$transcript" 'sarah' "offline: the transcript event carries what was heard ($transcript)"
is "$(sse_data token | jq -j .text)" "$(sse_data done | jq -r .text)" "offline: the tokens make up the reply"
n_audio=$(sse_data audio | grep -c .)
[ "$n_audio" -ge 2 ]; check $? "offline: a reply of several sentences is spoken in several pieces ($n_audio)"
first_audio=$(tr -d '\r' < "$BODY" | grep -n '^event: audio' | head -n 1 | cut -d: -f1)
last_token=$(tr -d '\r' < "$BODY" | grep -n '^event: token' | tail -n 1 | cut -d: -f1)
[ "$first_audio" -lt "$last_token" ]; check $? "offline: the first sentence is spoken before the last word is written"
stream_sound audio/wav "offline"
is "$(sse_data done | jq -r '[.session_id, .transcript, .workflow, .engine] | join(" ")')" \
    "$SID $transcript audio offline" "offline: done has the JSON answer's fields"
is "$(sse_data done | jq -r '.timings | [has("stt_ms"), has("llm_ms"), has("tts_ms"), has("total_ms")] | all')" \
    true "offline: done has the timings"
is "$(db "SELECT role || '|' || text FROM messages WHERE session_id = '$SID' ORDER BY id")" \
    "$(printf 'user|%s\nassistant|%s' "$transcript" "$(sse_data done | jq -r .text)")" \
    "offline: the turn is stored as one exchange"
is "$(db "SELECT count(*) FROM audio WHERE session_id = '$SID'")" "$n_audio" "offline: one audio row per sentence"
is "$(transcript_audio)" "$(sse_data done | jq -c .audio_urls)" "offline: the transcript offers the reply's pieces, in order"

# The same recording as JSON still answers as before: one reply, one audio.
voice "$SID" "$T_DIR/sarah.wav"
status_is 200 "offline: the JSON form"
like "$(header Content-Type)" '^application/json' "offline: the JSON form is JSON"
like "$(json .audio_url)" "^/api/v1/voice/audio/$UUID_RE$" "offline: the JSON form has one audio_url"
is "$(transcript_audio)" "[\"$(json .audio_url)\"]" "offline: the transcript offers the JSON turn's audio"

# Refusals come before the stream: the status and the JSON error, as always.
vstream 00000000-0000-4000-8000-000000000000 "$T_DIR/sarah.wav"
error_is 404 not_found "streamed: an unknown session"
printf 'RANDOM BYTES, NOT AUDIO' > "$T_DIR/random.bin"
vstream "$SID" "$T_DIR/random.bin"
error_is 415 unsupported_media_type "streamed: audio in no accepted format"

# Silence: a gentle word, spoken, not part of the conversation.
sox -n -r 16000 -b 16 -c 1 "$T_DIR/silence.wav" trim 0 1.5
before=$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")
vstream "$SID" "$T_DIR/silence.wav"
status_is 200 "silence, streamed"
is "$(events)" "transcript token audio done" "silence: transcript, the gentle word, its audio, done"
is "$(sse_data done | jq -r '[.transcript, .workflow] | join("|")')" "|silence" "silence: workflow silence"
like "$(sse_data done | jq -r .text)" '[a-z]' "silence: a gentle reply"
stream_sound audio/wav "silence"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")" "$before" "silence: nothing joins the history"
is "$(db "SELECT count(*) FROM audio WHERE session_id = '$SID' AND message_id IS NULL")" 1 \
    "silence: its audio belongs to no message"

# ---- Offline: chat turns with "voice": true ---------------------------------------
vchat "$SID" "I keep thinking about my mother. She loved her garden."
status_is 200 "chat, voice: JSON"
json_is .workflow audio "chat, voice: routed audio"
like "$(json .audio_url)" "^/api/v1/voice/audio/$UUID_RE$" "chat, voice: the reply has an audio_url"
is "$(json '.audio_urls | join(" ")')" "$(json .audio_url)" "chat, voice: audio_urls holds that one piece"
like "$(json .timings.tts_ms)" '^[0-9.]+$' "chat, voice: tts_ms in the timings"
curl -s -o "$T_DIR/chat.wav" -w '%{http_code} %{content_type}' "$BASE$(json .audio_url)" > "$T_DIR/chat.st"
is "$(cat "$T_DIR/chat.st")" "200 audio/wav" "chat, voice: the audio is served"
soxi "$T_DIR/chat.wav" > /dev/null 2>&1; check $? "chat, voice: it is a WAV that decodes"
is "$(transcript_audio)" "[\"$(json .audio_url)\"]" "chat, voice: the transcript offers it"
req POST /api/v1/chat -H 'Content-Type: application/json' \
    -d "$(jq -cn --arg s "$SID" '{session_id: $s, message: "Thank you for listening."}')"
is "$(json 'has("audio_url")')/$(json .workflow)" false/conversation "chat without voice: no audio"
vchat "$SID" "She grew roses every summer. I miss her so much." -H 'Accept: text/event-stream'
status_is 200 "chat, voice, streamed"
like "$(events)" '^token( token| audio)* done$' "chat, voice, streamed: tokens and audio, then done ($(events))"
stream_sound audio/wav "chat, voice, streamed"
is "$(transcript_audio)" "$(sse_data done | jq -c .audio_urls)" "chat, voice, streamed: the transcript offers the pieces"
# Audio cleanup takes the files and rows; the transcript then offers none.
msgs=$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")
db "UPDATE audio SET created_at = created_at - 25 * 3600 * 1000 WHERE session_id = '$SID'"
"$ROSE_TOP/cron/rose-audio-cleanup" -c "$T_DIR/rose.conf" > /dev/null 2>&1
check $? "audio cleanup runs"
is "$(transcript_audio)" "[]" "after cleanup the transcript offers no audio"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")" "$msgs" "after cleanup every message is still there ($msgs)"
stop_server

# ---- Hosted: the fake LLM streams, the fake ElevenLabs speaks ---------------------
start_fake_llm || { not_ok "the fake LLM starts"; finish; }
start_fake_speech --key "$SKEY" || { not_ok "the fake speech server starts"; finish; }
start_server LONG_TERM_MEMORY=off "LLM_BASE_URL=$FAKE_URL" LLM_API_KEY=sk-fake-llm \
    "STT_BASE_URL=http://127.0.0.1:$SPORT/openai/v1" "STT_API_KEY=$SKEY" \
    "TTS_BASE_URL=http://127.0.0.1:$SPORT" "ELEVENLABS_API_KEY=$SKEY" \
    RETRY_MAX_ATTEMPTS=2 RETRY_BASE_DELAY_MS=50 CIRCUIT_BREAKER_FAILURE_THRESHOLD=100 ||
    { not_ok "server starts with hosted providers"; finish; }
new_session
tts_texts() {
    speech_requests | jq -r '.[] | select(.path | startswith("/v1/text-to-speech/")) | .body.text'
}

REPLY='*sighs softly* Oh, Sarah, that sounds so heavy. Losing sleep wears on everything. What has been keeping you up at night?'
speech_script '[{"route": "transcriptions", "transcript": "I could not sleep last night."}]'
fake_script "$(jq -cn --arg r "$REPLY" '[{reply: $r, split: true}]')"
vstream "$SID" "$T_DIR/sarah.wav"
status_is 200 "hosted: streamed voice turn"
like "$(events)" '^transcript token( token| audio)* audio done$' "hosted: transcript, tokens and audio, then done"
is "$(sse_data transcript | jq -r .transcript)" "I could not sleep last night." "hosted: the provider's transcript"
is "$(sse_data done | jq -r .text)" \
    "Oh, Sarah, that sounds so heavy. Losing sleep wears on everything. What has been keeping you up at night?" \
    "hosted: done has the reply without the stage direction"
is "$(tts_texts)" "$(printf '%s\n' "Oh, Sarah, that sounds so heavy." "Losing sleep wears on everything." \
    "What has been keeping you up at night?")" \
    "hosted: ElevenLabs was asked each sentence, markup dropped, in order"
stream_sound audio/mpeg "hosted"
is "$(fake_requests | jq '[.[] | select(.body.stream == true)] | length')" 1 "hosted: the reply was asked as a stream"

# The same sentences again come from the TTS cache: no ElevenLabs call.
speech_reset
speech_script '[{"route": "transcriptions", "transcript": "I could not sleep again."}]'
fake_script "$(jq -cn --arg r "$REPLY" '[{reply: $r}]')"
vstream "$SID" "$T_DIR/sarah.wav"
is "$(sse_data audio | grep -c .)" 3 "hosted, repeated: three sentences spoken"
is "$(tts_texts | grep -c .)" 0 "hosted, repeated: all from the TTS cache"

# A reply that runs on with no sentence end is still spoken in pieces of at
# most 600 bytes, cut between words.
RUNON=$(python3 -c 'print(" ".join(["we can sit with this feeling together for as long as you need"] * 16))')
speech_reset
speech_script '[{"route": "transcriptions", "transcript": "Stay with me."}]'
fake_script "$(jq -cn --arg r "$RUNON" '[{reply: $r}]')"
vstream "$SID" "$T_DIR/sarah.wav"
pieces=$(tts_texts | grep -c .)
longest=$(tts_texts | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
[ "$pieces" -ge 2 ] && [ "$longest" -le 600 ]; check $? "run-on reply: spoken in $pieces pieces of at most 600 bytes (longest $longest)"
is "$(tts_texts | paste -sd' ')" "$RUNON" "run-on reply: the pieces, joined, are the reply"
stream_sound audio/mpeg "run-on"

# ElevenLabs refuses: the words still stream, done has no audio.
speech_reset
speech_script '[{"route": "transcriptions", "transcript": "Are you there?"},
                {"route": "elevenlabs", "status": 401}]'
fake_script '[{"reply": "I am here with you, always. Take all the time you need tonight."}]'
vstream "$SID" "$T_DIR/sarah.wav"
status_is 200 "hosted, TTS refused: still 200"
is "$(events)" "transcript token done" "hosted, TTS refused: tokens then done, no audio event"
is "$(sse_data done | jq -r '[.text, .audio_url, (.audio_urls | length)] | join("|")')" \
    "I am here with you, always. Take all the time you need tonight.||0" \
    "hosted, TTS refused: the reply as text, audio_url empty"
is "$(tts_texts | grep -c .)" 1 "hosted, TTS refused: a 401 is not retried, and not asked again for the next sentence"

# The LLM stream is cut after some words: an error event ends it, nothing is stored.
speech_reset
speech_script '[{"route": "transcriptions", "transcript": "Tell me something kind."}]'
fake_script '[{"reply": "You have carried so much this year. And still you keep going, which says a lot.", "cut": true}]'
before=$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")
vstream "$SID" "$T_DIR/sarah.wav"
status_is 200 "hosted, stream cut: the stream had begun"
like "$(events)" '^transcript token.* error$' "hosted, stream cut: ends with an error event ($(events))"
is "$(sse_data error | jq -r '[.error, (.request_id | test("^[0-9a-f-]{36}$"))] | join(" ")')" \
    "upstream_error true" "hosted, stream cut: error upstream_error with the request id"
is "$(sse_data done | grep -c .)" 0 "hosted, stream cut: no done event"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")" "$before" "hosted, stream cut: nothing stored"
like "$(grep '"route":"POST /voice/process"' "$T_DIR/error.log" | tail -n 1)" '"stream_error":"upstream_error"' \
    "hosted, stream cut: the log line names the error"

# ---- Hosted: chat turns with "voice": true ----------------------------------------
speech_reset
fake_script "$(jq -cn --arg r "$REPLY" '[{reply: $r, split: true}]')"
vchat "$SID" "I have not slept well this week." -H 'Accept: text/event-stream' -H 'Idempotency-Key: voice-chat-1'
status_is 200 "hosted chat, voice, streamed"
is "$(sse_data audio | grep -c .)" 3 "hosted chat, voice: three sentences, three audio events"
stream_sound audio/mpeg "hosted chat, voice"
urls=$(sse_data done | jq -c .audio_urls)
calls=$(speech_calls elevenlabs)
vchat "$SID" "I have not slept well this week." -H 'Idempotency-Key: voice-chat-1'
is "$STATUS/$(header Idempotent-Replayed)" 200/true "hosted chat, voice: the retry is a replay"
is "$(jq -c .audio_urls "$BODY")" "$urls" "hosted chat, voice: the replay carries the same audio"
vchat "$SID" "I have not slept well this week." -H 'Idempotency-Key: voice-chat-1' -H 'Accept: text/event-stream'
is "$(sse_data audio | jq -r .url | jq -R . | jq -sc .)" "$urls" "hosted chat, voice: a streamed replay sends the audio events again"
is "$(speech_calls elevenlabs)" "$calls" "hosted chat, voice: replays ask ElevenLabs nothing"
speech_reset
speech_script '[{"route": "elevenlabs", "status": 401}]'
fake_script '[{"reply": "I am right here with you tonight, for as long as you need."}]'
vchat "$SID" "Please stay."
status_is 200 "hosted chat, voice, TTS refused: still 200"
is "$(json '[.text, .audio_url, (.audio_urls | length)] | join("|")')" \
    "I am right here with you tonight, for as long as you need.||0" "hosted chat, voice, TTS refused: text only"
unlike "$(cat "$T_DIR/error.log")" 'carried so much|could not sleep|something kind|slept well' "the log holds no words of the turns"
finish
