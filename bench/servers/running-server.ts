/**
 * What every bench server module exports: a `start` function that binds 127.0.0.1 on an ephemeral
 * port and returns the port and a way to stop.
 *
 * @module
 */

/** A bench server that is listening. */
export interface RunningServer {
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Starts one bench server on 127.0.0.1, port 0. */
export type StartServer = () => Promise<RunningServer>;

/** The loopback host every bench server binds and every bench client connects to. */
export const benchHost = "127.0.0.1";

/** Prefix of the line the server process prints once every server listens (then JSON ports). */
export const readyLinePrefix = "FERRY_BENCH_READY ";
