// Reading recordings stored as age files (core/age.ts) with the appliance's identity.
//
// - ageDecrypt: a whole file, as a stream, by npm:age-encryption. A file that ends early (cut off, torn
//   by a crash mid-write, edited) errors with AgeError "truncated" after the plaintext that authenticated.
// - AgeFileReader: follows a file that is still being written (the console's live view). The library
//   decrypts a stream once, to its end; this reads chunk by chunk and returns what became readable since
//   the last poll, stopping quietly at the first chunk that does not authenticate yet.
import { Decrypter } from "age-encryption";
import { AgeError, openAgeHeader, openChunk, SEALED_CHUNK } from "./age.ts";

export const AGE_SUFFIX = ".age";
export const isAgePath = (path: string) => path.endsWith(AGE_SUFFIX);

/** The plaintext of an age stream; errors with AgeError (no_match, bad_header, truncated). */
export async function ageDecrypt(
  ciphertext: ReadableStream<Uint8Array>,
  identity: string,
): Promise<ReadableStream<Uint8Array>> {
  const d = new Decrypter();
  d.addIdentity(identity);
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await d.decrypt(ciphertext);
  } catch (e) {
    const m = (e as Error).message;
    if (/no identity matched/.test(m)) {
      throw new AgeError("no_match", "the recording is not encrypted to this appliance's identity");
    }
    throw new AgeError("bad_header", `not a readable age file: ${m}`);
  }
  // the library's own errors past the header (a tag that fails, an empty final chunk, a stream that
  // stops before a last chunk) all mean the file was cut off or altered
  const r = plain.getReader();
  let got = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const { done, value } = await r.read();
        if (done) return ctrl.close();
        got += value.length;
        ctrl.enqueue(value);
      } catch (e) {
        ctrl.error(
          new AgeError(
            "truncated",
            `the encrypted recording ends early or was altered after ${got} readable bytes (${
              (e as Error).message
            })`,
          ),
        );
      }
    },
    cancel: (reason) => r.cancel(reason),
  });
}

/** Follows a growing age file: each poll() returns the plaintext that became readable since the last. */
export class AgeFileReader {
  #key: Uint8Array | null = null;
  #pos = 0;
  #counter = 0;
  /** plaintext of the current (last so far) chunk already returned */
  #given = 0;
  #last = false;

  constructor(private readonly file: Deno.FsFile, private readonly identity: string) {}

  get sawHeader(): boolean {
    return this.#key !== null;
  }
  /** the readable part ends with a chunk sealed as the last (else: torn, or being written) */
  get endedWithLast(): boolean {
    return this.#last;
  }

  async poll(): Promise<Uint8Array> {
    if (!this.#key) {
      const h = await openAgeHeader(await this.#readAt(0, 64 * 1024 + 16), this.identity);
      if (!h) return new Uint8Array(0);
      this.#key = h.payloadKey;
      this.#pos = h.payloadStart;
    }
    const parts: Uint8Array[] = [];
    this.#last = false;
    while (true) {
      const sealed = await this.#readAt(this.#pos, SEALED_CHUNK);
      const c = sealed.length ? openChunk(this.#key, this.#counter, sealed) : null;
      if (!c) break; // not there yet, or torn
      if (c.plain.length > this.#given) parts.push(c.plain.subarray(this.#given));
      if (c.last) {
        // a last chunk may still grow, or be sealed again as a middle one, while the file is written
        this.#given = c.plain.length;
        this.#last = true;
        break;
      }
      this.#pos += SEALED_CHUNK;
      this.#counter++;
      this.#given = 0;
    }
    return concat(parts);
  }

  async #readAt(pos: number, max: number): Promise<Uint8Array> {
    await this.file.seek(pos, Deno.SeekMode.Start);
    const buf = new Uint8Array(max);
    let n = 0;
    while (n < max) {
      const r = await this.file.read(buf.subarray(n));
      if (r === null) break;
      n += r;
    }
    return buf.subarray(0, n);
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
