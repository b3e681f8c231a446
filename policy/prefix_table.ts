// Longest-prefix match over CIDRs: one hash table per (family, prefix length) in use, probed from
// the longest length down. With the handful of lengths real deployments use (/32, /24, /16 …) a
// lookup is a few masks and Map probes, independent of the number of entries.

import { type Cidr, type IpAddress, type IpFamily, prefixMask } from "./cidr.ts";

interface FamilyTable<T> {
  /** prefix lengths present, longest first */
  lengths: number[];
  masks: bigint[];
  tables: Map<bigint, { cidr: Cidr; value: T }>[];
}

export interface PrefixMatch<T> {
  cidr: Cidr;
  value: T;
}

export class PrefixTable<T> {
  #families: Record<IpFamily, FamilyTable<T>> = {
    4: { lengths: [], masks: [], tables: [] },
    6: { lengths: [], masks: [], tables: [] },
  };
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Value stored for exactly this CIDR, creating it with `create` if absent. */
  getOrInsert(cidr: Cidr, create: () => T): T {
    const fam = this.#families[cidr.family];
    let i = fam.lengths.indexOf(cidr.prefix);
    if (i < 0) {
      i = fam.lengths.findIndex((len) => len < cidr.prefix);
      if (i < 0) i = fam.lengths.length;
      fam.lengths.splice(i, 0, cidr.prefix);
      fam.masks.splice(i, 0, prefixMask(cidr.family, cidr.prefix));
      fam.tables.splice(i, 0, new Map());
    }
    const table = fam.tables[i];
    const found = table.get(cidr.network);
    if (found) return found.value;
    const value = create();
    table.set(cidr.network, { cidr, value });
    this.#size++;
    return value;
  }

  /** Most specific entry containing `addr`, or undefined. */
  lookup(addr: IpAddress): PrefixMatch<T> | undefined {
    const fam = this.#families[addr.family];
    for (let i = 0; i < fam.lengths.length; i++) {
      const hit = fam.tables[i].get(addr.value & fam.masks[i]);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Every entry containing `addr`, most specific first. */
  lookupAll(addr: IpAddress): PrefixMatch<T>[] {
    const fam = this.#families[addr.family];
    const out: PrefixMatch<T>[] = [];
    for (let i = 0; i < fam.lengths.length; i++) {
      const hit = fam.tables[i].get(addr.value & fam.masks[i]);
      if (hit) out.push(hit);
    }
    return out;
  }

  *entries(): IterableIterator<PrefixMatch<T>> {
    for (const family of [4, 6] as const) {
      for (const table of this.#families[family].tables) yield* table.values();
    }
  }
}
