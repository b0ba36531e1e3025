'use strict';
// Reads through both official clients: a stream and $all, forwards and
// backwards, from start, end, a revision or a position, with a count; a stream
// that does not exist; filtered $all reads; the bootstrap system events of a
// fresh database.

const { it, before } = require('node:test');
const assert = require('node:assert/strict');
const { serverForFile } = require('../harness');
const { describeClient, collect, rejection, uniqueStream, jsonEvents } = require('../clients');

const server = serverForFile();

const revisions = (events) => events.map((e) => Number(e.event.revision));
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const { START, END, FORWARDS, BACKWARDS, NO_STREAM, StreamNotFoundError } = lib;

  let stream;
  const appended = [];
  before(async () => {
    stream = uniqueStream('read');
    // 20 events in four appends, so that positions come from several writes.
    for (let k = 0; k < 4; k++) {
      const events = jsonEvents(lib, 5, k % 2 ? 'Odd' : 'Even', { k });
      const result = await ctx.client.appendToStream(stream, events, flavour.appendOptions(k === 0 ? NO_STREAM : BigInt(5 * k - 1)));
      appended.push(result);
    }
  });

  it('reads a stream forwards from the start', async () => {
    const events = await collect(ctx.client.readStream(stream, { fromRevision: START, direction: FORWARDS }));
    assert.deepEqual(revisions(events), range(0, 20));
    const commits = events.map((e) => e.event.position.commit);
    for (let i = 1; i < commits.length; i++) assert.ok(commits[i] > commits[i - 1]);
    assert.equal(commits[19], appended[3].position.commit);
    assert.equal(events[0].link, undefined);
  });

  it('reads a stream backwards from the end', async () => {
    const events = await collect(ctx.client.readStream(stream, { fromRevision: END, direction: BACKWARDS }));
    assert.deepEqual(revisions(events), range(0, 20).reverse());
  });

  it('reads a stream from a revision with a count, both ways', async () => {
    const fwd = await collect(ctx.client.readStream(stream, { fromRevision: 5n, maxCount: 3 }));
    assert.deepEqual(revisions(fwd), [5, 6, 7]);
    const bwd = await collect(
      ctx.client.readStream(stream, { fromRevision: 5n, direction: BACKWARDS, maxCount: 3 }),
    );
    assert.deepEqual(revisions(bwd), [5, 4, 3]);
    const tail = await collect(ctx.client.readStream(stream, { fromRevision: 18n, maxCount: 10 }));
    assert.deepEqual(revisions(tail), [18, 19]);
    const past = await collect(ctx.client.readStream(stream, { fromRevision: 100n }));
    assert.deepEqual(past, []);
    const backFromEnd = await collect(
      ctx.client.readStream(stream, { fromRevision: END, direction: BACKWARDS, maxCount: 2 }),
    );
    assert.deepEqual(revisions(backFromEnd), [19, 18]);
  });

  it('reports a stream that does not exist as StreamNotFoundError', async () => {
    for (const options of [{}, { direction: BACKWARDS, fromRevision: END }]) {
      const err = await rejection(collect(ctx.client.readStream(uniqueStream('missing'), options)));
      assert.ok(err instanceof StreamNotFoundError, `${err.name}: ${err.message}`);
    }
  });

  it('reads $all forwards from the start, in position order', async () => {
    const events = await collect(ctx.client.readAll({ fromPosition: START, direction: FORWARDS }));
    const commits = events.map((e) => e.event.position.commit);
    for (let i = 1; i < commits.length; i++) assert.ok(commits[i] > commits[i - 1], `at ${i}`);
    const ours = events.filter((e) => e.event.streamId === stream);
    assert.deepEqual(revisions(ours), range(0, 20));
    // A fresh database holds the bootstrap system events.
    assert.ok(events.some((e) => e.event.streamId === '$users'), 'no $users event');
    assert.ok(events[0].event.streamId.startsWith('$'), events[0].event.streamId);
  });

  it('reads $all backwards from the end', async () => {
    // Nothing writes during this test: backwards is forwards reversed.
    const forwards = await collect(ctx.client.readAll());
    const backwards = await collect(ctx.client.readAll({ fromPosition: END, direction: BACKWARDS }));
    assert.deepEqual(
      backwards.map((e) => e.event.id),
      forwards.map((e) => e.event.id).reverse(),
    );
    const lastTwo = await collect(ctx.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 2 }));
    assert.deepEqual(
      lastTwo.map((e) => e.event.id),
      backwards.slice(0, 2).map((e) => e.event.id),
    );
  });

  it('reads $all from a position: forwards includes it, backwards starts before it', async () => {
    const ours = (await collect(ctx.client.readStream(stream))).map((e) => e.event);
    const at = ours[10].position;
    const fwd = await collect(ctx.client.readAll({ fromPosition: at, maxCount: 3 }));
    assert.deepEqual(
      fwd.map((e) => e.event.id),
      ours.slice(10, 13).map((e) => e.id),
    );
    const bwd = await collect(ctx.client.readAll({ fromPosition: at, direction: BACKWARDS, maxCount: 3 }));
    assert.deepEqual(
      bwd.map((e) => e.event.id),
      ours.slice(7, 10).reverse().map((e) => e.id),
    );
  });

  it('reads the bootstrap $users stream of a fresh database', async () => {
    const users = await collect(ctx.client.readStream('$users'));
    assert.ok(users.length > 0);
  });

  it('filters $all reads by stream prefix, type prefix and regex', { skip: !flavour.readAllFilters && 'readAll takes no filter in this client' }, async () => {
    const { streamNameFilter, eventTypeFilter, excludeSystemEvents } = lib;
    const byStream = await collect(ctx.client.readAll({ filter: streamNameFilter({ prefixes: [stream] }) }));
    assert.deepEqual(revisions(byStream), range(0, 20));
    const byRegex = await collect(
      ctx.client.readAll({ filter: streamNameFilter({ regex: `^${stream}$` }), direction: BACKWARDS, fromPosition: END }),
    );
    assert.deepEqual(revisions(byRegex), range(0, 20).reverse());
    const byType = await collect(ctx.client.readAll({ filter: eventTypeFilter({ prefixes: ['Od'] }) }));
    const oddOfOurs = byType.filter((e) => e.event.streamId === stream);
    assert.deepEqual(revisions(oddOfOurs), [...range(5, 10), ...range(15, 20)]);
    assert.ok(byType.every((e) => e.event.type.startsWith('Od')));
    const noSystem = await collect(ctx.client.readAll({ filter: excludeSystemEvents() }));
    assert.ok(noSystem.length >= 20);
    assert.ok(noSystem.every((e) => !e.event.type.startsWith('$')));
    const limited = await collect(ctx.client.readAll({ filter: streamNameFilter({ prefixes: [stream] }), maxCount: 4 }));
    assert.deepEqual(revisions(limited), [0, 1, 2, 3]);
  });
});
