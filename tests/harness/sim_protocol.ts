/**
 * The frames between the stand-in libSystem (tests/harness/libsystem_standin.c) and the simulator
 * process: u32 little-endian payload length, u8 kind, payload. The numbers match the C enum.
 */

export const Frame = {
  HELLO: 1,
  WRITE: 2,
  RESULT: 3,
  DELIVER: 4,
  SYSCTL: 5,
  SYSCTL_REPLY: 6,
  NAMETOINDEX: 7,
  INDEXTONAME: 9,
  NAME_REPLY: 10,
  /** Tests' control channel: a JSON request, answered by CONTROL_REPLY with JSON. */
  CONTROL: 11,
  CONTROL_REPLY: 12,
} as const;

/** HELLO's mode byte. */
export const HelloMode = { ROUTE_SOCKET: 0, QUERY: 1, CONTROL: 2 } as const;

export function encodeFrame(kind: number, payload: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, true);
  out[4] = kind;
  out.set(payload, 5);
  return out;
}

/** Reads whole frames from a byte stream. */
export class FrameReader {
  #buffer = new Uint8Array(0);
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next frame, or null at end of stream. */
  async next(): Promise<{ kind: number; payload: Uint8Array } | null> {
    for (;;) {
      if (this.#buffer.length >= 5) {
        const length = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getUint32(
          0,
          true,
        );
        if (this.#buffer.length >= 5 + length) {
          const kind = this.#buffer[4]!;
          const payload = this.#buffer.slice(5, 5 + length);
          this.#buffer = this.#buffer.slice(5 + length);
          return { kind, payload };
        }
      }
      const { value, done } = await this.#reader.read();
      if (done || !value) return null;
      const joined = new Uint8Array(this.#buffer.length + value.length);
      joined.set(this.#buffer);
      joined.set(value, this.#buffer.length);
      this.#buffer = joined;
    }
  }

  release(): void {
    this.#reader.releaseLock();
  }
}

export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text: string): Uint8Array {
  const clean = text.replace(/[^0-9a-fA-F]/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
