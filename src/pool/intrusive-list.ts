/**
 * A doubly linked list whose nodes live inside the objects they list, so that insertion and
 * removal anywhere are O(1) and allocate nothing. The pool keeps its waiters, idle connections
 * and shared connections in these: a waiter that times out leaves the middle of a queue of
 * thousands without a scan, and a lease/release cycle allocates no list cells.
 *
 * A node belongs to at most one list at a time (`node.list`). Moving it means removing it first.
 *
 * @module
 */

const SELF: unique symbol = Symbol("ListNode.self");

/**
 * A list cell owned by the object it carries. Create one per membership and reuse it; or extend
 * it (omitting `value`) so an object is its own cell and costs no extra allocation.
 */
export class ListNode<T> {
  /** The object this node stands for (the node itself when constructed without a value). */
  readonly value: T;
  prev: ListNode<T> | null = null;
  next: ListNode<T> | null = null;
  /** The list the node is in, or null. */
  list: IntrusiveList<T> | null = null;

  constructor(value: T = SELF as T) {
    this.value = value === SELF ? this as unknown as T : value;
  }
}

/** An ordered list of {@linkcode ListNode}s: O(1) push, unshift, shift, pop and remove. */
export class IntrusiveList<T> {
  #head: ListNode<T> | null = null;
  #tail: ListNode<T> | null = null;
  #size = 0;

  /** Number of nodes in the list. */
  get size(): number {
    return this.#size;
  }

  /** The oldest node (front), or null. */
  get first(): ListNode<T> | null {
    return this.#head;
  }

  /** The newest node (back), or null. */
  get last(): ListNode<T> | null {
    return this.#tail;
  }

  /** Appends `node` at the back. It must not be in a list. */
  push(node: ListNode<T>): void {
    this.#assertFree(node);
    node.list = this;
    node.prev = this.#tail;
    node.next = null;
    if (this.#tail === null) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#size++;
  }

  /** Inserts `node` at the front. It must not be in a list. */
  unshift(node: ListNode<T>): void {
    this.#assertFree(node);
    node.list = this;
    node.next = this.#head;
    node.prev = null;
    if (this.#head === null) this.#tail = node;
    else this.#head.prev = node;
    this.#head = node;
    this.#size++;
  }

  /** Removes `node` if it is in this list; returns whether it was. */
  remove(node: ListNode<T>): boolean {
    if (node.list !== this) return false;
    if (node.prev === null) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
    node.list = null;
    this.#size--;
    return true;
  }

  /** Removes and returns the front value, or undefined when empty. */
  shift(): T | undefined {
    const node = this.#head;
    if (node === null) return undefined;
    this.remove(node);
    return node.value;
  }

  /** Removes and returns the back value, or undefined when empty. */
  pop(): T | undefined {
    const node = this.#tail;
    if (node === null) return undefined;
    this.remove(node);
    return node.value;
  }

  /** Removes every node and returns their values, front first. */
  drain(): T[] {
    const values: T[] = [];
    let node = this.#head;
    while (node !== null) {
      const next = node.next;
      node.prev = null;
      node.next = null;
      node.list = null;
      values.push(node.value);
      node = next;
    }
    this.#head = null;
    this.#tail = null;
    this.#size = 0;
    return values;
  }

  /** Values front to back. Do not modify the list while iterating. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let node = this.#head; node !== null; node = node.next) yield node.value;
  }

  #assertFree(node: ListNode<T>): void {
    if (node.list !== null) {
      throw new Error("IntrusiveList: node is already in a list; remove it first");
    }
  }
}
