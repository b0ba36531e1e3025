'use strict';
// Users and authentication over TLS (the Node clients send credentials only
// over TLS): user management through the client's own generated Users stubs
// as the default admin, a new user's credentials working through the
// client's API, wrong passwords and disabled users refused with the error
// the client decodes (AccessDeniedError, from UNAUTHENTICATED), a password
// change taking effect at once, and a non-admin denied user management.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const { devCerts, serverForFile } = require('../harness');
const { describeClient, collect, rejection, uniqueStream, jsonEvents } = require('../clients');

const server = serverForFile({ tls: devCerts() });

describeClient(server, (flavour, ctx) => {
  const { lib } = flavour;
  const pb = flavour.generated('users_pb');
  const { UsersClient } = flavour.generated('users_grpc_pb');

  // A Users call with `login`'s Basic credentials; resolves to the response,
  // or the list of responses for Details.
  const call = (login, password, method, request) => {
    const stub = new UsersClient(
      `localhost:${server.grpcPort}`,
      grpc.credentials.createSsl(fs.readFileSync(server.caFile)),
    );
    const metadata = new grpc.Metadata();
    if (login) {
      metadata.set('authorization', `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`);
    }
    const options = { deadline: Date.now() + 60000 };
    return new Promise((resolve, reject) => {
      if (method === 'details') {
        const out = [];
        const stream = stub.details(request, metadata, options);
        stream.on('data', (response) => out.push(response.getUserDetails()));
        stream.on('error', (err) => {
          stub.close();
          reject(err);
        });
        stream.on('end', () => {
          stub.close();
          resolve(out);
        });
        return;
      }
      stub[method](request, metadata, options, (err, response) => {
        stub.close();
        if (err) reject(err);
        else resolve(response);
      });
    });
  };
  const admin = (method, request) => call('admin', 'changeit', method, request);
  const request = (Type, fields) => {
    const options = new pb[Type].Options();
    for (const [key, value] of Object.entries(fields)) {
      const setter = `set${key[0].toUpperCase()}${key.slice(1)}`;
      if (Array.isArray(value)) options[`${setter}List`](value);
      else options[setter](value);
    }
    const message = new pb[Type]();
    message.setOptions(options);
    return message;
  };
  const as = (username, password) => ({ credentials: { username, password } });
  const appendAs = (username, password) =>
    ctx.client.appendToStream(uniqueStream('auth'), jsonEvents(lib, 1), as(username, password));
  const assertAccessDenied = (err) =>
    assert.ok(err instanceof lib.AccessDeniedError, `${err.name}: ${err.message}`);

  it('lists the default users to the default admin', async () => {
    const users = await admin('details', request('DetailsReq', {}));
    const logins = users.map((u) => u.getLoginName());
    assert.ok(logins.includes('admin') && logins.includes('ops'), logins.join());
    const root = users.find((u) => u.getLoginName() === 'admin');
    assert.deepEqual(root.getGroupsList(), ['$admins']);
    assert.equal(root.getDisabled(), false);
    // The server warned at its start that both keep the default password.
    for (const login of ['admin', 'ops']) {
      assert.match(server.output(), new RegExp(`WARNING: .*'${login}' still has the default password`));
    }
  });

  it('creates a user whose credentials then work, and refuses a wrong password', async () => {
    const login = uniqueStream('ann');
    await admin('create', request('CreateReq', { loginName: login, password: 'p1', fullName: 'Ann', groups: ['readers'] }));
    const [details] = await admin('details', request('DetailsReq', { loginName: login }));
    assert.equal(details.getFullName(), 'Ann');
    assert.deepEqual(details.getGroupsList(), ['readers']);
    assert.ok(BigInt(details.getLastUpdated().getTicksSinceEpoch()) > 0n);

    const appended = await appendAs(login, 'p1');
    assert.equal(appended.success, true);
    assertAccessDenied(await rejection(appendAs(login, 'wrong')));
    assertAccessDenied(await rejection(appendAs('nobody', 'p1')));
    const err = await rejection(admin('create', request('CreateReq', { loginName: login, password: 'x' })));
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION, err.message);
    assert.equal(err.metadata.get('exception')[0], 'user-conflict');
  });

  it('refuses a disabled user until it is enabled again, and a deleted one', async () => {
    const login = uniqueStream('bob');
    await admin('create', request('CreateReq', { loginName: login, password: 'pw', fullName: 'Bob' }));
    await appendAs(login, 'pw');
    await admin('disable', request('DisableReq', { loginName: login }));
    assertAccessDenied(await rejection(appendAs(login, 'pw')));
    const [details] = await admin('details', request('DetailsReq', { loginName: login }));
    assert.equal(details.getDisabled(), true);
    await admin('enable', request('EnableReq', { loginName: login }));
    assert.equal((await appendAs(login, 'pw')).success, true);
    await admin('delete', request('DeleteReq', { loginName: login }));
    assertAccessDenied(await rejection(appendAs(login, 'pw')));
    const err = await rejection(admin('details', request('DetailsReq', { loginName: login })));
    assert.equal(err.code, grpc.status.NOT_FOUND, err.message);
    assert.equal(err.metadata.get('exception')[0], 'user-not-found');
  });

  it('changes and resets passwords with immediate effect', async () => {
    const login = uniqueStream('cy');
    await admin('create', request('CreateReq', { loginName: login, password: 'old', fullName: 'Cy' }));
    await call(login, 'old', 'changePassword',
      request('ChangePasswordReq', { loginName: login, currentPassword: 'old', newPassword: 'new' }));
    assertAccessDenied(await rejection(appendAs(login, 'old')));
    assert.equal((await appendAs(login, 'new')).success, true);
    await admin('resetPassword', request('ResetPasswordReq', { loginName: login, newPassword: 'reset' }));
    assertAccessDenied(await rejection(appendAs(login, 'new')));
    const stream = uniqueStream('reads');
    await ctx.client.appendToStream(stream, jsonEvents(lib, 2), as(login, 'reset'));
    const read = await collect(ctx.client.readStream(stream, as(login, 'reset')));
    assert.equal(read.length, 2);
  });

  it('enforces stream ACLs, and changes to them at once', async () => {
    const login = uniqueStream('fay');
    await admin('create', request('CreateReq', { loginName: login, password: 'pw', fullName: 'Fay' }));
    const stream = uniqueStream('guarded');
    await ctx.client.appendToStream(stream, jsonEvents(lib, 1));
    await ctx.client.setStreamMetadata(stream, { acl: { readRoles: [login], writeRoles: ['$admins'] } });
    assert.equal((await collect(ctx.client.readStream(stream, as(login, 'pw')))).length, 1);
    assertAccessDenied(await rejection(ctx.client.appendToStream(stream, jsonEvents(lib, 1), as(login, 'pw'))));
    await ctx.client.setStreamMetadata(stream, { acl: { readRoles: ['$admins'], writeRoles: [login] } });
    assertAccessDenied(await rejection(collect(ctx.client.readStream(stream, as(login, 'pw')))));
    assert.equal((await ctx.client.appendToStream(stream, jsonEvents(lib, 1), as(login, 'pw'))).success, true);
    // $all and $-streams are for $admins by default.
    assertAccessDenied(await rejection(collect(ctx.client.readAll({ maxCount: 1, ...as(login, 'pw') }))));
    assertAccessDenied(await rejection(collect(ctx.client.readStream('$users', as(login, 'pw')))));
  });

  it('denies user management to a user outside $admins and to anonymous calls', async () => {
    const login = uniqueStream('dan');
    await admin('create', request('CreateReq', { loginName: login, password: 'pw', fullName: 'Dan' }));
    for (const [user, password] of [[login, 'pw'], [undefined, undefined]]) {
      const err = await rejection(
        call(user, password, 'create', request('CreateReq', { loginName: uniqueStream('eve'), password: 'x' })),
      );
      assert.equal(err.code, grpc.status.PERMISSION_DENIED, err.message);
      assert.equal(err.metadata.get('exception')[0], 'access-denied');
    }
    // Its own details it may read.
    const [own] = await call(login, 'pw', 'details', request('DetailsReq', { loginName: login }));
    assert.equal(own.getLoginName(), login);
    const err = await rejection(call('admin', 'wrong', 'details', request('DetailsReq', {})));
    assert.equal(err.code, grpc.status.UNAUTHENTICATED, err.message);
  });

  // Calls without credentials are refused as they start (they hold no call
  // slot while the client sends nothing): the client still decodes
  // AccessDeniedError, from an append, a read and a persistent subscription.
  it('denies streams and persistent subscriptions to a client without credentials', async () => {
    const stream = uniqueStream('anon');
    await ctx.client.appendToStream(stream, jsonEvents(lib, 1));
    await ctx.client.createPersistentSubscriptionToStream(
      stream,
      'g',
      lib.persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: lib.START }),
    );
    const anonymous = flavour.connect(server, undefined, '');
    try {
      assertAccessDenied(await rejection(anonymous.appendToStream(stream, jsonEvents(lib, 1))));
      assertAccessDenied(await rejection(collect(anonymous.readStream(stream))));
      const sub = anonymous.subscribeToPersistentSubscriptionToStream(stream, 'g');
      assertAccessDenied(await rejection(sub[Symbol.asyncIterator]().next()));
      await sub.unsubscribe().catch(() => {});
    } finally {
      await anonymous.dispose();
    }
  });
});
