'use strict';
// The server as a whole: its HTTP endpoints, ServerFeatures and Gossip as the
// clients' own generated stubs see them, UNIMPLEMENTED (never a silent
// success) for what it does not do and exactly that left out of
// ServerFeatures, and a restart on the same directory keeping every event.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const { startServer, serverForFile, httpGet } = require('../harness');
const { activeClient, describeClient, collect, isUnimplemented, rejection, uniqueStream, jsonEvents } = require('../clients');

// The stubs this process's client generated from its own copy of the protos.
const generated = (name) => activeClient().generated(name);
const shared = generated('shared_pb');

const server = serverForFile();

// A unary call through a generated stub, as a promise.
function unary(ClientClass, method, request) {
  const stub = new ClientClass(`${server.host}:${server.grpcPort}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    stub[method](request, { deadline: Date.now() + 60000 }, (err, response) => {
      stub.close();
      if (err) reject(err);
      else resolve(response);
    });
  });
}

async function supportedMethods() {
  const { ServerFeaturesClient } = generated('serverfeatures_grpc_pb');
  const response = await unary(ServerFeaturesClient, 'getSupportedMethods', new shared.Empty());
  return {
    version: response.getEventStoreServerVersion(),
    methods: response.getMethodsList().map((m) => ({
      path: `${m.getServiceName()}/${m.getMethodName()}`,
      features: m.getFeaturesList(),
    })),
  };
}

describe('HTTP', () => {
  it('answers /health/live with 204, /ping and /info', async () => {
    assert.equal((await httpGet(server, '/health/live')).status, 204);
    assert.equal((await httpGet(server, '/health/live', 'HEAD')).status, 204);
    assert.equal((await httpGet(server, '/ping')).status, 200);
    const info = await httpGet(server, '/info');
    assert.equal(info.status, 200);
    const body = JSON.parse(info.body);
    assert.equal(typeof body.esVersion, 'string');
    assert.match(body.esVersion, /^\d+\.\d+\.\d+/);
    assert.equal((await httpGet(server, '/no-such-endpoint')).status, 404);
  });
});

describe('ServerFeatures and Gossip', () => {
  it('reports a numeric protocol version and the streams methods in lower case', async () => {
    const { version, methods } = await supportedMethods();
    assert.match(version, /^\d+\.\d+\.\d+$/);
    const paths = methods.map((m) => m.path);
    for (const method of ['read', 'append', 'batchappend']) {
      assert.ok(paths.includes(`event_store.client.streams.streams/${method}`), `${method} missing: ${paths}`);
    }
    for (const p of paths) assert.equal(p, p.toLowerCase());
    const read = methods.find((m) => m.path === 'event_store.client.streams.streams/read');
    assert.deepEqual([...read.features].sort(), ['events', 'position']);
  });

  it('describes one live node that is the leader, at the address the client used', async () => {
    const { GossipClient } = generated('gossip_grpc_pb');
    const info = await unary(GossipClient, 'read', new shared.Empty());
    const members = info.getMembersList();
    assert.equal(members.length, 1);
    const [me] = members;
    assert.equal(me.getState(), 8 /* Leader */);
    assert.equal(me.getIsAlive(), true);
    assert.equal(me.getHttpEndPoint().getPort(), server.grpcPort);
    assert.ok(me.getInstanceId(), 'instance id');
  });

  // Each call is made with an empty request: an implemented method answers
  // it (or rejects its content), an unimplemented one says UNIMPLEMENTED.
  const probes = [
    ['persistent_grpc_pb', 'PersistentSubscriptionsClient', 'create', 'persistent_pb', 'CreateReq',
      'event_store.client.persistent_subscriptions.persistentsubscriptions/create'],
    ['projections_grpc_pb', 'ProjectionsClient', 'create', 'projections_pb', 'CreateReq',
      'event_store.client.projections.projections/create'],
    ['users_grpc_pb', 'UsersClient', 'create', 'users_pb', 'CreateReq', 'event_store.client.users.users/create'],
    ['operations_grpc_pb', 'OperationsClient', 'startScavenge', 'operations_pb', 'StartScavengeReq',
      'event_store.client.operations.operations/startscavenge'],
    ['streams_grpc_pb', 'StreamsClient', 'delete', 'streams_pb', 'DeleteReq', 'event_store.client.streams.streams/delete'],
    ['streams_grpc_pb', 'StreamsClient', 'tombstone', 'streams_pb', 'TombstoneReq',
      'event_store.client.streams.streams/tombstone'],
  ];
  for (const [stubModule, clientName, method, messages, requestName, path] of probes) {
    it(`advertises ${path} exactly when it is implemented`, async () => {
      const { methods } = await supportedMethods();
      const advertised = methods.some((m) => m.path === path);
      const Client = generated(stubModule)[clientName];
      const request = new (generated(messages)[requestName])();
      const outcome = await unary(Client, method, request).then(
        () => ({ code: 0 }),
        (err) => err,
      );
      assert.notEqual(outcome.code, 0, 'an empty request must not succeed silently');
      assert.equal(advertised, outcome.code !== grpc.status.UNIMPLEMENTED, `${path}: ${outcome.details}`);
    });
  }
});

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;

  it('gets UNIMPLEMENTED, not a silent success, from persistent subscriptions unless advertised', async (t) => {
    const { methods } = await supportedMethods();
    if (methods.some((m) => m.path.startsWith('event_store.client.persistent_subscriptions'))) {
      return t.skip('persistent subscriptions are advertised');
    }
    const err = await rejection(
      ctx.client.createPersistentSubscriptionToStream(
        uniqueStream('ps'),
        'group',
        lib.persistentSubscriptionToStreamSettingsFromDefaults(),
      ),
    );
    assert.ok(isUnimplemented(err), `${err.name}: ${err.message}`);
  });

  it('sees its appends and reads in /metrics, /stats and /gossip', async () => {
    // The series of one counter, 0 when absent (a call series appears with
    // its first call).
    const sample = (text, series) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : 0;
    };
    const before = (await httpGet(server, '/metrics')).body;
    const stream = uniqueStream('metrics');
    await ctx.client.appendToStream(stream, jsonEvents(lib, 3));
    await collect(ctx.client.readStream(stream));
    const metrics = await httpGet(server, '/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(metrics.body, /^# TYPE cairn_sync_duration_seconds histogram$/m);
    assert.ok(sample(metrics.body, 'cairn_written_events_total') - sample(before, 'cairn_written_events_total') >= 3);
    assert.ok(sample(metrics.body, 'cairn_reads_total{kind="stream"}') > sample(before, 'cairn_reads_total{kind="stream"}'));
    assert.ok(sample(metrics.body, 'cairn_grpc_calls_total{method="Streams.Read",code="OK"}') >= 1);
    const stats = JSON.parse((await httpGet(server, '/stats')).body);
    assert.ok(stats.store.events >= 3);
    assert.ok(stats.activity.eventsWritten >= 3);
    const gossip = JSON.parse((await httpGet(server, '/gossip')).body);
    assert.equal(gossip.members.length, 1);
    assert.equal(gossip.members[0].state, 'Leader');
    assert.equal(gossip.members[0].httpEndPointPort, server.grpcPort);
  });

  if (typeof lib.KurrentDBClient === 'function') {
    it('is told multi-stream appends are unsupported (no v2 protocol advertised)', async () => {
      const err = await rejection(
        ctx.client.multiStreamAppend([{ streamName: uniqueStream('v2'), events: jsonEvents(lib, 1), expectedState: lib.ANY }]),
      );
      assert.ok(err instanceof lib.UnsupportedError, `${err.name}: ${err.message}`);
    });
  }
});

describe('a scavenge on a throttled server', () => {
  // cairn serve's own pacing flags change how the scavenge runs, not what
  // the clients see: StartScavenge answers as always, and the tombstoned
  // stream's events leave $all while the official client reads on.
  it('answers StartScavenge with Started and removes a tombstoned stream', async () => {
    const paced = await startServer({
      extraArgs: ['--scavenge-throttle-percent', '50', '--scavenge-bytes-per-sync', '4096'],
    });
    const flavour = activeClient();
    const c = flavour.connect(paced);
    try {
      const gone = uniqueStream('scavenged');
      const kept = uniqueStream('kept');
      await c.appendToStream(gone, jsonEvents(flavour.lib, 20), flavour.appendOptions(flavour.lib.NO_STREAM));
      await c.appendToStream(kept, jsonEvents(flavour.lib, 3), flavour.appendOptions(flavour.lib.NO_STREAM));
      await c.tombstoneStream(gone);
      const inAll = async () => (await collect(c.readAll())).filter((e) => e.event && e.event.streamId === gone).length;
      assert.equal(await inAll(), 21);

      const { OperationsClient } = generated('operations_grpc_pb');
      const ops = generated('operations_pb');
      const request = new ops.StartScavengeReq();
      const options = new ops.StartScavengeReq.Options();
      options.setThreadCount(1);
      options.setStartFromChunk(0);
      request.setOptions(options);
      const stub = new OperationsClient(`${paced.host}:${paced.grpcPort}`, grpc.credentials.createInsecure());
      const started = await new Promise((resolve, reject) => {
        stub.startScavenge(request, { deadline: Date.now() + 60000 }, (err, response) => {
          stub.close();
          if (err) reject(err);
          else resolve(response);
        });
      });
      assert.equal(started.getScavengeResult(), ops.ScavengeResp.ScavengeResult.STARTED);
      assert.match(started.getScavengeId(), /^[0-9a-f-]{36}$/);
      // Each pass is a full read of $all; it ends once only the tombstone
      // is left, which the scavenge (running in the background) brings.
      while ((await inAll()) !== 1);
      const events = await collect(c.readStream(kept));
      assert.equal(events.length, 3);
      const err = await rejection(collect(c.readStream(gone)));
      assert.ok(err instanceof flavour.lib.StreamDeletedError, `${err.name}: ${err.message}`);
    } finally {
      await c.dispose();
      assert.deepEqual(await paced.stop(), { code: 0, signal: null }, paced.output());
    }
  });
});

describe('restart', () => {
  it('keeps every acknowledged event across a SIGTERM and a reopen', async () => {
    const first = await startServer();
    const flavour = activeClient();
    const stream = uniqueStream('restart');
    let c = flavour.connect(first);
    const appended = await c.appendToStream(stream, jsonEvents(flavour.lib, 100), flavour.appendOptions(flavour.lib.NO_STREAM));
    const earlier = await collect(c.readAll());
    await c.dispose();
    assert.deepEqual(await first.stop({ keepDir: true }), { code: 0, signal: null }, first.output());

    const second = await startServer({ dir: first.dir });
    c = flavour.connect(second);
    try {
      const later = await collect(c.readAll());
      assert.deepEqual(
        later.slice(0, earlier.length).map((e) => [e.event.id, e.event.position.commit]),
        earlier.map((e) => [e.event.id, e.event.position.commit]),
      );
      const events = await collect(c.readStream(stream));
      assert.equal(events.length, 100);
      const next = await c.appendToStream(stream, jsonEvents(flavour.lib, 1), flavour.appendOptions(appended.nextExpectedRevision));
      assert.equal(next.nextExpectedRevision, 100n);
    } finally {
      await c.dispose();
      assert.deepEqual(await second.stop(), { code: 0, signal: null }, second.output());
    }
  });
});
