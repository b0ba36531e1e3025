'use strict';
// Appends through both official clients and both append RPCs: every
// expected-revision kind, the WrongExpectedVersion shape, idempotent retries
// with the same event ids, batches of 1 to 10 000 events, and what a read
// gives back of each field.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { serverForFile } = require('../harness');
const { describeClient, collect, rejection, uniqueStream, jsonEvents } = require('../clients');

const server = serverForFile();

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const { ANY, NO_STREAM, STREAM_EXISTS, WrongExpectedVersionError } = lib;

  const wrongVersion = async (promise) => {
    const err = await rejection(promise);
    assert.ok(err instanceof WrongExpectedVersionError, `${err.name}: ${err.message}`);
    return flavour.wrongVersion(err);
  };

  // The clients use BatchAppend when the server advertises it, and the
  // client-streaming Append when the call carries credentials (the default
  // admin's; over plaintext the Node clients do not send them, and an
  // --insecure server does not authenticate): the same expectations hold
  // for both RPCs.
  for (const [rpc, callOptions] of [
    ['BatchAppend', {}],
    ['Append', { credentials: { username: 'admin', password: 'changeit' } }],
  ]) {
    describe(rpc, () => {
      const append = (stream, events, state) =>
        ctx.client.appendToStream(stream, events, { ...callOptions, ...flavour.appendOptions(state) });

      it('appends with ANY to a new and to an existing stream', async () => {
        const stream = uniqueStream('any');
        const first = await append(stream, jsonEvents(lib, 1), ANY);
        assert.equal(first.success, true);
        assert.equal(first.nextExpectedRevision, 0n);
        const second = await append(stream, jsonEvents(lib, 2), ANY);
        assert.equal(second.nextExpectedRevision, 2n);
        assert.ok(second.position.commit > first.position.commit);
        // Without an option the clients send ANY too.
        const third = await ctx.client.appendToStream(stream, jsonEvents(lib, 1), callOptions);
        assert.equal(third.nextExpectedRevision, 3n);
      });

      it('appends with NO_STREAM once, then reports the actual revision', async () => {
        const stream = uniqueStream('nostream');
        const first = await append(stream, jsonEvents(lib, 3), NO_STREAM);
        assert.equal(first.nextExpectedRevision, 2n);
        const wev = await wrongVersion(append(stream, jsonEvents(lib, 1), NO_STREAM));
        assert.deepEqual(wev, { expected: NO_STREAM, actual: 2n });
      });

      it('appends with STREAM_EXISTS only to an existing stream', async () => {
        const stream = uniqueStream('exists');
        const wev = await wrongVersion(append(stream, jsonEvents(lib, 1), STREAM_EXISTS));
        assert.deepEqual(wev, { expected: STREAM_EXISTS, actual: NO_STREAM });
        await append(stream, jsonEvents(lib, 1), NO_STREAM);
        const ok = await append(stream, jsonEvents(lib, 1), STREAM_EXISTS);
        assert.equal(ok.nextExpectedRevision, 1n);
      });

      it('appends at an exact revision and rejects a stale or future one', async () => {
        const stream = uniqueStream('exact');
        const missing = await wrongVersion(append(stream, jsonEvents(lib, 1), 0n));
        assert.deepEqual(missing, { expected: 0n, actual: NO_STREAM });
        await append(stream, jsonEvents(lib, 3), NO_STREAM);
        const ok = await append(stream, jsonEvents(lib, 2), 2n);
        assert.equal(ok.nextExpectedRevision, 4n);
        assert.deepEqual(await wrongVersion(append(stream, jsonEvents(lib, 1), 1n)), {
          expected: 1n,
          actual: 4n,
        });
        assert.deepEqual(await wrongVersion(append(stream, jsonEvents(lib, 1), 10n)), {
          expected: 10n,
          actual: 4n,
        });
        // A failed append writes nothing.
        const events = await collect(ctx.client.readStream(stream));
        assert.equal(events.length, 5);
      });

      it('treats a retry with the same event ids as the original append', async () => {
        for (const [kind, state] of [
          ['any', ANY],
          ['no-stream', NO_STREAM],
          ['exact', 'exact'],
        ]) {
          const stream = uniqueStream(`retry-${kind}`);
          await append(stream, jsonEvents(lib, 2), ANY);
          const expected = state === 'exact' ? 1n : state;
          const target = state === NO_STREAM ? uniqueStream('retry-new') : stream;
          const events = jsonEvents(lib, 3, 'Retried');
          const original = await append(target, events, expected);
          const retried = await append(target, events, expected);
          assert.equal(retried.nextExpectedRevision, original.nextExpectedRevision, kind);
          assert.equal(retried.position.commit, original.position.commit, kind);
          const read = await collect(ctx.client.readStream(target));
          const ids = read.map((e) => e.event.id);
          assert.equal(new Set(ids).size, ids.length, `${kind}: no duplicate written`);
          assert.equal(read.filter((e) => e.event.type === 'Retried').length, 3, kind);
        }
      });

      for (const n of [1, 2, 10, 1000, 10000]) {
        it(`appends a batch of ${n} events atomically and reads them back in order`, async () => {
          const stream = uniqueStream(`batch${n}`);
          // ~500 bytes each: the 10 000-event batch spans several of the
          // client's 3 MiB BatchAppend chunks.
          const pad = 'x'.repeat(500);
          const events = jsonEvents(lib, n, 'Batched', { pad });
          const result = await append(stream, events, NO_STREAM);
          assert.equal(result.nextExpectedRevision, BigInt(n - 1));
          const read = await collect(ctx.client.readStream(stream));
          assert.equal(read.length, n);
          read.forEach((e, i) => {
            assert.equal(e.event.revision, BigInt(i));
            assert.equal(e.event.id, events[i].id);
            assert.equal(e.event.data.i, i);
          });
          // One atomic write: the positions of the batch are contiguous in
          // $all order, so the last read event carries the append's position.
          assert.equal(read[n - 1].event.position.commit, result.position.commit);
        });
      }

      it('keeps id, type, data, metadata, content type and creation time', async () => {
        const stream = uniqueStream('fields');
        const json = lib.jsonEvent({
          id: randomUUID(),
          type: 'OrderPlaced',
          data: { sku: 'cairn-1', qty: 2, nested: { ok: true } },
          metadata: { correlation: 'abc', n: 1 },
        });
        const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
        const binary = lib.binaryEvent({ type: 'Blob', data: bytes, metadata: new Uint8Array([9, 8]) });
        const start = Date.now();
        await append(stream, [json, binary], NO_STREAM);
        const [a, b] = await collect(ctx.client.readStream(stream));
        assert.equal(a.event.id, json.id);
        assert.equal(a.event.type, 'OrderPlaced');
        assert.equal(a.event.streamId, stream);
        assert.equal(a.event.isJson, true);
        assert.deepEqual(a.event.data, { sku: 'cairn-1', qty: 2, nested: { ok: true } });
        assert.deepEqual(a.event.metadata, { correlation: 'abc', n: 1 });
        assert.equal(b.event.id, binary.id);
        assert.equal(b.event.isJson, false);
        assert.deepEqual(Buffer.from(b.event.data), Buffer.from(bytes));
        assert.deepEqual(Buffer.from(b.event.metadata), Buffer.from([9, 8]));
        // created travels in .NET ticks; a wrong unit or epoch puts it years
        // away, so a minute either side of the append checks the conversion.
        const created = new Date(a.event.created).getTime();
        assert.ok(created >= start - 60000 && created <= Date.now() + 60000, String(a.event.created));
        assert.ok(b.event.position.commit > a.event.position.commit);
      });
    });
  }
});
