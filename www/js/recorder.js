// recorder.js: the microphone, through the Web Audio API.
//
// The page keeps one Recorder. Each press of the talk control calls start(), which opens the
// microphone and returns a Recording: its level() feeds the level meter (an AnalyserNode), and
// stop() closes the microphone and resolves with the float samples at the context's rate
// (wav.js turns them into 16 kHz WAV). The microphone is open only while a recording runs, so
// the browser's "in use" light is honest.
//
// The samples are collected by an AudioWorklet (recorder-worklet.js, loaded as a file so the
// page needs no inline script), or by a ScriptProcessorNode where AudioWorklet is missing.

const WORKLET_URL = new URL('./recorder-worklet.js', import.meta.url);

// How long stop() waits for the worklet's last batch before it gives up on it.
const FLUSH_TIMEOUT_MS = 1000;

// Why the microphone could not be used, as the page explains it:
//   denied      the person or the browser refused permission
//   no-device   there is no microphone (or none that fits)
//   busy        the microphone exists but could not start (another app holds it)
//   unsupported this browser or connection cannot record (old browser, plain http)
//   failed      anything else
export class MicError extends Error {
    constructor(kind, cause) {
        super(`microphone: ${kind}`);
        this.name = 'MicError';
        this.kind = kind;
        this.cause = cause;
    }
}

function micError(err) {
    if (err instanceof MicError) return err;
    switch (err && err.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
        return new MicError('denied', err);
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
        return new MicError('no-device', err);
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
        return new MicError('busy', err);
    case 'TypeError':
        return new MicError('unsupported', err);
    default:
        return new MicError('failed', err);
    }
}

function audioContextClass() {
    return window.AudioContext || window.webkitAudioContext || null;
}

// getUserMedia exists only in secure contexts (https, or http://localhost).
export function recordingSupported() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && audioContextClass());
}

// What the browser already knows about the microphone permission: "granted", "denied",
// "prompt", or "unknown" where the Permissions API cannot say. onChange(state) is called
// if the person changes it in the browser's settings while the page is open.
export async function micPermission(onChange) {
    try {
        const status = await navigator.permissions.query({ name: 'microphone' });
        if (onChange) status.onchange = () => onChange(status.state);
        return status.state;
    } catch {
        return 'unknown';
    }
}

class Recording {
    constructor(ctx, stream) {
        this.ctx = ctx;
        this.stream = stream;
        this.rate = ctx.sampleRate;
        this.chunks = [];
        this.frames = 0;
        this.nodes = [];
        this.finished = false;
        this.onInterrupted = null;      // called if the microphone goes away mid-recording
        this.flushed = null;            // resolves when the worklet has sent its last batch
        this.levelBuf = null;
        this.analyser = null;
        this.worklet = null;
    }

    push(samples) {
        if (this.finished) return;
        this.chunks.push(samples);
        this.frames += samples.length;
    }

    // Seconds of audio collected so far.
    seconds() {
        return this.frames / this.rate;
    }

    // The loudness of the last few milliseconds, 0 (silence, under -60 dBFS) to 1 (-10 dBFS).
    level() {
        if (!this.analyser) return 0;
        if (!this.levelBuf) this.levelBuf = new Float32Array(this.analyser.fftSize);
        this.analyser.getFloatTimeDomainData(this.levelBuf);
        let sum = 0;
        for (const s of this.levelBuf) sum += s * s;
        const rms = Math.sqrt(sum / this.levelBuf.length);
        const db = 20 * Math.log10(rms + 1e-9);
        return Math.min(1, Math.max(0, (db + 60) / 50));
    }

    release() {
        this.finished = true;
        for (const node of this.nodes) {
            try {
                node.disconnect();
            } catch {
                // already disconnected
            }
        }
        this.nodes = [];
        for (const track of this.stream.getTracks()) track.stop();
    }

    // Ends the recording and closes the microphone. Resolves with {samples: [Float32Array],
    // rate}: the chunks in order (wav.js concat() joins them).
    async stop() {
        if (this.worklet && !this.finished) {
            this.worklet.port.postMessage('stop');
            let timer = 0;
            const late = new Promise((resolve) => { timer = setTimeout(resolve, FLUSH_TIMEOUT_MS); });
            await Promise.race([this.flushed, late]);
            clearTimeout(timer);
        }
        this.release();
        return { samples: this.chunks, rate: this.rate };
    }

    // Ends the recording and throws the audio away.
    cancel() {
        if (this.worklet && !this.finished) this.worklet.port.postMessage('stop');
        this.release();
        this.chunks = [];
    }
}

export class Recorder {
    constructor() {
        this.ctx = null;
        this.workletLoad = null;
    }

    // Creates or resumes the audio context. Call it synchronously inside the person's gesture
    // (pointerdown, keydown), before any await: browsers let a context start only there.
    warmUp() {
        if (!this.ctx) {
            const AC = audioContextClass();
            this.ctx = new AC({ latencyHint: 'interactive' });
        }
        if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
        return this.ctx;
    }

    // Lets the audio hardware rest between recordings.
    sleep() {
        if (this.ctx && this.ctx.state === 'running') this.ctx.suspend().catch(() => {});
    }

    // Opens the microphone and starts collecting. Resolves with a Recording; rejects with a
    // MicError.
    async start() {
        if (!recordingSupported()) throw new MicError('unsupported');
        const ctx = this.warmUp();
        let stream;
        try {
            // The browser's voice-call processing is off. It is made for a person listening,
            // and a speech recogniser hears its output worse: in tests automatic gain
            // clipped the voice, and noise suppression turned "sarah" into "erin" for
            // PocketSphinx. Echo cancellation has nothing to do: Rose is always quiet
            // while the page records (pressing the control stops her first).
            stream = await navigator.mediaDevices.getUserMedia({
                audio: {
                    channelCount: { ideal: 1 },
                    echoCancellation: false,
                    noiseSuppression: false,
                    autoGainControl: false,
                },
            });
        } catch (err) {
            throw micError(err);
        }
        const rec = new Recording(ctx, stream);
        try {
            if (ctx.state !== 'running') await ctx.resume();
            const source = ctx.createMediaStreamSource(stream);
            const analyser = ctx.createAnalyser();
            analyser.fftSize = 1024;
            source.connect(analyser);
            rec.analyser = analyser;
            rec.nodes.push(source, analyser);
            if (ctx.audioWorklet && typeof AudioWorkletNode === 'function') {
                await this.collectWithWorklet(ctx, source, rec);
            } else {
                collectWithScriptProcessor(ctx, source, rec);
            }
        } catch (err) {
            rec.release();
            throw micError(err);
        }
        for (const track of stream.getAudioTracks()) {
            track.addEventListener('ended', () => {
                if (!rec.finished && rec.onInterrupted) rec.onInterrupted();
            });
        }
        return rec;
    }

    async collectWithWorklet(ctx, source, rec) {
        if (!this.workletLoad) this.workletLoad = ctx.audioWorklet.addModule(WORKLET_URL);
        try {
            await this.workletLoad;
        } catch (err) {
            this.workletLoad = null;        // try again next time
            throw err;
        }
        const node = new AudioWorkletNode(ctx, 'rose-recorder', {
            numberOfInputs: 1,
            numberOfOutputs: 1,
            outputChannelCount: [1],
        });
        rec.flushed = new Promise((resolve) => {
            node.port.onmessage = (e) => {
                if (e.data && e.data.samples) rec.push(e.data.samples);
                if (e.data && e.data.done) resolve();
            };
        });
        source.connect(node);
        // The node writes silence; joining it to the output keeps every browser pulling it.
        node.connect(ctx.destination);
        rec.worklet = node;
        rec.nodes.push(node);
    }
}

function collectWithScriptProcessor(ctx, source, rec) {
    // One input channel: the graph mixes a stereo microphone down to mono for us.
    const node = ctx.createScriptProcessor(4096, 1, 1);
    node.onaudioprocess = (e) => {
        rec.push(Float32Array.from(e.inputBuffer.getChannelData(0)));
        e.outputBuffer.getChannelData(0).fill(0);      // silence, never an echo of the mic
    };
    source.connect(node);
    node.connect(ctx.destination);      // a ScriptProcessorNode only runs when connected
    rec.nodes.push(node);
}
