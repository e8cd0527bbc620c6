// recorder-worklet.js: the AudioWorklet half of the recorder (see recorder.js). Runs on the
// audio rendering thread: mixes each 128-frame block of the microphone down to mono and
// hands the samples to the page in batches, so the page thread is woken a few times a
// second rather than hundreds.
//
// Messages from the page: "stop" -> sends what is left, then {done: true}.
// Messages to the page: {samples: Float32Array} (transferred), {done: true}.

const BATCH = 4096;     // frames per message: about 85 ms at 48 kHz

class RoseRecorder extends AudioWorkletProcessor {
    constructor() {
        super();
        this.buf = new Float32Array(BATCH);
        this.used = 0;
        this.stopped = false;
        this.port.onmessage = (e) => {
            if (e.data === 'stop' && !this.stopped) {
                this.stopped = true;
                this.flush();
                this.port.postMessage({ done: true });
            }
        };
    }

    flush() {
        if (this.used === 0) return;
        const out = this.buf.slice(0, this.used);
        this.port.postMessage({ samples: out }, [out.buffer]);
        this.used = 0;
    }

    process(inputs) {
        if (this.stopped) return false;         // lets the node be collected
        const channels = inputs[0];
        if (!channels || channels.length === 0) return true;    // not connected yet
        const frames = channels[0].length;
        const scale = 1 / channels.length;
        for (let i = 0; i < frames; i += 1) {
            let s = 0;
            for (let c = 0; c < channels.length; c += 1) s += channels[c][i];
            this.buf[this.used] = s * scale;
            this.used += 1;
            if (this.used === BATCH) this.flush();
        }
        return true;
    }
}

registerProcessor('rose-recorder', RoseRecorder);
