/**
 * Who owns a registered stream, and so who may read it: the connection that registered it, or an
 * authenticated principal. `OneForOneStreamManager` asks here whether an owner can be registered
 * at all and whether a requesting peer may read a stream; a peer that may not read it is answered
 * exactly as for an id that never existed, so stream ids cannot be probed across connections.
 *
 * @module
 */

import { ConnectionClosedError, InvalidArgumentError } from "../errors.ts";
import type { Peer } from "./peer.ts";

/**
 * Who may read a stream: the connection that registered it (released when it closes), or an
 * authenticated principal (any connection authenticated as it; released explicitly).
 */
export type StreamOwner = Peer | string;

/** The authenticated principal of a connection, if any (`OneForOneStreamManagerOptions`). */
export type PrincipalOf = (client: Peer) => string | undefined;

/**
 * Throws unless a stream can be registered for `owner`: a non-empty principal (and a manager that
 * can tell principals, or no connection could ever read it), or a connection still open (a closed
 * one may already have released its streams, so the new one would never be).
 *
 * @throws InvalidArgumentError for an empty principal, a principal without `principalOf`, or an
 *   owner of any other type; ConnectionClosedError for a closed connection.
 */
export function assertRegistrableOwner(
  owner: StreamOwner,
  principalOf: PrincipalOf | undefined,
): void {
  if (typeof owner === "string") {
    if (owner === "") {
      throw new InvalidArgumentError("Cannot register a stream: the owner principal is empty");
    }
    if (principalOf === undefined) {
      throw new InvalidArgumentError(
        `Cannot register a stream for principal '${owner}': the manager was created without ` +
          `the principalOf option, so no connection could ever read it`,
      );
    }
  } else if (typeof owner !== "object" || owner === null) {
    throw new InvalidArgumentError(
      `Cannot register a stream: the owner must be a TransportClient or a principal string, ` +
        `got ${owner === null ? "null" : typeof owner}`,
    );
  } else if (owner.isActive === false) {
    throw new ConnectionClosedError(
      `Cannot register a stream for the connection to ${owner.remoteAddress}: it is closed`,
    );
  }
}

/** Whether `client` may read a stream of `owner`: it is that connection, or authenticated as it. */
export function mayRead(
  owner: StreamOwner,
  client: Peer,
  principalOf: PrincipalOf | undefined,
): boolean {
  if (owner === client) return true;
  return typeof owner === "string" && principalOf?.(client) === owner;
}

/** The owner as a message names it. */
export function describeOwner(owner: StreamOwner): string {
  return typeof owner === "string"
    ? `principal '${owner}'`
    : `the connection to ${owner.remoteAddress}`;
}
