/**
 * Checks for numeric options, shared by every options object that takes counts, sizes and
 * durations (client, server, gateway, serving limits, admission, RPC decode limits). One place
 * writes the check and the message, so every layer refuses a bad option the same way:
 * `Invalid <Owner>.<name>: expected an integer ≥ <min>, got <value>` as an
 * `InvalidArgumentError`.
 *
 * `label` names the option as the caller's user knows it, usually `Owner.name`. Callers resolve
 * defaults themselves (`value ?? fallback`, or `integerOption` for "undefined means default"):
 * the check sees the value that will be used, the message quotes it.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";

/** `value` when it is a safe integer ≥ `min`. @throws InvalidArgumentError naming `label`. */
export function integerAtLeast(value: unknown, min: number, label: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(
      `Invalid ${label}: expected an integer ≥ ${min}, got ${String(value)}`,
    );
  }
  return value;
}

/** `value` when it is a safe integer ≥ 1. @throws InvalidArgumentError naming `label`. */
export function positiveInteger(value: unknown, label: string): number {
  return integerAtLeast(value, 1, label);
}

/**
 * `options[name]`, or `fallback` when it is undefined, checked by {@linkcode integerAtLeast}
 * under the label `owner.name`.
 */
export function integerOption<T extends object>(
  options: T,
  name: keyof T & string,
  fallback: number,
  min: number,
  owner: string,
): number {
  const value = options[name];
  return value === undefined ? fallback : integerAtLeast(value, min, `${owner}.${name}`);
}

/** `value` when it is a finite number ≥ 0 (milliseconds, say). @throws InvalidArgumentError. */
export function nonNegativeNumber(value: unknown, label: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `Invalid ${label}: expected a number ≥ 0, got ${String(value)}`,
    );
  }
  return value;
}
