'use strict';
// The two official Node clients behind one small adapter, so that every suite
// runs against both. They share most of their API; the differences are the
// option name of an append's expected revision, the field names of
// WrongExpectedVersionError, and where their generated gRPC stubs live.
//
// One process loads one client: both register their generated protobuf
// classes in google-protobuf's global `proto` namespace, and whichever loads
// second replaces the first's (then the first fails inside its own message
// setters). So each *.test.js file picks a client with useClient() before it
// loads a suite, and node --test runs every file in its own process.

const { describe, before, after } = require('node:test');

// The connection string's options for `server`: plaintext, or TLS trusting
// the CA of its dev certificates (harness.js).
function defaultQuery(server) {
  return server.tls ? `tls=true&tlsCAFile=${server.caFile}` : 'tls=false';
}

// A TLS server authenticates calls and denies anonymous ones streams, so
// its clients log in as the default admin (connect's `user` is the
// "login:password@" part; '' for none); an --insecure one has neither
// (and the clients send no credentials over plaintext).
function userInfo(server) {
  return server.tls ? 'admin:changeit@' : '';
}

const FLAVOURS = {
  kurrentdb: {
    name: '@kurrent/kurrentdb-client@1.3.1',
    get lib() {
      return require('@kurrent/kurrentdb-client');
    },
    connect(server, query = defaultQuery(server), user = userInfo(server)) {
      const url = `kurrentdb://${user}${server.host}:${server.grpcPort}?${query}`;
      return this.lib.KurrentDBClient.connectionString(url);
    },
    // 1.3.1 turns it into rejectUnauthorized: false for grpc-js too.
    honoursTlsVerifyCert: true,
    appendOptions: (state) => (state === undefined ? {} : { streamState: state }),
    wrongVersion: (err) => ({ expected: err.expectedState, actual: err.actualState }),
    // readAll takes a filter only in 1.x.
    readAllFilters: true,
    // Reads go through the Rust bridge (see retryingReads).
    bridgeReads: true,
    // The client's own generated stubs, by the proto file names of 6.2.1.
    generated(proto) {
      const [, base, suffix] = /^(\w+?)(_grpc_pb|_pb)$/.exec(proto);
      const renamed = { persistent: 'persistentsubscriptions', projections: 'projectionmanagement', users: 'usermanagement' };
      return require(`@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/${renamed[base] ?? base}${suffix}`);
    },
  },
  esdb: {
    name: '@eventstore/db-client@6.2.1',
    get lib() {
      return require('@eventstore/db-client');
    },
    connect(server, query = defaultQuery(server), user = userInfo(server)) {
      const url = `esdb://${user}${server.host}:${server.grpcPort}?${query}`;
      return this.lib.EventStoreDBClient.connectionString(url);
    },
    // 6.2.1 only warns about tlsVerifyCert=false and verifies anyway.
    honoursTlsVerifyCert: false,
    appendOptions: (state) => (state === undefined ? {} : { expectedRevision: state }),
    wrongVersion: (err) => ({ expected: err.expectedVersion, actual: err.actualVersion }),
    readAllFilters: false,
    generated: (proto) => require(`@eventstore/db-client/generated/${proto}`),
  },
};

let active;
// Chooses the client of this process: 'kurrentdb' or 'esdb'.
function useClient(name) {
  if (!FLAVOURS[name]) throw new Error(`no client ${name}`);
  if (active && active !== FLAVOURS[name]) throw new Error('one client per process');
  active = FLAVOURS[name];
}

function activeClient() {
  if (!active) throw new Error('the test file did not call useClient()');
  return active;
}

// The 1.x client reads through its Rust bridge, which reports a connection
// it finds dropped as UnavailableError on that call and reconnects for the
// next (the client documents UnavailableError as transient, to be retried).
// Its reads are retried once that way: the read is issued again and the
// events already received are skipped (the reads here do not change under
// way). Each retry is reported with the server's own count of calls it
// answered UNAVAILABLE (from /metrics), and a retry is refused (the error
// stands) when the server did answer some call UNAVAILABLE: a server that
// drops calls must fail the test, only a transport drop is retried.
const RETRIED_READS = ['readStream', 'readAll'];

function isBridgeUnavailable(err) {
  return err && err.type === 'unavailable';
}

function retryingReads(client, server) {
  const retried = (name) => (...args) => {
    const first = client[name](...args);
    return new Proxy(first, {
      get(target, prop, receiver) {
        if (prop !== Symbol.asyncIterator) {
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async function* () {
          let yielded = 0;
          try {
            for await (const item of target) {
              yielded += 1;
              yield item;
            }
            return;
          } catch (err) {
            if (!isBridgeUnavailable(err)) throw err;
            if (await serverAnsweredUnavailable(server, name, yielded, err)) throw err;
          }
          let skipped = 0;
          for await (const item of client[name](...args)) {
            if (skipped < yielded) {
              skipped += 1;
              continue;
            }
            yield item;
          }
        };
      },
    });
  };
  return new Proxy(client, {
    get(target, prop) {
      if (RETRIED_READS.includes(prop)) return retried(prop);
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

// Reports the retry of read `name` after `yielded` events; true when the
// server answered some call UNAVAILABLE (or its count can not be read), so
// the read must not be retried.
async function serverAnsweredUnavailable(server, name, yielded, err) {
  let lines;
  try {
    const metrics = await require('./harness').httpGet(server, '/metrics');
    if (metrics.status !== 200) throw new Error(`it answered ${metrics.status}`);
    lines = metrics.body
      .split('\n')
      .filter((line) => line.includes('UNAVAILABLE') && !line.startsWith('#'));
  } catch (metricsErr) {
    console.error(`interop: ${name} failed with ${err.type} and /metrics failed: ${metricsErr.message}`);
    return true;
  }
  const answered = lines.filter((line) => Number(line.trim().split(/\s+/).pop()) > 0);
  console.error(
    `interop: ${name} failed with ${err.type} (${err.message}) after ${yielded} events; ` +
      `calls the server answered UNAVAILABLE: ${answered.join('; ') || 'none'}` +
      (answered.length === 0 ? '; retried once' : '; not retried'),
  );
  return answered.length > 0;
}

// Runs body(flavour, ctx) inside a describe() named after this process's
// client; ctx.client is that client connected to `server` (from before() on),
// disposed of in after().
function describeClient(server, body) {
  const flavour = activeClient();
  describe(flavour.name, () => {
    const ctx = {};
    before(() => {
      const client = flavour.connect(server);
      ctx.client = flavour.bridgeReads ? retryingReads(client, server) : client;
    });
    after(() => ctx.client.dispose());
    body(flavour, ctx);
  });
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
  useClient,
  activeClient,
  describeClient,
  isUnimplemented,
  orSkip,
  skipIfUnimplemented,
  collect,
  rejection,
  uniqueStream,
  jsonEvents,
};
