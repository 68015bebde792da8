/**
 * A bounded buffer: once full, each push overwrites the oldest item. Memory
 * is capacity × item, whatever a container prints. `seq` numbers every item
 * ever pushed so views can keep their place while old lines fall off.
 */
export class RingBuffer<T> {
  #items: (T | undefined)[];
  #start = 0;
  #size = 0;
  #pushed = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RingBuffer capacity must be a positive whole number, got \`${capacity}\`.`);
    }
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** How many items were ever pushed (the sequence number of the next one). */
  get pushed(): number {
    return this.#pushed;
  }

  /** Sequence number of the oldest item still held. */
  get firstSeq(): number {
    return this.#pushed - this.#size;
  }

  push(item: T): void {
    const end = (this.#start + this.#size) % this.capacity;
    this.#items[end] = item;
    if (this.#size < this.capacity) this.#size++;
    else this.#start = (this.#start + 1) % this.capacity;
    this.#pushed++;
  }

  /**
   * Puts an item at position `i` (0 = oldest held), moving the newer ones up.
   * Once full, the oldest item falls off (the item itself when `i` is 0).
   * Costs the number of items after `i`: meant for late items near the end.
   */
  insert(i: number, item: T): void {
    const at = Math.max(0, Math.min(i, this.#size));
    if (at === this.#size) return this.push(item);
    if (this.#size === this.capacity) {
      if (at === 0) {
        this.#pushed++;
        return;
      }
      // Drop the oldest, then insert one place lower.
      this.#start = (this.#start + 1) % this.capacity;
      this.#size--;
      return this.insert(at - 1, item);
    }
    for (let k = this.#size; k > at; k--) this.#items[(this.#start + k) % this.capacity] = this.#items[(this.#start + k - 1) % this.capacity];
    this.#items[(this.#start + at) % this.capacity] = item;
    this.#size++;
    this.#pushed++;
  }

  /** The item at position `i` (0 = oldest held). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.#size) return undefined;
    return this.#items[(this.#start + i) % this.capacity];
  }

  /** Items from position `from` (inclusive) to `to` (exclusive). */
  slice(from = 0, to = this.#size): T[] {
    const out: T[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.#size); i++) out.push(this.at(i) as T);
    return out;
  }

  clear(): void {
    this.#items = new Array<T | undefined>(this.capacity);
    this.#start = 0;
    this.#size = 0;
  }
}
