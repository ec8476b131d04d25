/**
 * The grpc-js echo service of the RPC baseline: one unary method whose request and response are
 * raw bytes (identity (de)serialisation), defined in code with `makeGenericClientConstructor`-style
 * method definitions so no protobuf compile step is needed.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import grpc from "@grpc/grpc-js";

const identity = (bytes: Buffer): Buffer => bytes;

/** `ferry.bench.Echo/Echo`: bytes in, the same bytes out. */
export const echoServiceDefinition = {
  echo: {
    path: "/ferry.bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies grpc.ServiceDefinition;

/** Client constructor for {@linkcode echoServiceDefinition}. */
export const EchoClient = grpc.makeGenericClientConstructor(echoServiceDefinition, "Echo");

/** The unary call as the generated client exposes it. */
export type EchoCall = (
  request: Buffer,
  callback: (error: grpc.ServiceError | null, response?: Buffer) => void,
) => grpc.ClientUnaryCall;
