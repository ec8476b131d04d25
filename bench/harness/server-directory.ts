/**
 * Where the bench servers listen, as reported by the server process once it is ready.
 *
 * @module
 */

/** Host and port of one running bench server. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/** Looks up the address of a server kind started in the server process. */
export class ServerDirectory {
  readonly #addresses: ReadonlyMap<string, ServerAddress>;

  constructor(addresses: ReadonlyMap<string, ServerAddress>) {
    this.#addresses = addresses;
  }

  /** The address of `kind`; throws if the server process was not asked to start it. */
  get(kind: string): ServerAddress {
    const address = this.#addresses.get(kind);
    if (address === undefined) {
      const known = [...this.#addresses.keys()].join(", ") || "none";
      throw new Error(
        `bench: no server of kind "${kind}" is running in the server process (running: ${known}); ` +
          `list it in the case's "servers"`,
      );
    }
    return address;
  }
}
