// Which parts of a picture may have changed, on a grid of 16×16 cells (the edge cells are partial).
//
// Why a grid and not a list of rectangles: a busy second brings thousands of small updates; a grid
// stays a fixed few kilobytes, marking is O(cells touched), and its cells line up with the 16×16
// blocks (and 2×2 chroma pairs) a video encoder works in, so consumers can redo just those.

export const CELL = 16;

export class Damage {
  readonly cols: number;
  readonly rows: number;
  /** 1 per cell that may have changed, row-major. */
  readonly cells: Uint8Array;

  constructor(readonly width: number, readonly height: number) {
    this.cols = Math.ceil(width / CELL);
    this.rows = Math.ceil(height / CELL);
    this.cells = new Uint8Array(this.cols * this.rows);
  }

  /** Marks the cells a rectangle touches (clipped to the picture). */
  add(x: number, y: number, w: number, h: number): void {
    const x0 = Math.max(0, x), y0 = Math.max(0, y);
    const x1 = Math.min(this.width, x + w), y1 = Math.min(this.height, y + h);
    if (x1 <= x0 || y1 <= y0) return;
    const c0 = Math.floor(x0 / CELL), c1 = Math.ceil(x1 / CELL);
    for (let r = Math.floor(y0 / CELL); r < Math.ceil(y1 / CELL); r++) {
      this.cells.fill(1, r * this.cols + c0, r * this.cols + c1);
    }
  }

  addAll(): void {
    this.cells.fill(1);
  }

  /** Marks every cell marked in `other` (a grid of the same size). */
  addFrom(other: Damage): void {
    const a = this.cells, b = other.cells;
    if (a.length !== b.length) throw new RangeError("damage grids of different sizes");
    for (let i = 0; i < a.length; i++) a[i] |= b[i];
  }

  clear(): void {
    this.cells.fill(0);
  }

  /** How many cells are marked. */
  count(): number {
    let n = 0;
    for (let i = 0; i < this.cells.length; i++) n += this.cells[i];
    return n;
  }

  /**
   * Calls `fn` with the pixel rectangle of each horizontal run of marked cells, row by row: fewer,
   * longer copies than one per cell.
   */
  runs(fn: (x: number, y: number, w: number, h: number) => void): void {
    const { cols, cells } = this;
    for (let r = 0; r < this.rows; r++) {
      const y = r * CELL, h = Math.min(CELL, this.height - y);
      for (let c = 0; c < cols; c++) {
        if (!cells[r * cols + c]) continue;
        const start = c;
        while (c + 1 < cols && cells[r * cols + c + 1]) c++;
        const x = start * CELL;
        fn(x, y, Math.min((c + 1) * CELL, this.width) - x, h);
      }
    }
  }
}
