'use strict';
// Stream lifecycle through both official clients: metadata get/set through
// $$stream and its effect on reads, soft delete then re-append, tombstone, and
// the error shapes of each. A test whose feature the server answers with
// UNIMPLEMENTED is skipped with the feature it needs, so it turns on when the
// feature lands.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { serverForFile } = require('../harness');
const { describeClient, collect, orSkip, skipIfUnimplemented, rejection, uniqueStream, jsonEvents } = require('../clients');

const server = serverForFile();

const revisions = (events) => events.map((e) => Number(e.event.revision));

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const { ANY, NO_STREAM, StreamNotFoundError, StreamDeletedError, WrongExpectedVersionError } = lib;


  // setStreamMetadata documents `expectedRevision` in both clients, but 1.x
  // hands its options to appendToStream, which reads `streamState`: pass
  // what each client's append reads.
  const metadataOptions = (state) => flavour.appendOptions(state);
  const append = (stream, events, state) =>
    ctx.client.appendToStream(stream, events, flavour.appendOptions(state));

  it('sets and gets stream metadata through $$stream', async (t) => {
    const stream = uniqueStream('meta');
    await append(stream, jsonEvents(lib, 1), NO_STREAM);
    const none = await ctx.client.getStreamMetadata(stream);
    assert.equal(none.metadata, undefined);
    const metadata = {
      maxAge: 3600,
      cacheControl: 60,
      acl: { readRoles: ['$all'], writeRoles: ['$all'] },
      owner: 'interop',
      nested: { a: [1, 2] },
    };
    const set = await orSkip(t, 'stream metadata ($$stream writes)', () =>
      ctx.client.setStreamMetadata(stream, metadata, metadataOptions(NO_STREAM)),
    );
    if (set.skipped) return;
    assert.equal(set.value.nextExpectedRevision, 0n);
    const got = await ctx.client.getStreamMetadata(stream);
    assert.deepEqual(got.metadata, metadata);
    // The metadata stream is an ordinary stream of $metadata events.
    const raw = await collect(ctx.client.readStream(`$$${stream}`));
    assert.deepEqual(
      raw.map((e) => e.event.type),
      ['$metadata'],
    );
    assert.equal(raw[0].event.data.$maxAge, 3600);
    // Metadata writes are appends: expected revisions apply.
    const err = await rejection(ctx.client.setStreamMetadata(stream, { owner: 'x' }, metadataOptions(NO_STREAM)));
    assert.ok(err instanceof WrongExpectedVersionError, `${err.name}: ${err.message}`);
    const next = await ctx.client.setStreamMetadata(stream, { owner: 'y' }, metadataOptions(0n));
    assert.equal(next.nextExpectedRevision, 1n);
    assert.deepEqual((await ctx.client.getStreamMetadata(stream)).metadata, { owner: 'y' });
  });

  it('applies $maxCount and $tb to reads', async (t) => {
    const stream = uniqueStream('limits');
    await append(stream, jsonEvents(lib, 10), NO_STREAM);
    const set = await orSkip(t, 'stream metadata ($$stream writes)', () =>
      ctx.client.setStreamMetadata(stream, { maxCount: 3 }),
    );
    if (set.skipped) return;
    assert.deepEqual(revisions(await collect(ctx.client.readStream(stream))), [7, 8, 9]);
    await ctx.client.setStreamMetadata(stream, { truncateBefore: 5 });
    assert.deepEqual(revisions(await collect(ctx.client.readStream(stream))), [5, 6, 7, 8, 9]);
    const backwards = await collect(ctx.client.readStream(stream, { direction: lib.BACKWARDS, fromRevision: lib.END }));
    assert.deepEqual(revisions(backwards), [9, 8, 7, 6, 5]);
  });

  it('soft-deletes a stream; a new append continues its numbering', async (t) => {
    const stream = uniqueStream('softdel');
    await append(stream, jsonEvents(lib, 3), NO_STREAM);
    const deleted = await orSkip(t, 'soft delete (Streams.Delete)', () =>
      ctx.client.deleteStream(stream, { expectedRevision: 2n }),
    );
    if (deleted.skipped) return;
    assert.ok(deleted.value.position.commit > 0n);
    const err = await rejection(collect(ctx.client.readStream(stream)));
    assert.ok(err instanceof StreamNotFoundError, `${err.name}: ${err.message}`);
    const again = await append(stream, jsonEvents(lib, 2, 'Again'), ANY);
    assert.equal(again.nextExpectedRevision, 4n);
    const events = await collect(ctx.client.readStream(stream));
    assert.deepEqual(revisions(events), [3, 4]);
    assert.ok(events.every((e) => e.event.type === 'Again'));
    // $all keeps the old events: soft delete only hides them from stream reads.
    const all = await collect(ctx.client.readAll());
    const inAll = all.filter((e) => e.event.streamId === stream);
    assert.deepEqual(revisions(inAll), [0, 1, 2, 3, 4]);
  });

  it('rejects a delete at the wrong expected revision with the actual one', async (t) => {
    const stream = uniqueStream('delwev');
    await append(stream, jsonEvents(lib, 3), NO_STREAM);
    const err = await rejection(ctx.client.deleteStream(stream, { expectedRevision: 7n }));
    if (skipIfUnimplemented(t, err, 'soft delete (Streams.Delete)')) return;
    assert.ok(err instanceof WrongExpectedVersionError, `${err.name}: ${err.message}`);
    assert.equal(err.streamName, stream);
    assert.deepEqual(flavour.wrongVersion(err), { expected: 7n, actual: 2n });
    // The stream is untouched.
    assert.equal((await collect(ctx.client.readStream(stream))).length, 3);
  });

  it('tombstones a stream for good: reads, appends, deletes and subscriptions fail', async (t) => {
    const stream = uniqueStream('tomb');
    await append(stream, jsonEvents(lib, 2), NO_STREAM);
    const gone = await orSkip(t, 'tombstone (Streams.Tombstone)', () =>
      ctx.client.tombstoneStream(stream, { expectedRevision: ANY }),
    );
    if (gone.skipped) return;
    const isDeleted = (err) => {
      assert.ok(err instanceof StreamDeletedError, `${err.name}: ${err.message}`);
      assert.equal(err.streamName, stream);
    };
    isDeleted(await rejection(collect(ctx.client.readStream(stream))));
    isDeleted(await rejection(append(stream, jsonEvents(lib, 1), ANY)));
    isDeleted(await rejection(append(stream, jsonEvents(lib, 1), NO_STREAM)));
    isDeleted(await rejection(ctx.client.tombstoneStream(stream)));
    isDeleted(await rejection(ctx.client.deleteStream(stream)));
    const subscription = ctx.client.subscribeToStream(stream);
    isDeleted(await rejection(collect(subscription)));
  });

  it('rejects a tombstone at the wrong expected revision', async (t) => {
    const stream = uniqueStream('tombwev');
    await append(stream, jsonEvents(lib, 1), NO_STREAM);
    const err = await rejection(ctx.client.tombstoneStream(stream, { expectedRevision: NO_STREAM }));
    if (skipIfUnimplemented(t, err, 'tombstone (Streams.Tombstone)')) return;
    assert.ok(err instanceof WrongExpectedVersionError, `${err.name}: ${err.message}`);
    assert.deepEqual(flavour.wrongVersion(err), { expected: -1n, actual: 0n });
    assert.equal((await collect(ctx.client.readStream(stream))).length, 1);
  });
});
