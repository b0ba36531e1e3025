'use strict';
// 50 clients (each its own connection) of each official client appending at
// once: to their own streams at exact revisions and to one shared stream with
// ANY; then races on one expected revision, of which exactly one append wins.

const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { serverForFile } = require('../harness');
const { describeClient, collect, rejection, uniqueStream } = require('../clients');

const CLIENTS = 50;
const ROUNDS = 10;
const PER_APPEND = 5;

const server = serverForFile();

describeClient(server, (flavour) => {
  const { lib } = flavour;
  const { ANY, NO_STREAM, WrongExpectedVersionError } = lib;

  let clients;
  before(() => {
    clients = Array.from({ length: CLIENTS }, () => flavour.connect(server));
  });
  after(() => Promise.all(clients.map((c) => c.dispose())));

  it(`${CLIENTS} clients append concurrently to their own streams and a shared one`, async () => {
    const shared = uniqueStream('shared');
    const own = clients.map(() => uniqueStream('own'));
    await Promise.all(
      clients.map(async (c, n) => {
        for (let round = 0; round < ROUNDS; round++) {
          const events = Array.from({ length: PER_APPEND }, (_, k) =>
            lib.jsonEvent({ type: 'Own', data: { n, round, k } }),
          );
          const expected = round === 0 ? NO_STREAM : BigInt(round * PER_APPEND - 1);
          const result = await c.appendToStream(own[n], events, flavour.appendOptions(expected));
          assert.equal(result.nextExpectedRevision, BigInt((round + 1) * PER_APPEND - 1));
          await c.appendToStream(shared, lib.jsonEvent({ type: 'Shared', data: { n, round } }), flavour.appendOptions(ANY));
        }
      }),
    );

    const reader = clients[0];
    for (let n = 0; n < CLIENTS; n++) {
      const events = await collect(reader.readStream(own[n]));
      assert.equal(events.length, ROUNDS * PER_APPEND);
      events.forEach((e, i) => {
        assert.equal(e.event.revision, BigInt(i));
        assert.deepEqual(e.event.data, { n, round: Math.floor(i / PER_APPEND), k: i % PER_APPEND });
      });
    }
    const sharedEvents = await collect(reader.readStream(shared));
    assert.equal(sharedEvents.length, CLIENTS * ROUNDS);
    const nextRound = new Array(CLIENTS).fill(0);
    sharedEvents.forEach((e, i) => {
      assert.equal(e.event.revision, BigInt(i));
      const { n, round } = e.event.data;
      assert.equal(round, nextRound[n], `client ${n}'s appends out of order`);
      nextRound[n] += 1;
    });

    // $all holds every one of them once, in strictly increasing positions.
    const mine = new Set([shared, ...own]);
    const all = (await collect(reader.readAll())).filter((e) => mine.has(e.event.streamId));
    assert.equal(all.length, CLIENTS * ROUNDS * (PER_APPEND + 1));
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i].event.position.commit > all[i - 1].event.position.commit);
    }
    // An append's events are contiguous in $all: no other append interleaves.
    for (let i = 0; i < all.length; i++) {
      const e = all[i].event;
      if (e.type === 'Own' && e.data.k > 0) {
        const prev = all[i - 1].event;
        assert.equal(prev.streamId, e.streamId);
        assert.equal(prev.revision + 1n, e.revision);
      }
    }
  });

  for (const [kind, prepare, expected, actual] of [
    ['NO_STREAM on a new stream', async () => {}, NO_STREAM, 0n],
    [
      'an exact revision',
      async (c, stream) => c.appendToStream(stream, lib.jsonEvent({ type: 'First', data: {} })),
      0n,
      1n,
    ],
  ]) {
    it(`lets exactly one of ${CLIENTS} racing appends at ${kind} win`, async () => {
      const stream = uniqueStream('race');
      await prepare(clients[0], stream);
      const outcomes = await Promise.all(
        clients.map((c, n) =>
          c
            .appendToStream(stream, lib.jsonEvent({ type: 'Race', data: { n } }), flavour.appendOptions(expected))
            .then(
              (result) => ({ result }),
              (err) => ({ err }),
            ),
        ),
      );
      const winners = outcomes.filter((o) => o.result);
      assert.equal(winners.length, 1);
      for (const { err } of outcomes.filter((o) => o.err)) {
        assert.ok(err instanceof WrongExpectedVersionError, `${err.name}: ${err.message}`);
        assert.deepEqual(flavour.wrongVersion(err), { expected, actual });
      }
      const events = await collect(clients[0].readStream(stream));
      assert.equal(events.length, Number(actual) + 1);
      // A loser's retry with its own event id is not mistaken for a replay.
      const loser = outcomes.findIndex((o) => o.err);
      const err = await rejection(
        clients[loser].appendToStream(stream, lib.jsonEvent({ type: 'Race', data: { loser } }), flavour.appendOptions(expected)),
      );
      assert.ok(err instanceof WrongExpectedVersionError);
    });
  }
});

