/** RC4 (ARCFOUR), needed by NTLM sealing; Deno's node:crypto does not offer it. A stateful stream. */
export class Rc4 {
  #s = new Uint8Array(256);
  #i = 0;
  #j = 0;

  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) throw new RangeError(`rc4: key of ${key.length} bytes`);
    const s = this.#s;
    for (let i = 0; i < 256; i++) s[i] = i;
    for (let i = 0, j = 0; i < 256; i++) {
      j = (j + s[i] + key[i % key.length]) & 0xff;
      const t = s[i];
      s[i] = s[j];
      s[j] = t;
    }
  }

  /** XOR `data` with the next keystream bytes; returns a new array, the stream advances. */
  update(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length);
    const s = this.#s;
    let i = this.#i, j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]) & 0xff;
      const t = s[i];
      s[i] = s[j];
      s[j] = t;
      out[n] = data[n] ^ s[(s[i] + s[j]) & 0xff];
    }
    this.#i = i;
    this.#j = j;
    return out;
  }
}

/** One-shot RC4K(key, data) of MS-NLMP. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Rc4(key).update(data);
}
