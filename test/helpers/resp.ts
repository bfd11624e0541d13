/**
 * Just enough of the Redis protocol (RESP2, what ioredis speaks by default) to cut a byte stream
 * into whole frames, for the fault proxy: it forwards frame by frame and matches commands and
 * replies by their content.
 */

/** A decoded frame: a simple or bulk string, an integer, an error, null, or an array of these. */
export type RespValue = string | number | RespError | null | RespValue[];

export class RespError {
  constructor(readonly message: string) {}
}

/** One whole frame at the head of a buffer: its value and its length in bytes. */
export interface RespFrame {
  value: RespValue;
  end: number;
}

const CRLF = 0x0d;

/** Reads one frame starting at `start`; undefined when the buffer does not hold all of it yet. */
export function readFrame(buf: Buffer, start = 0): RespFrame | undefined {
  if (start >= buf.length) return undefined;
  const lineEnd = buf.indexOf(CRLF, start);
  if (lineEnd < 0 || lineEnd + 1 >= buf.length) return undefined;
  const type = String.fromCharCode(buf[start]);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RespError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (next + length + 2 > buf.length) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = readFrame(buf, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`resp: unexpected frame type ${JSON.stringify(type)} (inline commands?)`);
  }
}

/**
 * Cuts a stream into frames as its chunks arrive: `push` a chunk, get the frames it completed,
 * each with its bytes (a frame may span chunks).
 */
export class RespReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { value: RespValue; bytes: Buffer }[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: { value: RespValue; bytes: Buffer }[] = [];
    let at = 0;
    for (;;) {
      const frame = readFrame(this.pending, at);
      if (!frame) break;
      out.push({ value: frame.value, bytes: this.pending.subarray(at, frame.end) });
      at = frame.end;
    }
    this.pending = this.pending.subarray(at);
    return out;
  }
}

/** A value as text: strings and numbers as they are, anything else as JSON. */
export function respText(value: RespValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/** A command frame as its words (ioredis sends every command as an array of bulk strings). */
export function commandWords(value: RespValue): string[] {
  return Array.isArray(value) ? value.map(respText) : [];
}
