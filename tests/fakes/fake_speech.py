#!/usr/bin/env python3
"""A fake speech server for Rose's tests: Groq transcription, ElevenLabs TTS and OpenAI /audio/speech.

It speaks the wire formats Rose's clients use (lib/providers/stt.c and
tts.c): Groq's OpenAI-compatible /audio/transcriptions (a multipart upload;
json, text and verbose_json answers; Groq error bodies; 413 over the upload
limit), ElevenLabs' /v1/text-to-speech/{voice_id} (xi-api-key, its
{"detail": ...} errors, the two kinds of 429, the character-cost and
request-id headers, MP3 bytes) and OpenAI's /audio/speech.  Tests script
its behaviour per request and read back what it received.  See
tests/fakes/README.md.

Standard library only; listens on 127.0.0.1 only.
"""

import hashlib
import math
import re
import struct
import time
from urllib.parse import parse_qs, urlsplit

import common
from common import random_id

UPLOAD_MAX = 25 * 1024 * 1024      # Groq's free-tier limit on a transcription request
DRAIN_MAX = 64 * 1024 * 1024       # past this we close instead of reading the body
JSON_MAX = 1024 * 1024             # a TTS request body

STT_MODELS = ["whisper-large-v3-turbo", "whisper-large-v3", "distil-whisper-large-v3-en",
              "whisper-1"]
STT_FORMATS = ["json", "text", "verbose_json"]
DEFAULT_TRANSCRIPT = " Hello Rose, I had a long day today."  # Whisper's leading space
LANGUAGES = {"en": "english", "fr": "french", "de": "german", "es": "spanish",
             "it": "italian", "pt": "portuguese", "nl": "dutch", "ja": "japanese"}

ELEVEN_FORMATS = ["mp3_22050_32", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96",
                  "mp3_44100_128", "mp3_44100_192"]
ELEVEN_TEXT_MAX = 40000            # eleven_flash_v2_5's character limit
OPENAI_VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage",
                 "shimmer", "verse"]
OPENAI_INPUT_MAX = 4096

# Groq / OpenAI error bodies per status (common.GROQ_ERRORS), with audio's 429.
OPENAI_ERRORS = {
    **common.GROQ_ERRORS,
    429: ("requests", "rate_limit_exceeded",
          "Rate limit reached for model `{model}` in organization `org_fake` service tier "
          "`on_demand` on audio seconds per hour (ASH): Limit 7200, Used 7200, Requested 5. "
          "Please try again in {retry}s."),
}

# ElevenLabs error bodies: {"detail": {"status", "message"}} per status.
ELEVEN_ERRORS = {
    400: ("invalid_request", "The request was not valid."),
    401: ("invalid_api_key", "Invalid API key"),
    403: ("permission_denied", "This API key does not have access to text to speech."),
    404: ("voice_not_found", "A voice with the voice_id {voice} was not found."),
    429: ("too_many_concurrent_requests",
          "Too many concurrent requests. Your current subscription is associated with a "
          "maximum of 2 concurrent requests running in parallel."),
    500: ("internal_server_error", "An internal server error occurred."),
    503: ("service_unavailable", "The service is temporarily unavailable."),
}
ELEVEN_MESSAGES = {
    "system_busy": "Our services are experiencing high levels of traffic and your request "
                   "could not be processed. Please try again later.",
    "too_many_concurrent_requests": ELEVEN_ERRORS[429][1],
}


# --- audio ----------------------------------------------------------------

# One MPEG-1 Layer III frame, 128 kbit/s, 44.1 kHz, mono, no CRC: the header
# FF FB 90 C4, then side information and main data all zero, which decodes
# as 1152 samples of silence.  144 * 128000 / 44100 = 417 bytes.
MP3_FRAME = b"\xff\xfb\x90\xc4" + bytes(417 - 4)
MP3_FRAME_SECONDS = 1152 / 44100.0


def syncsafe(n):
    return bytes([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f])


def make_mp3(frames):
    """An ID3v2.4 tag (one TSSE frame) followed by frames of silent MPEG audio."""
    text = b"\x03fake_speech"  # encoding 3 = UTF-8
    tsse = b"TSSE" + syncsafe(len(text)) + b"\x00\x00" + text
    return b"ID3\x04\x00\x00" + syncsafe(len(tsse)) + tsse + MP3_FRAME * frames


def frames_for(text):
    """About as many frames as speaking the text would take (15 characters a second)."""
    seconds = len(text) / 15.0
    return max(3, min(5000, int(math.ceil(seconds / MP3_FRAME_SECONDS))))


def make_wav(seconds, rate=24000):
    """16-bit mono PCM silence."""
    data = bytes(2 * int(rate * seconds))
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" +
            b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) +
            b"data" + struct.pack("<I", len(data)) + data)


def sniff_audio(data):
    """The audio container the bytes start with, or None (what Whisper servers take)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xff and data[1] & 0xe0 == 0xe0):
        return "mp3"
    return None


def wav_duration(data):
    """Seconds of a PCM WAV from its fmt and data chunks, or None."""
    pos, byte_rate = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt " and size >= 16:
            byte_rate = struct.unpack("<I", data[pos + 16:pos + 20])[0]
        elif cid == b"data" and byte_rate:
            return min(size, len(data) - pos - 8) / float(byte_rate)
        pos += 8 + size + (size & 1)
    return None


# --- multipart ------------------------------------------------------------

def parse_multipart(ctype, body):
    """Parse a multipart/form-data body strictly (CRLF line ends).

    Returns a list of (name, filename, content_type, data); raises ValueError
    with a reason if the body is not well formed.
    """
    m = re.match(r'^\s*multipart/form-data\s*;(.*)$', ctype or "", re.I | re.S)
    if not m:
        raise ValueError("request Content-Type isn't multipart/form-data")
    b = re.search(r'(?:^|;)\s*boundary=(?:"([^"]+)"|([^;\s]+))', m.group(1), re.I)
    if not b:
        raise ValueError("no multipart boundary")
    boundary = (b.group(1) or b.group(2)).encode("latin-1")
    delim = b"--" + boundary
    if not body.startswith(delim):
        start = body.find(b"\r\n" + delim)
        if start < 0:
            raise ValueError("multipart: NextPart: EOF")
        body = body[start + 2:]
    parts = []
    pos = len(delim)
    while True:
        if body[pos:pos + 2] == b"--":
            return parts
        eol = body.find(b"\r\n", pos)
        if eol < 0 or body[pos:eol].strip(b" \t"):
            raise ValueError("multipart: malformed boundary line")
        end_headers = body.find(b"\r\n\r\n", eol)
        if end_headers < 0:
            raise ValueError("multipart: unterminated part headers")
        headers = {}
        for line in body[eol + 2:end_headers].split(b"\r\n") if end_headers > eol else []:
            k, sep, v = line.decode("utf-8", "replace").partition(":")
            if not sep:
                raise ValueError("multipart: malformed header line")
            headers[k.strip().lower()] = v.strip()
        nxt = body.find(b"\r\n" + delim, end_headers + 4)
        if nxt < 0:
            raise ValueError("multipart: NextPart: EOF")
        data = body[end_headers + 4:nxt]
        disp = headers.get("content-disposition", "")
        name = re.search(r';\s*name="([^"]*)"', disp) or re.search(r';\s*name=([^;\s]+)', disp)
        fname = (re.search(r';\s*filename="([^"]*)"', disp) or
                 re.search(r';\s*filename=([^;\s]+)', disp))
        if not disp.lower().startswith("form-data") or not name:
            raise ValueError("multipart: part without a form-data name")
        parts.append((name.group(1), fname.group(1) if fname else None,
                      headers.get("content-type"), data))
        pos = nxt + 2 + len(delim)


# --- the server -----------------------------------------------------------

class Handler(common.Handler):
    server_version = "fake-speech/1"
    name = "fake_speech"
    body_max = JSON_MAX
    reasons = common.GROQ_REASONS
    secret_headers = ("authorization", "xi-api-key")

    # --- plumbing ---------------------------------------------------------

    def refuse_too_large(self):
        """413 for a JSON body over JSON_MAX, unread: the connection is closed."""
        self.close_connection = True
        self.openai_error(413)

    def drain(self, n):
        """Read and drop n bytes of body, so the client can finish sending."""
        while n > 0:
            chunk = self.rfile.read(min(n, 1 << 20))
            if not chunk:
                break
            n -= len(chunk)

    def openai_error(self, status, message=None, step=None, model="", retry=None, param=None):
        """Groq's / OpenAI's error body; step may override message, type and code."""
        body = common.groq_error(OPENAI_ERRORS, status, step, message, param, model=model,
                                 retry=retry or 1)
        headers = {"x-request-id": random_id("req_", 26)}
        if retry is not None:
            headers["retry-after"] = str(retry)
        self.send(status, body, headers=headers)

    def eleven_error(self, status, step=None, voice="", retry=None):
        """ElevenLabs' {"detail": {"status", "message"}}; step may override both.
        A 422 gets FastAPI's validation list instead."""
        step = step or {}
        if status == 422:
            self.eleven_validation(step.get("loc", ["body", "text"]),
                                   step.get("message", "field required"),
                                   step.get("detail_status", "value_error.missing"))
            return
        dstatus, msg = ELEVEN_ERRORS.get(status, ("error", "An error occurred."))
        dstatus = step.get("detail_status", dstatus)
        msg = step.get("message", ELEVEN_MESSAGES.get(dstatus, msg).format(voice=voice))
        headers = {"request-id": random_id("", 20)}
        if retry is not None:
            headers["retry-after"] = str(retry)
        self.send(status, {"detail": {"status": dstatus, "message": msg}}, headers=headers)

    def eleven_validation(self, loc, msg, etype):
        """FastAPI's 422 body, as ElevenLabs sends for a request that fails validation."""
        self.send(422, {"detail": [{"loc": loc, "msg": msg, "type": etype}]},
                  headers={"request-id": random_id("", 20)})

    def log_request_seen(self, path, query, body=None, fields=None, files=None, size=None):
        self.record(method=self.command, path=path, query=query,
                    headers=self.redacted_headers(), auth=self.auth_state(path), body=body,
                    fields=fields, files=files, size=size)

    def auth_state(self, path):
        if path.startswith("/v1/text-to-speech/") or path == "/v1/voices":
            return self.key_state(self.headers.get("xi-api-key"))
        return self.key_state(self.bearer())

    def play_common(self, step):
        """Stall and delay as the step asks; then its status (200 if none)."""
        self.pause(step)
        return int(step.get("status", 200))

    def play_openai(self, route, model):
        """Take and play the route's step for a Groq / OpenAI request: a
        scripted status gets its error body (a 429 retry-after 1 unless the
        step says otherwise).  The step, or None if it was answered."""
        step = self.server.state.next_step(route) or {}
        status = self.play_common(step)
        if status == 200:
            return step
        retry = step.get("retry_after")
        if retry is None and status == 429:
            retry = 1
        self.openai_error(status, step=step, model=model, retry=retry)
        return None

    # --- routes -----------------------------------------------------------

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if self.control(path):
            return
        if path == "/v1/voices":
            self.log_request_seen(path, parse_qs(url.query))
            if self.auth_state(path) != "ok":
                self.eleven_error(401)
                return
            self.send(200, {"voices": [{"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel",
                                        "category": "premade"}]})
            return
        if path in ("/openai/v1/models", "/v1/models"):
            self.log_request_seen(path, parse_qs(url.query))
            if self.auth_state(path) != "ok":
                self.openai_error(401)
                return
            now = int(time.time())
            self.send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": now, "owned_by": "OpenAI"}
                for m in STT_MODELS + ["tts-1", "gpt-4o-mini-tts"]]})
            return
        self.openai_error(404, "Unknown request URL: GET %s" % path, {"code": "unknown_url"})

    def do_POST(self):
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if path in ("/openai/v1/audio/transcriptions", "/v1/audio/transcriptions"):
            self.transcribe(path, query)
            return
        raw = self.provider_body(path, self.refuse_too_large)
        if raw is None:
            return
        if path in ("/openai/v1/audio/speech", "/v1/audio/speech"):
            self.openai_speech(path, query, raw)
        elif re.match(r"^/v1/text-to-speech/[^/]*(/stream)?$", path):
            self.elevenlabs(path, query, raw)
        else:
            self.openai_error(404, "Unknown request URL: POST %s" % path,
                              {"code": "unknown_url"})

    # --- Groq transcription -------------------------------------------------

    def transcribe(self, path, query):
        n = self.content_length()
        if n < 0 or n > self.server.state.upload_max:
            # Groq refuses the request whole; read it first so the client
            # sees the answer rather than a reset while it is still sending.
            self.log_request_seen(path, query, size=n)
            if 0 <= n <= DRAIN_MAX:
                self.drain(n)
            else:
                self.close_connection = True
            self.openai_error(413)
            return
        raw = self.rfile.read(n) if n else b""
        try:
            parts = parse_multipart(self.headers.get("Content-Type"), raw)
            error = None
        except ValueError as e:
            parts, error = [], str(e)
        fields, files = {}, []
        for name, fname, ctype, data in parts:
            if fname is None:
                fields[name] = data.decode("utf-8", "replace")
            else:
                files.append({"field": name, "filename": fname, "content_type": ctype,
                              "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        self.log_request_seen(path, query, fields=fields, files=files, size=n)
        if self.auth_state(path) != "ok":
            self.openai_error(401)
            return
        if error is not None:
            self.openai_error(400, error)
            return
        model = fields.get("model")
        upload = next((p for p in parts if p[0] == "file" and p[1] is not None), None)
        if not model:
            self.openai_error(400, "'model' : property 'model' is missing")
            return
        if model not in STT_MODELS:
            self.openai_error(404, "The model `%s` does not exist or you do not have access "
                                   "to it." % model)
            return
        if upload is None:
            self.openai_error(400, "file or url must be provided")
            return
        fmt = fields.get("response_format", "json")
        if fmt not in STT_FORMATS:
            self.openai_error(400, "response_format: must be one of %s" % ", ".join(STT_FORMATS),
                              param="response_format")
            return
        language = fields.get("language")
        if language is not None and not re.match(r"^[a-z]{2,3}$", language):
            self.openai_error(400, "language: invalid language code", param="language")
            return
        audio = upload[3]
        kind = sniff_audio(audio)
        if not audio or kind is None:
            self.openai_error(400, "could not process file - is it a valid media file?")
            return

        step = self.play_openai("transcriptions", model)
        if step is None:
            return
        text = step.get("transcript", DEFAULT_TRANSCRIPT)
        duration = step.get("duration")
        if duration is None:
            duration = (wav_duration(audio) if kind == "wav" else None) or len(audio) / 16000.0
        xid = {"id": random_id("req_", 26)}
        headers = {"x-request-id": random_id("req_", 26)}
        if step.get("malformed"):
            self.send(200, b'{"text":"' + text[:5].encode(), headers=headers)
        elif fmt == "text":
            self.send(200, (text + "\n").encode(), "text/plain; charset=utf-8", headers)
        elif fmt == "json":
            self.send(200, {"text": text, "x_groq": xid}, headers=headers)
        else:
            self.send(200, {"task": "transcribe", "language": LANGUAGES.get(language or "en",
                                                                            language),
                            "duration": round(duration, 2), "text": text,
                            "segments": segments(text, duration), "x_groq": xid},
                      headers=headers)

    # --- ElevenLabs ---------------------------------------------------------

    def elevenlabs(self, path, query, raw):
        voice = path.split("/")[3]
        body = common.parse_json(raw)
        self.log_request_seen(path, query, body=body)
        if self.auth_state(path) != "ok":
            self.eleven_error(401)
            return
        fmt = query.get("output_format", ["mp3_44100_128"])[-1]
        if fmt not in ELEVEN_FORMATS:
            self.eleven_validation(["query", "output_format"],
                                   "value is not a valid enumeration member", "type_error.enum")
            return
        if not isinstance(body, dict):
            self.eleven_validation(["body"], "value is not a valid dict", "type_error.dict")
            return
        text = body.get("text")
        if not isinstance(text, str):
            self.eleven_validation(["body", "text"], "field required", "value_error.missing")
            return
        settings = body.get("voice_settings")
        if settings is not None:
            for k in ("stability", "similarity_boost"):
                v = settings.get(k) if isinstance(settings, dict) else None
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1:
                    self.eleven_validation(["body", "voice_settings", k],
                                           "ensure this value is between 0 and 1",
                                           "value_error.number")
                    return
        if not re.match(r"^[A-Za-z0-9]{20}$", voice):
            self.eleven_error(404, voice=voice)
            return
        if len(text) > ELEVEN_TEXT_MAX:
            self.eleven_error(400, {"detail_status": "max_character_limit_exceeded",
                                    "message": "The text is longer than %d characters."
                                               % ELEVEN_TEXT_MAX})
            return

        step = self.server.state.next_step("elevenlabs") or {}
        status = self.play_common(step)
        if status != 200:
            retry = step.get("retry_after")
            self.eleven_error(status, step, voice, retry)
            return
        headers = {"character-cost": str(step.get("character_cost", len(text))),
                   "request-id": random_id("", 20), "history-item-id": random_id("", 20)}
        if step.get("malformed"):
            self.send(200, b"<html>not audio</html>", "text/html", headers)
            return
        self.send(200, make_mp3(int(step.get("frames", frames_for(text)))), "audio/mpeg",
                  headers)

    # --- OpenAI /audio/speech -------------------------------------------------

    def openai_speech(self, path, query, raw):
        body = common.parse_json(raw)
        self.log_request_seen(path, query, body=body)
        if self.auth_state(path) != "ok":
            self.openai_error(401)
            return
        if not isinstance(body, dict):
            self.openai_error(400, "We could not parse the JSON body of your request.")
            return
        model, text, voice = body.get("model"), body.get("input"), body.get("voice")
        fmt = body.get("response_format", "mp3")
        if not isinstance(model, str) or not model:
            self.openai_error(400, "you must provide a model parameter", param="model")
            return
        if not isinstance(text, str) or not text:
            self.openai_error(400, "Missing required parameter: 'input'.", param="input")
            return
        if len(text) > OPENAI_INPUT_MAX:
            self.openai_error(400, "'input' is too long: the most is %d characters."
                              % OPENAI_INPUT_MAX, param="input")
            return
        if voice not in OPENAI_VOICES:
            self.openai_error(400, "Invalid value for 'voice'.", param="voice")
            return
        if fmt not in ("mp3", "wav", "pcm"):
            self.openai_error(400, "Invalid value for 'response_format' (the fake speaks mp3, "
                                   "wav and pcm).", param="response_format")
            return

        step = self.play_openai("speech", model)
        if step is None:
            return
        headers = {"x-request-id": random_id("req_", 26)}
        frames = int(step.get("frames", frames_for(text)))
        if step.get("malformed"):
            self.send(200, b'{"ok":true}', "application/json", headers)
        elif fmt == "mp3":
            self.send(200, make_mp3(frames), "audio/mpeg", headers)
        else:
            wav = make_wav(frames * MP3_FRAME_SECONDS)
            self.send(200, wav if fmt == "wav" else wav[44:],
                      "audio/wav" if fmt == "wav" else "audio/pcm", headers)


def segments(text, duration):
    """verbose_json segments: one per sentence, sharing the duration by length."""
    pieces = [s for s in re.findall(r"[^.!?]+[.!?]*", text) if s.strip()] or [text]
    total, start, out = sum(len(p) for p in pieces) or 1, 0.0, []
    for i, p in enumerate(pieces):
        end = start + duration * len(p) / total
        out.append({"id": i, "seek": 0, "start": round(start, 2), "end": round(end, 2),
                    "text": p, "tokens": [50365 + j for j in range(len(p.split()))],
                    "temperature": 0, "avg_logprob": -0.21, "compression_ratio": 1.1,
                    "no_speech_prob": 0.01})
        start = end
    return out


def main():
    def options(ap):
        ap.add_argument("--upload-max", type=int, default=UPLOAD_MAX,
                        help="bytes a transcription request may have (default 25 MiB)")

    common.run(__doc__, Handler,
               lambda args: common.State(args.key, upload_max=args.upload_max),
               "the one accepted key, as Bearer and as xi-api-key (default: any)", options)


if __name__ == "__main__":
    main()
