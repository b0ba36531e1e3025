'use strict';
// Error shapes the clients decode (reference §2.6), beyond WrongExpectedVersion
// (append suite), StreamNotFound (read suite) and StreamDeleted (lifecycle
// suite): MaximumAppendSizeExceeded on both append RPCs, events over the size
// limit, writes to $all, invalid positions and filters, and malformed requests
// sent through the client's own generated stubs. Every rejected write leaves
// the store unchanged.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const grpc = require('@grpc/grpc-js');
const { serverForFile } = require('../harness');
const { describeClient, collect, rejection, uniqueStream } = require('../clients');

const server = serverForFile();

// The engine's default limits, which `cairn serve` applies (docs/server.md).
const MAX_APPEND_SIZE = 32 * 1024 * 1024;
const MAX_EVENT_SIZE = 16 * 1024 * 1024;

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const { ANY, END, BACKWARDS, StreamNotFoundError, MaxAppendSizeExceededError } = lib;
  const streamsPb = flavour.generated('streams_pb');
  const sharedPb = flavour.generated('shared_pb');
  const { StreamsClient } = flavour.generated('streams_grpc_pb');

  const RPCS = [
    ['BatchAppend', {}],
    ['Append', { credentials: { username: 'admin', password: 'changeit' } }],
  ];
  const assertNotFound = async (stream) => {
    const err = await rejection(collect(ctx.client.readStream(stream)));
    assert.ok(err instanceof StreamNotFoundError, `${err.name}: ${err.message}`);
  };
  const lastInAll = async () =>
    (await collect(ctx.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })))[0]?.event.id ?? null;
  const stub = () => new StreamsClient(`${server.host}:${server.grpcPort}`, grpc.credentials.createInsecure());
  const streamId = (name) => {
    const id = new sharedPb.StreamIdentifier();
    id.setStreamName(Uint8Array.from(Buffer.from(name)));
    return id;
  };

  for (const [rpc, callOptions] of RPCS) {
    it(`rejects an append over the size limit with MaximumAppendSizeExceeded (${rpc})`, async () => {
      const stream = uniqueStream('toolarge');
      const pad = 'x'.repeat(1024 * 1024);
      const events = Array.from({ length: 34 }, (_, i) => lib.jsonEvent({ type: 'Big', data: { i, pad } }));
      const err = await rejection(ctx.client.appendToStream(stream, events, { ...callOptions, ...flavour.appendOptions(ANY) }));
      assert.ok(err instanceof MaxAppendSizeExceededError, `${err.name}: ${err.message}`);
      assert.equal(err.maxAppendSize, MAX_APPEND_SIZE);
      await assertNotFound(stream);
    });

    it(`rejects an event over the event size limit and writes nothing (${rpc})`, async () => {
      const stream = uniqueStream('bigevent');
      const event = lib.binaryEvent({ type: 'Huge', data: new Uint8Array(MAX_EVENT_SIZE + 1024) });
      const err = await rejection(ctx.client.appendToStream(stream, [event], callOptions));
      // Neither client has a type for this error: 1.x and 6.2.1 report it as
      // an unknown error carrying the server's message or status.
      assert.ok(/size|BadRequest|exceed/i.test(`${err.message} ${err._raw?.message ?? ''}`), `${err.name}: ${err.message}`);
      await assertNotFound(stream);
    });

    it(`refuses a write to $all (${rpc})`, async () => {
      const before = await lastInAll();
      const err = await rejection(ctx.client.appendToStream('$all', lib.jsonEvent({ type: 'Nope', data: {} }), callOptions));
      assert.ok(err instanceof Error, String(err));
      if (rpc === 'Append') assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
      else assert.match(err.message, /BadRequest/);
      assert.equal(await lastInAll(), before);
    });
  }

  it('rejects a $all read from a position whose commit is before its prepare', async () => {
    const err = await rejection(collect(ctx.client.readAll({ fromPosition: { commit: 1n, prepare: 5n }, maxCount: 1 })));
    // 6.2.1 reads through grpc-js and keeps the status code; 1.x reads through
    // its Rust bridge, which names the error only.
    if (err.code !== undefined) assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
  });

  it('ends a subscription with an invalid filter regex with INVALID_ARGUMENT', async () => {
    const subscription = ctx.client.subscribeToAll({ filter: lib.streamNameFilter({ regex: '(' }) });
    const err = await new Promise((resolve) => {
      subscription.on('error', resolve);
      subscription.on('data', () => resolve(new Error('an event arrived')));
    });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${err.name}: ${err.message}`);
  });

  it('answers a Read without uuid_option with INVALID_ARGUMENT', async () => {
    const options = new streamsPb.ReadReq.Options();
    const streamOptions = new streamsPb.ReadReq.Options.StreamOptions();
    streamOptions.setStreamIdentifier(streamId(uniqueStream('raw')));
    streamOptions.setStart(new sharedPb.Empty());
    options.setStream(streamOptions);
    options.setCount(10);
    options.setNoFilter(new sharedPb.Empty());
    const request = new streamsPb.ReadReq();
    request.setOptions(options);
    const client = stub();
    const err = await new Promise((resolve) => {
      const call = client.read(request);
      call.on('error', resolve);
      call.on('data', () => {});
      call.on('end', () => resolve(new Error('the read ended without an error')));
    });
    client.close();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
  });

  // A client-streaming Append through the stub: the messages given, then
  // half-close; resolves with the status error or the response.
  const rawAppend = (messages) => {
    const client = stub();
    return new Promise((resolve) => {
      const call = client.append((err, response) => {
        client.close();
        resolve(err ?? response);
      });
      for (const m of messages) call.write(m);
      call.end();
    });
  };
  const appendOptions = (stream) => {
    const options = new streamsPb.AppendReq.Options();
    options.setStreamIdentifier(streamId(stream));
    options.setAny(new sharedPb.Empty());
    const req = new streamsPb.AppendReq();
    req.setOptions(options);
    return req;
  };
  const proposed = (metadata) => {
    const message = new streamsPb.AppendReq.ProposedMessage();
    const id = new sharedPb.UUID();
    id.setString(randomUUID());
    message.setId(id);
    for (const [k, v] of Object.entries(metadata)) message.getMetadataMap().set(k, v);
    message.setData(Uint8Array.from(Buffer.from('{}')));
    message.setCustomMetadata(new Uint8Array());
    const req = new streamsPb.AppendReq();
    req.setProposedMessage(message);
    return req;
  };

  it('answers an Append without the type metadata with missing-required-metadata-property', async () => {
    const stream = uniqueStream('notype');
    const err = await rawAppend([appendOptions(stream), proposed({ 'content-type': 'application/json' })]);
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
    assert.deepEqual(err.metadata.get('exception'), ['missing-required-metadata-property']);
    assert.deepEqual(err.metadata.get('required-metadata-properties'), ['type,content-type']);
    await assertNotFound(stream);
  });

  it('answers an Append that does not start with options with INVALID_ARGUMENT', async () => {
    const err = await rawAppend([proposed({ type: 'T', 'content-type': 'application/json' })]);
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
  });

  it('answers a well-formed raw Append with the revision and position', async () => {
    const stream = uniqueStream('raw');
    const response = await rawAppend([appendOptions(stream), proposed({ type: 'T', 'content-type': 'application/json' })]);
    assert.ok(response.hasSuccess(), String(response));
    assert.equal(String(response.getSuccess().getCurrentRevision()), '0');
    const [event] = await collect(ctx.client.readStream(stream));
    assert.equal(event.event.type, 'T');
  });
});
