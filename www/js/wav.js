// wav.js: turns what the microphone gave (float samples at the audio context's rate, often
// 44.1 or 48 kHz) into what Rose's speech-to-text wants: 16 kHz mono 16-bit PCM WAV.
//
// Dropping samples to change the rate would fold everything above 8 kHz (the new Nyquist
// frequency) back into the speech band as noise, so resample() low-pass filters while it
// decimates (a windowed-sinc filter, evaluated as a polyphase table for rational ratios).
// No DOM dependency: tests/browser/test_voice.mjs runs this under node.

export const STT_RATE = 16000;

// Zero crossings of the sinc on each side of the centre tap. More means a steeper filter
// and more work: 10 gives about 60 dB of stopband with the Blackman window, far below the
// noise floor of a phone microphone.
const ZERO_CROSSINGS = 10;

// Pass band edge as a fraction of the lower of the two Nyquist frequencies: 0.9 keeps speech
// up to about 7.2 kHz at 16 kHz and leaves room for the filter's transition band.
const CUTOFF = 0.9;

// Above this many filter phases (odd rate pairs) the taps are computed per sample instead.
const MAX_TABLE_PHASES = 1024;

function gcd(a, b) {
    while (b) [a, b] = [b, a % b];
    return a;
}

function sinc(x) {
    if (x === 0) return 1;
    const px = Math.PI * x;
    return Math.sin(px) / px;
}

// Blackman window over -1..1 (0 outside).
function blackman(x) {
    if (x <= -1 || x >= 1) return 0;
    const t = (x + 1) / 2;
    return 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
}

// The taps for one output sample whose position lies frac (0..1) past an input sample,
// normalised so that each phase passes a constant signal unchanged.
function taps(frac, fc, half, out) {
    let sum = 0;
    for (let k = -half + 1, j = 0; k <= half; k += 1, j += 1) {
        const t = k - frac;
        const v = 2 * fc * sinc(2 * fc * t) * blackman(t / half);
        out[j] = v;
        sum += v;
    }
    for (let j = 0; j < out.length; j += 1) out[j] /= sum;
    return out;
}

// Resamples mono float samples from fromRate to toRate (positive integers, Hz). Returns a
// new Float32Array of floor(input.length * toRate / fromRate) samples. Samples beyond the
// ends count as silence.
export function resample(input, fromRate, toRate) {
    if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
        throw new RangeError(`bad sample rates ${fromRate} -> ${toRate}`);
    }
    if (fromRate === toRate) return Float32Array.from(input);
    const g = gcd(fromRate, toRate);
    const up = toRate / g;          // output sample n sits at input position n * down / up
    const down = fromRate / g;
    const outLen = Math.floor((input.length * up) / down);
    const out = new Float32Array(outLen);

    // Cut-off in cycles per input sample, and the filter's half length in input samples.
    const fc = (CUTOFF * 0.5 * Math.min(fromRate, toRate)) / fromRate;
    const half = Math.ceil(ZERO_CROSSINGS / (2 * fc));
    const width = 2 * half;

    let table = null;
    if (up <= MAX_TABLE_PHASES) {
        table = new Float32Array(up * width);
        for (let p = 0; p < up; p += 1) taps(p / up, fc, half, table.subarray(p * width, (p + 1) * width));
    }
    const scratch = new Float32Array(width);
    const n = input.length;
    for (let i = 0; i < outLen; i += 1) {
        const num = i * down;
        const base = Math.floor(num / up);
        const phase = num - base * up;
        // The table is read at an offset (no subarray: one allocation per sample is slow).
        const h = table || taps(phase / up, fc, half, scratch);
        const off = table ? phase * width : 0;
        const first = base - half + 1;
        const lo = Math.max(0, -first);
        const hi = Math.min(width, n - first);
        let acc = 0;
        for (let j = lo; j < hi; j += 1) acc += input[first + j] * h[off + j];
        out[i] = acc;
    }
    return out;
}

// Joins the Float32Array chunks a recorder collected into one array.
export function concat(chunks) {
    let total = 0;
    for (const c of chunks) total += c.length;
    const out = new Float32Array(total);
    let at = 0;
    for (const c of chunks) {
        out.set(c, at);
        at += c.length;
    }
    return out;
}

// Encodes mono float samples (-1..1; louder is clipped) as a canonical 44-byte-header PCM
// WAV file at rate Hz, 16 bits per sample. Returns an ArrayBuffer.
export function encodeWav(samples, rate) {
    const dataBytes = samples.length * 2;
    const buf = new ArrayBuffer(44 + dataBytes);
    const v = new DataView(buf);
    const ascii = (at, text) => {
        for (let i = 0; i < text.length; i += 1) v.setUint8(at + i, text.charCodeAt(i));
    };
    ascii(0, 'RIFF');
    v.setUint32(4, 36 + dataBytes, true);
    ascii(8, 'WAVE');
    ascii(12, 'fmt ');
    v.setUint32(16, 16, true);          // fmt chunk size
    v.setUint16(20, 1, true);           // PCM
    v.setUint16(22, 1, true);           // mono
    v.setUint32(24, rate, true);
    v.setUint32(28, rate * 2, true);    // bytes per second
    v.setUint16(32, 2, true);           // bytes per frame
    v.setUint16(34, 16, true);          // bits per sample
    ascii(36, 'data');
    v.setUint32(40, dataBytes, true);
    for (let i = 0, at = 44; i < samples.length; i += 1, at += 2) {
        const s = Math.max(-1, Math.min(1, samples[i] || 0));
        v.setInt16(at, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
    }
    return buf;
}

// Everything the page does to a recording: float samples at rate -> 16 kHz 16-bit WAV.
export function toSpeechWav(samples, rate) {
    return encodeWav(resample(samples, rate, STT_RATE), STT_RATE);
}
