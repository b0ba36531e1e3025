'use strict';
// Catch-up subscriptions through both official clients: to a stream and to
// $all, from the start, a revision, a position or the end; crossing from
// catch-up into live with no gap and no duplicate while other clients append
// (CAIRN_INTEROP_EVENTS events, 100 000 by default); caught-up notices;
// filtered $all subscriptions with checkpoints, and resuming from one.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { serverForFile } = require('../harness');
const { describeClient, uniqueStream, jsonEvents } = require('../clients');

const TOTAL = Number(process.env.CAIRN_INTEROP_EVENTS || 100000);
const WRITERS = 4;
const BATCH = 250;

const server = serverForFile();

// Feeds each event of a subscription to onEvent until it returns true; `done`
// rejects on a subscription error or end. Caught-up notices are collected in
// `caughtUp`; `firstCaughtUp` resolves with the first.
function follow(subscription, onEvent) {
  const caughtUp = [];
  let caughtUpResolve;
  const firstCaughtUp = new Promise((resolve) => (caughtUpResolve = resolve));
  const done = new Promise((resolve, reject) => {
    subscription.on('caughtUp', (info) => {
      caughtUp.push(info);
      caughtUpResolve(info);
    });
    subscription.on('data', (event) => {
      try {
        if (onEvent(event)) resolve();
      } catch (err) {
        reject(err);
      }
    });
    subscription.on('error', reject);
    subscription.on('end', () => reject(new Error('the subscription ended')));
  });
  // A test that stops following early does not see later rejections.
  done.catch(() => {});
  return { done, caughtUp, firstCaughtUp };
}

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const { START, END, ANY, NO_STREAM, streamNameFilter, eventTypeFilter } = lib;


  const append = (c, stream, events, state) =>
    c.appendToStream(stream, events, flavour.appendOptions(state));

  it(`crosses from catch-up into live over ${TOTAL} events while ${WRITERS} other clients append`, async () => {
    const stream = uniqueStream('live');
    const writers = Array.from({ length: WRITERS }, () => flavour.connect(server));
    // Each writer appends its share in order, tagging events with its
    // number and a sequence; the first half lands before the subscribers
    // start, the second half while they catch up and after.
    const share = TOTAL / WRITERS;
    assert.ok(Number.isInteger(share / BATCH), 'TOTAL must split into whole batches');
    const writeRange = (from, to) =>
      Promise.all(
        writers.map(async (w, n) => {
          for (let seq = from; seq < to; seq += BATCH) {
            const events = [];
            for (let k = seq; k < seq + BATCH; k++) {
              events.push(lib.jsonEvent({ type: 'Live', data: { w: n, seq: k } }));
            }
            await append(w, stream, events, ANY);
          }
        }),
      );
    const half = Math.floor(share / BATCH / 2) * BATCH;
    await writeRange(0, half);

    // Subscriber 1: the stream, from the start.
    let nextRevision = 0n;
    const lastSeq = new Array(WRITERS).fill(-1);
    const toStream = ctx.client.subscribeToStream(stream, { fromRevision: START });
    const streamFollow = follow(toStream, (e) => {
      assert.equal(e.event.revision, nextRevision, 'stream subscription: gap or duplicate');
      nextRevision += 1n;
      const { w, seq } = e.event.data;
      assert.equal(seq, lastSeq[w] + 1, `writer ${w} out of order`);
      lastSeq[w] = seq;
      return nextRevision === BigInt(TOTAL);
    });

    // Subscriber 2: $all, from the start, unfiltered.
    let lastCommit = -1n;
    let inAll = 0n;
    const toAll = ctx.client.subscribeToAll({ fromPosition: START });
    const allFollow = follow(toAll, (e) => {
      const commit = e.event.position.commit;
      assert.ok(commit > lastCommit, `$all subscription: position ${commit} after ${lastCommit}`);
      lastCommit = commit;
      if (e.event.streamId !== stream) return false;
      assert.equal(e.event.revision, inAll, '$all subscription: gap or duplicate in the stream');
      inAll += 1n;
      return inAll === BigInt(TOTAL);
    });

    await writeRange(half, share);
    await Promise.all([streamFollow.done, allFollow.done]);
    // A subscription that chased the writers to the last event may only now
    // see that it is live: the notice follows the event, so wait for it.
    await Promise.all([streamFollow.firstCaughtUp, allFollow.firstCaughtUp]);
    await Promise.all([toStream.unsubscribe(), toAll.unsubscribe()]);
    await Promise.all(writers.map((w) => w.dispose()));
    assert.deepEqual(lastSeq, new Array(WRITERS).fill(share - 1));
  });

  it('starts after the given revision or position, and at the end with live events only', async () => {
    const stream = uniqueStream('from');
    const first = await append(ctx.client, stream, jsonEvents(lib, 5), NO_STREAM);

    const fromRevision = ctx.client.subscribeToStream(stream, { fromRevision: 2n });
    const seen = [];
    const f1 = follow(fromRevision, (e) => (seen.push(Number(e.event.revision)), seen.length === 2));

    const fromEnd = ctx.client.subscribeToStream(stream, { fromRevision: END });
    const live = [];
    const f2 = follow(fromEnd, (e) => (live.push(Number(e.event.revision)), live.length === 2));

    // first.position is that of revision 4, the first append's last event.
    const fromPosition = ctx.client.subscribeToAll({
      fromPosition: first.position,
      filter: streamNameFilter({ prefixes: [stream] }),
    });
    const afterPosition = [];
    const f3 = follow(fromPosition, (e) => (afterPosition.push(Number(e.event.revision)), afterPosition.length === 2));

    await f1.done;
    assert.deepEqual(seen, [3, 4]);
    // Once caught up, the end subscription is in place: what follows is live.
    await f2.firstCaughtUp;
    await f3.firstCaughtUp;
    assert.deepEqual(live, []);
    assert.deepEqual(afterPosition, []);
    await append(ctx.client, stream, jsonEvents(lib, 1, 'Later'), 4n);
    await append(ctx.client, stream, jsonEvents(lib, 1, 'Last'), 5n);
    await Promise.all([f2.done, f3.done]);
    assert.deepEqual(live, [5, 6]);
    assert.deepEqual(afterPosition, [5, 6]);
    await Promise.all([fromRevision.unsubscribe(), fromEnd.unsubscribe(), fromPosition.unsubscribe()]);
  });

  it('reports caught up on a stream that does not exist yet, then delivers its first events', async () => {
    const stream = uniqueStream('empty');
    const subscription = ctx.client.subscribeToStream(stream, { fromRevision: START });
    const got = [];
    const f = follow(subscription, (e) => (got.push(Number(e.event.revision)), got.length === 3));
    await f.firstCaughtUp;
    assert.deepEqual(got, []);
    await append(ctx.client, stream, jsonEvents(lib, 3), NO_STREAM);
    await f.done;
    assert.deepEqual(got, [0, 1, 2]);
    await subscription.unsubscribe();
  });

  it('says where it caught up', async () => {
    const stream = uniqueStream('caught');
    const result = await append(ctx.client, stream, jsonEvents(lib, 10), NO_STREAM);
    const subscription = ctx.client.subscribeToStream(stream, { fromRevision: START });
    const f = follow(subscription, () => false);
    const info = await f.firstCaughtUp;
    // 1.x hands the notice's revision to the caller; 6.2.1 only the event.
    if (info && info.revision !== undefined) assert.equal(info.revision, result.nextExpectedRevision);
    await subscription.unsubscribe();
  });

  for (const [kind, makeFilter] of [
    ['stream prefix', (p) => streamNameFilter({ prefixes: [p], checkpointInterval: 1, maxSearchWindow: 16 })],
    ['event type regex', (p) => eventTypeFilter({ regex: `^${p.replace(/[^A-Za-z0-9]/g, '.')}-type$`, checkpointInterval: 1, maxSearchWindow: 16 })],
  ]) {
    it(`sends checkpoints to a ${kind} filtered $all subscription; resuming from one repeats nothing`, async () => {
      const prefix = uniqueStream('chk');
      const type = `${prefix}-type`;
      const noise = uniqueStream('noise');
      // 30 matching events among 600 that do not match, then 300 more that
      // do not: the last checkpoints fall past the last match.
      for (let k = 0; k < 30; k++) {
        await append(ctx.client, `${prefix}-s`, [lib.jsonEvent({ type, data: { k } })], ANY);
        await append(ctx.client, noise, jsonEvents(lib, 20, 'Noise'), ANY);
      }
      const tail = await append(ctx.client, noise, jsonEvents(lib, 300, 'Noise'), ANY);

      const checkpoints = [];
      let onCheckpoint = () => {};
      const filter = makeFilter(prefix);
      filter.checkpointReached = (_sub, position) => {
        checkpoints.push(position);
        onCheckpoint();
      };
      const subscription = ctx.client.subscribeToAll({ fromPosition: START, filter });
      const matched = [];
      const f = follow(subscription, (e) => {
        assert.equal(e.event.type, type);
        matched.push(e.event.position.commit);
        return matched.length === 30;
      });
      await f.done;
      // The server checkpoints past the tail's position at the latest when
      // it catches up.
      await new Promise((resolve) => {
        onCheckpoint = () => {
          if (checkpoints.some((c) => c.commit >= tail.position.commit)) resolve();
        };
        onCheckpoint();
      });
      assert.equal(matched.length, 30);
      for (let i = 1; i < checkpoints.length; i++) {
        assert.ok(checkpoints[i].commit >= checkpoints[i - 1].commit, 'checkpoints go backwards');
      }
      // With a window of 16 over 900 events, checkpoints come during
      // catch-up, not only at its end.
      assert.ok(checkpoints.length >= 2, `${checkpoints.length} checkpoints`);
      await subscription.unsubscribe();

      // Resume from the last checkpoint: nothing before it comes again,
      // the next matching event does.
      const resumeAt = checkpoints[checkpoints.length - 1];
      const resumed = ctx.client.subscribeToAll({ fromPosition: resumeAt, filter: makeFilter(prefix) });
      const again = [];
      const g = follow(resumed, (e) => (again.push(e.event.data.k), true));
      await append(ctx.client, `${prefix}-s`, [lib.jsonEvent({ type, data: { k: 30 } })], ANY);
      await g.done;
      assert.deepEqual(again, [30]);
      await resumed.unsubscribe();
    });
  }
});
