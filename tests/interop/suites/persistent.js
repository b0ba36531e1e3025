'use strict';
// Persistent subscriptions (competing consumers) through both official
// clients: create to a stream and to $all with a filter, consume with acks,
// nack with retry until the event is parked, replay parked events, the
// figures of GetInfo and List, update, delete, and a server restart with
// nothing lost. Waits are on subscription messages and responses: a client
// with a buffer of one event receives the next only once the server handled
// its ack or nack of the previous one.

const { it, describe } = require('node:test');
const assert = require('node:assert/strict');
const { serverForFile, startServer } = require('../harness');
const { describeClient, activeClient, rejection, uniqueStream, jsonEvents } = require('../clients');

const server = serverForFile();

// The next `n` events of a persistent subscription (its iterator stays open).
async function take(iterator, n) {
  const events = [];
  while (events.length < n) {
    const { value, done } = await iterator.next();
    if (done) break;
    events.push(value);
  }
  return events;
}

const revisionOf = (event) => Number(event.event.revision);

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const append = (stream, events) => ctx.client.appendToStream(stream, events, flavour.appendOptions(lib.ANY));
  const fromStart = (changes = {}) =>
    lib.persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: lib.START, ...changes });

  it('consumes a stream with acks and reports the figures', async () => {
    const stream = uniqueStream('ps');
    await append(stream, jsonEvents(lib, 5));
    await ctx.client.createPersistentSubscriptionToStream(stream, 'workers', fromStart());
    const sub = ctx.client.subscribeToPersistentSubscriptionToStream(stream, 'workers', { bufferSize: 5 });
    const iterator = sub[Symbol.asyncIterator]();
    const events = await take(iterator, 5);
    assert.deepEqual(events.map(revisionOf), [0, 1, 2, 3, 4]);
    assert.deepEqual(events.map((e) => e.retryCount), [0, 0, 0, 0, 0]);
    const info = await ctx.client.getPersistentSubscriptionToStreamInfo(stream, 'workers');
    assert.equal(info.eventSource, stream);
    assert.equal(info.groupName, 'workers');
    assert.equal(info.settings.startFrom, lib.START);
    assert.equal(info.settings.consumerStrategyName, 'RoundRobin');
    assert.equal(info.stats.totalItems, 5n);
    assert.equal(info.connections.length, 1);
    assert.equal(info.connections[0].inFlightMessages, 5);
    await sub.ack(...events);
    // Its buffer was full: the next event comes once the acks were handled.
    await append(stream, jsonEvents(lib, 1));
    const [sixth] = await take(iterator, 1);
    assert.equal(revisionOf(sixth), 5);
    await sub.ack(sixth);
    const listed = await ctx.client.listPersistentSubscriptionsToStream(stream);
    assert.deepEqual(listed.map((s) => s.groupName), ['workers']);
    // A stream without groups: NOT_FOUND, as KurrentDB answers.
    const none = await rejection(ctx.client.listPersistentSubscriptionsToStream(uniqueStream('no-groups')));
    assert.ok(none instanceof lib.PersistentSubscriptionDoesNotExistError, `${none.name}: ${none.message}`);
    const all = await ctx.client.listAllPersistentSubscriptions();
    assert.ok(all.some((s) => s.eventSource === stream && s.groupName === 'workers'));
    await sub.unsubscribe();
  });

  it('retries a nacked event until it is parked, then replays it', async () => {
    const stream = uniqueStream('ps-park');
    await append(stream, jsonEvents(lib, 2));
    await ctx.client.createPersistentSubscriptionToStream(stream, 'g', fromStart({ maxRetryCount: 2 }));
    const sub = ctx.client.subscribeToPersistentSubscriptionToStream(stream, 'g', { bufferSize: 1 });
    const iterator = sub[Symbol.asyncIterator]();
    const retries = [];
    for (let i = 0; i < 3; i++) {
      const [event] = await take(iterator, 1);
      assert.equal(revisionOf(event), 0);
      retries.push(event.retryCount);
      await sub.nack(lib.RETRY, 'try again', event);
    }
    assert.deepEqual(retries, [0, 1, 2]);
    // The third nack parked it; the second event comes once it was parked.
    const [second] = await take(iterator, 1);
    assert.equal(revisionOf(second), 1);
    let info = await ctx.client.getPersistentSubscriptionToStreamInfo(stream, 'g');
    assert.equal(info.stats.parkedMessageCount, 1n);
    await sub.ack(second);
    await ctx.client.replayParkedMessagesToStream(stream, 'g');
    const [replayed] = await take(iterator, 1);
    assert.equal(revisionOf(replayed), 0);
    await sub.ack(replayed);
    // Parked explicitly, then nothing is left to replay once it is handled.
    await append(stream, jsonEvents(lib, 1));
    const [third] = await take(iterator, 1);
    await sub.nack(lib.PARK, 'poison', third);
    await append(stream, jsonEvents(lib, 1));
    const [fourth] = await take(iterator, 1);
    assert.equal(revisionOf(fourth), 3);
    info = await ctx.client.getPersistentSubscriptionToStreamInfo(stream, 'g');
    assert.equal(info.stats.parkedMessageCount, 1n);
    await sub.unsubscribe();
  });

  it('starts at the end as it was at create, with the default settings', async () => {
    const stream = uniqueStream('ps-end');
    await append(stream, jsonEvents(lib, 3));
    await ctx.client.createPersistentSubscriptionToStream(
      stream,
      'g',
      lib.persistentSubscriptionToStreamSettingsFromDefaults(),
    );
    await append(stream, jsonEvents(lib, 1));
    const sub = ctx.client.subscribeToPersistentSubscriptionToStream(stream, 'g');
    const [event] = await take(sub[Symbol.asyncIterator](), 1);
    assert.equal(revisionOf(event), 3);
    await sub.ack(event);
    const info = await ctx.client.getPersistentSubscriptionToStreamInfo(stream, 'g');
    assert.equal(info.settings.startFrom, lib.END);
    await sub.unsubscribe();
  });

  it('subscribes to $all with a stream prefix filter', async () => {
    const prefix = uniqueStream('psall');
    const group = uniqueStream('all-group');
    await ctx.client.createPersistentSubscriptionToAll(
      group,
      lib.persistentSubscriptionToAllSettingsFromDefaults({ startFrom: lib.START }),
      { filter: lib.streamNameFilter({ prefixes: [prefix] }) },
    );
    await append(`${prefix}-a`, jsonEvents(lib, 2));
    await append(uniqueStream('other'), jsonEvents(lib, 2));
    await append(`${prefix}-b`, jsonEvents(lib, 1));
    const sub = ctx.client.subscribeToPersistentSubscriptionToAll(group, { bufferSize: 10 });
    const iterator = sub[Symbol.asyncIterator]();
    const events = await take(iterator, 3);
    assert.deepEqual(
      events.map((e) => e.event.streamId),
      [`${prefix}-a`, `${prefix}-a`, `${prefix}-b`],
    );
    await sub.ack(...events);
    const info = await ctx.client.getPersistentSubscriptionToAllInfo(group);
    assert.equal(info.eventSource, '$all');
    assert.equal(info.settings.startFrom, lib.START);
    await sub.unsubscribe();
    await ctx.client.deletePersistentSubscriptionToAll(group);
  });

  it('updates and deletes, with the error shapes the clients decode', async () => {
    const stream = uniqueStream('ps-admin');
    await ctx.client.createPersistentSubscriptionToStream(stream, 'g', fromStart());
    const exists = await rejection(ctx.client.createPersistentSubscriptionToStream(stream, 'g', fromStart()));
    assert.ok(exists instanceof lib.PersistentSubscriptionExistsError, `${exists.name}: ${exists.message}`);
    await ctx.client.updatePersistentSubscriptionToStream(
      stream,
      'g',
      fromStart({ maxRetryCount: 3, consumerStrategyName: lib.PINNED }),
    );
    const info = await ctx.client.getPersistentSubscriptionToStreamInfo(stream, 'g');
    assert.equal(info.settings.maxRetryCount, 3);
    assert.equal(info.settings.consumerStrategyName, 'Pinned');
    await ctx.client.deletePersistentSubscriptionToStream(stream, 'g');
    const gone = await rejection(ctx.client.getPersistentSubscriptionToStreamInfo(stream, 'g'));
    assert.ok(gone instanceof lib.PersistentSubscriptionDoesNotExistError, `${gone.name}: ${gone.message}`);
    const missing = await rejection(ctx.client.deletePersistentSubscriptionToStream(stream, 'g'));
    assert.ok(missing instanceof lib.PersistentSubscriptionDoesNotExistError, `${missing.name}: ${missing.message}`);
  });
});

describe('persistent subscription restart', () => {
  it('resumes after a restart with no message lost', async () => {
    const flavour = activeClient();
    const { lib } = flavour;
    const stream = uniqueStream('ps-restart');
    const first = await startServer();
    let client = flavour.connect(first);
    await client.appendToStream(stream, jsonEvents(lib, 10), flavour.appendOptions(lib.ANY));
    await client.createPersistentSubscriptionToStream(
      stream,
      'g',
      lib.persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: lib.START }),
    );
    const handled = new Set();
    let sub = client.subscribeToPersistentSubscriptionToStream(stream, 'g', { bufferSize: 4 });
    let iterator = sub[Symbol.asyncIterator]();
    const before = await take(iterator, 4);
    await sub.ack(...before.slice(0, 2));
    for (const e of before.slice(0, 2)) handled.add(revisionOf(e));
    // A full buffer: the fifth event shows the two acks were handled.
    const [fifth] = await take(iterator, 1);
    assert.equal(revisionOf(fifth), 4);
    await sub.unsubscribe();
    await client.dispose();
    assert.deepEqual(await first.stop({ keepDir: true }), { code: 0, signal: null }, first.output());

    const second = await startServer({ dir: first.dir });
    client = flavour.connect(second);
    try {
      await client.appendToStream(stream, jsonEvents(lib, 2), flavour.appendOptions(lib.ANY));
      sub = client.subscribeToPersistentSubscriptionToStream(stream, 'g', { bufferSize: 20 });
      iterator = sub[Symbol.asyncIterator]();
      // Every event not acknowledged before comes again (acknowledged ones
      // may too: at-least-once), and the new ones after them.
      while (handled.size < 12) {
        const [event] = await take(iterator, 1);
        handled.add(revisionOf(event));
        await sub.ack(event);
      }
      assert.deepEqual([...handled].sort((a, b) => a - b), [...Array(12).keys()]);
      await sub.unsubscribe();
    } finally {
      await client.dispose();
      assert.deepEqual(await second.stop(), { code: 0, signal: null }, second.output());
    }
  });
});
