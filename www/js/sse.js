// sse.js: a Server-Sent Events parser for fetch() streams.
//
// EventSource cannot POST, so the chat page reads the response body itself. Network reads cut
// the stream anywhere: inside an event, inside a line, between the "\r" and "\n" of a line
// break, or inside a multi-byte UTF-8 character. This parser follows the WHATWG
// "event stream interpretation" rules and keeps whatever is incomplete for the next read.
// It has no DOM dependency, so tests/browser/test_sse.mjs runs it under node.

const LINE_END = /\r\n|\r|\n/g;

export class SSEParser {
    constructor() {
        this.buf = '';          // text not yet ended by a line break
        this.data = '';         // data lines of the event being built
        this.type = '';         // its event name ('' means "message")
        this.lastId = '';
        this.started = false;   // a leading byte-order mark is dropped once
    }

    // Feed decoded text; returns the events it completed, in order: [{event, data, id}].
    push(text) {
        if (!this.started && text.length > 0) {
            this.started = true;
            if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        }
        this.buf += text;
        const events = [];
        let pos = 0;
        LINE_END.lastIndex = 0;
        for (;;) {
            const m = LINE_END.exec(this.buf);
            if (m === null) break;
            // A "\r" at the very end may be the first half of "\r\n": wait for the next read.
            if (m[0] === '\r' && m.index === this.buf.length - 1) break;
            this.line(this.buf.slice(pos, m.index), events);
            pos = m.index + m[0].length;
        }
        this.buf = this.buf.slice(pos);
        return events;
    }

    // The stream has ended. A lone "\r" still counts as a line end; an event without its
    // closing blank line is discarded, as the standard says (it may be cut off).
    end() {
        const events = [];
        if (this.buf.endsWith('\r')) this.line(this.buf.slice(0, -1), events);
        this.buf = '';
        this.data = '';
        this.type = '';
        return events;
    }

    line(line, events) {
        if (line === '') {
            if (this.data !== '') {
                events.push({
                    event: this.type || 'message',
                    data: this.data.slice(0, -1),
                    id: this.lastId,
                });
            }
            this.data = '';
            this.type = '';
            return;
        }
        if (line.charCodeAt(0) === 0x3a) return;        // ":" starts a comment (keep-alive)
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.charCodeAt(0) === 0x20) value = value.slice(1);
        if (field === 'event') this.type = value;
        else if (field === 'data') this.data += value + '\n';
        else if (field === 'id' && !value.includes('\0')) this.lastId = value;
        // "retry" and unknown fields are ignored: a fetch() stream does not reconnect.
    }
}

// Reads a fetch() body as SSE and yields each event.  Bytes are decoded with a streaming
// TextDecoder so a character split across two reads comes out whole.
export async function* readEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder('utf-8');
    const parser = new SSEParser();
    let finished = false;
    try {
        for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            yield* parser.push(decoder.decode(value, { stream: true }));
        }
        finished = true;
        yield* parser.push(decoder.decode());
        yield* parser.end();
    } finally {
        // The caller may stop early (after "done" or on an error): close the connection.
        if (!finished) reader.cancel().catch(() => {});
        reader.releaseLock();
    }
}
