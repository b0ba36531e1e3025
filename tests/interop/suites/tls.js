'use strict';
// TLS: a server started with the node certificate of `cairn serve
// --dev-certs`, and clients that trust its CA file (tlsCAFile) or skip
// verification (tlsVerifyCert=false), appending and reading through every
// path each client has (grpc-js, and the Rust bridge of the 1.x client's
// reads). A plaintext client gets nothing from it, and the HTTP port answers
// over HTTPS.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { devCerts, serverForFile, httpGet } = require('../harness');
const { describeClient, collect, rejection, uniqueStream, jsonEvents } = require('../clients');

const server = serverForFile({ tls: devCerts() });

// Appends three events through `client` and reads them back from the stream
// and from $all.
async function appendAndRead(lib, client) {
  const stream = uniqueStream('tls');
  const events = jsonEvents(lib, 3, 'OverTls');
  const appended = await client.appendToStream(stream, events);
  assert.equal(appended.success, true);
  const read = await collect(client.readStream(stream));
  assert.deepEqual(
    read.map((e) => e.event.id),
    events.map((e) => e.id),
  );
  const all = await collect(client.readAll({ maxCount: 10000 }));
  assert.equal(all.filter((e) => e.event && e.event.streamId === stream).length, 3);
}

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;

  it('appends and reads trusting the CA file (tls=true&tlsCAFile=...)', async () => {
    await appendAndRead(lib, ctx.client);
  });

  it(
    'appends and reads with tlsVerifyCert=false',
    { skip: !flavour.honoursTlsVerifyCert && 'this client verifies the certificate anyway' },
    async () => {
      const client = flavour.connect(server, 'tls=true&tlsVerifyCert=false');
      try {
        await appendAndRead(lib, client);
      } finally {
        await client.dispose();
      }
    },
  );

  it('gives a plaintext client nothing', async () => {
    const client = flavour.connect(server, 'tls=false&defaultDeadline=10000');
    try {
      await rejection(client.appendToStream(uniqueStream('plain'), jsonEvents(lib, 1)));
    } finally {
      await client.dispose();
    }
  });

  it('serves the HTTP port over HTTPS with the same certificate', async () => {
    const info = await httpGet(server, '/info');
    assert.equal(info.status, 200);
    assert.equal(JSON.parse(info.body).server, 'cairn');
  });
});
