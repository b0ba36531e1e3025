'use strict';
// $ce-<category> and $et-<type> through both official clients: reads both
// ways with links resolved to the original events, the links themselves when
// not resolving, and a catch-up subscription that goes live. The category of a
// stream is the text before its first '-'.

const { it, before } = require('node:test');
const assert = require('node:assert/strict');
const { serverForFile } = require('../harness');
const { describeClient, collect, orSkip, uniqueStream } = require('../clients');

const server = serverForFile();

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const { ANY, BACKWARDS, END, START } = lib;

  // A category and a type no other test uses; streams <cat>-a and <cat>-b
  // written interleaved: a0 b0 a1 b1 a2.
  const cat = uniqueStream('cat').replace(/-/g, '');
  const type = `${cat}Happened`;
  const order = [
    [`${cat}-a`, 0],
    [`${cat}-b`, 0],
    [`${cat}-a`, 1],
    [`${cat}-b`, 1],
    [`${cat}-a`, 2],
  ];
  before(async () => {
    for (const [stream, n] of order) {
      await ctx.client.appendToStream(stream, lib.jsonEvent({ type, data: { stream, n } }), flavour.appendOptions(ANY));
    }
  });

  const checkResolved = (events, linkStream, expected) => {
    assert.equal(events.length, expected.length);
    events.forEach((e, i) => {
      const [stream, n] = expected[i];
      assert.equal(e.event.streamId, stream);
      assert.equal(e.event.revision, BigInt(n));
      assert.equal(e.event.type, type);
      assert.deepEqual(e.event.data, { stream, n });
      assert.ok(e.link, 'the link is returned with the event');
      assert.equal(e.link.streamId, linkStream);
      assert.equal(e.link.type, '$>');
    });
    const linkRevisions = events.map((e) => Number(e.link.revision));
    return linkRevisions;
  };

  // The live event of each subscription test lands in that test's link
  // stream only: a new stream of the category with another type, or a
  // stream of another category with the type.
  for (const [name, streamOf, liveStream, liveType] of [
    ['$ce-', () => `$ce-${cat}`, `${cat}-c`, `${cat}Other`],
    ['$et-', () => `$et-${type}`, `${cat}x-c`, type],
  ]) {
    it(`reads ${name} forwards and backwards with links resolved`, async (t) => {
      const linkStream = streamOf();
      const read = await orSkip(t, `${name} streams`, () =>
        collect(ctx.client.readStream(linkStream, { resolveLinkTos: true })),
      );
      if (read.skipped) return;
      assert.deepEqual(checkResolved(read.value, linkStream, order), [0, 1, 2, 3, 4]);
      const backwards = await collect(
        ctx.client.readStream(linkStream, { resolveLinkTos: true, direction: BACKWARDS, fromRevision: END }),
      );
      assert.deepEqual(checkResolved(backwards, linkStream, [...order].reverse()), [4, 3, 2, 1, 0]);
      const some = await collect(ctx.client.readStream(linkStream, { resolveLinkTos: true, fromRevision: 3n }));
      assert.deepEqual(checkResolved(some, linkStream, order.slice(3)), [3, 4]);
    });

    it(`reads ${name} links unresolved as $> events naming the original`, async (t) => {
      const linkStream = streamOf();
      const read = await orSkip(t, `${name} streams`, () => collect(ctx.client.readStream(linkStream)));
      if (read.skipped) return;
      assert.deepEqual(
        read.value.map((e) => [e.event.type, Buffer.from(e.event.data).toString()]),
        order.map(([stream, n]) => ['$>', `${n}@${stream}`]),
      );
    });

    it(`subscribes to ${name} from the start into live, links resolved`, async (t) => {
      const linkStream = streamOf();
      const probe = await orSkip(t, `${name} streams`, () => collect(ctx.client.readStream(linkStream, { maxCount: 1 })));
      if (probe.skipped) return;
      const subscription = ctx.client.subscribeToStream(linkStream, { fromRevision: START, resolveLinkTos: true });
      const got = [];
      const done = new Promise((resolve, reject) => {
        subscription.on('data', (e) => {
          got.push([e.event.streamId, Number(e.event.revision), Number(e.link.revision)]);
          if (got.length === order.length + 1) resolve();
        });
        subscription.on('error', reject);
      });
      const caughtUp = new Promise((resolve) => subscription.once('caughtUp', resolve));
      await caughtUp;
      await ctx.client.appendToStream(liveStream, lib.jsonEvent({ type: liveType, data: {} }));
      await done;
      await subscription.unsubscribe();
      assert.deepEqual(got, [...order.map(([s, n], i) => [s, n, i]), [liveStream, 0, order.length]]);
    });
  }
});
