'use strict';
// The two official Node clients behind one small adapter, so that every test
// runs against both. They share most of their API; the differences are the
// option name of an append's expected revision and the field names of
// WrongExpectedVersionError.

const { describe, before, after } = require('node:test');
const kurrent = require('@kurrent/kurrentdb-client');
const esdb = require('@eventstore/db-client');

const FLAVOURS = [
  {
    name: '@kurrent/kurrentdb-client@1.3.1',
    lib: kurrent,
    connect: (server) =>
      kurrent.KurrentDBClient.connectionString(`kurrentdb://${server.host}:${server.grpcPort}?tls=false`),
    appendOptions: (state) => (state === undefined ? {} : { streamState: state }),
    wrongVersion: (err) => ({ expected: err.expectedState, actual: err.actualState }),
    // readAll takes a filter only in 1.x.
    readAllFilters: true,
  },
  {
    name: '@eventstore/db-client@6.2.1',
    lib: esdb,
    connect: (server) =>
      esdb.EventStoreDBClient.connectionString(`esdb://${server.host}:${server.grpcPort}?tls=false`),
    appendOptions: (state) => (state === undefined ? {} : { expectedRevision: state }),
    wrongVersion: (err) => ({ expected: err.expectedVersion, actual: err.actualVersion }),
    readAllFilters: false,
  },
];

// Runs body(flavour, ctx) inside a describe() per client; ctx.client is that
// client connected to `server` (from before() on), disposed of in after().
function forEachClient(server, body) {
  for (const flavour of FLAVOURS) {
    describe(flavour.name, () => {
      const ctx = {};
      before(() => {
        ctx.client = flavour.connect(server);
      });
      after(() => ctx.client.dispose());
      body(flavour, ctx);
    });
  }
}

// gRPC status UNIMPLEMENTED, as grpc-js reports it, or as the Rust bridge of
// the 1.x client words it.
function isUnimplemented(err) {
  return err && (err.code === 12 || /unimplemented|unsupported/i.test(String(err.message)));
}

// Skips the test with `need` when err is the server's UNIMPLEMENTED, so that
// the test turns on when the feature lands; returns whether it skipped.
function skipIfUnimplemented(t, err, need) {
  if (!isUnimplemented(err)) return false;
  t.skip(`needs ${need} (server answered UNIMPLEMENTED: ${err.message})`);
  return true;
}

// Runs fn(); skips the test when the server answers UNIMPLEMENTED. Any other
// error fails the test.
async function orSkip(t, need, fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    if (skipIfUnimplemented(t, err, need)) return { skipped: true };
    throw err;
  }
}

// Collects an async iterable (a read) into an array.
async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

// Awaits a promise that must reject; returns the error.
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, it succeeded');
}

let counter = 0;
// A stream name unique within the test run.
function uniqueStream(prefix = 'test') {
  counter += 1;
  return `${prefix}-${process.pid}x${counter}`;
}

function jsonEvents(lib, n, type = 'Tested', extra = {}) {
  const events = [];
  for (let i = 0; i < n; i++) {
    events.push(lib.jsonEvent({ type, data: { i, ...extra } }));
  }
  return events;
}

module.exports = {
  FLAVOURS,
  forEachClient,
  isUnimplemented,
  orSkip,
  skipIfUnimplemented,
  collect,
  rejection,
  uniqueStream,
  jsonEvents,
};
