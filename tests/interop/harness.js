'use strict';
// Starts a fresh `cairn serve` for one test file: a temporary directory, gRPC
// and HTTP on ports the kernel picks (127.0.0.1:0), readiness taken from the
// server's own "listening on" lines, never from sleeps or polling loops.
//
//   const server = serverForFile();        // before() starts, after() stops
//   const server = await startServer();   // or by hand
//   server.grpcPort, server.httpPort, server.dir, server.output()
//   await server.stop();                   // in after(): SIGTERM, exit status
//
// Servers are plaintext (--insecure) unless started with { tls: devCerts() }:
// then both ports use TLS with the node certificate `cairn serve --dev-certs`
// made, and server.caFile is the CA clients trust.
//
// The binary is $CAIRN_BIN, or build/debug/tools/cairn of this checkout.

const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { before, after } = require('node:test');

const repoRoot = path.resolve(__dirname, '..', '..');

function cairnBinary() {
  const bin =
    process.env.CAIRN_BIN || path.join(repoRoot, 'build', 'debug', 'tools', 'cairn');
  if (!fs.existsSync(bin)) {
    throw new Error(`cairn binary not found at ${bin} (build it or set CAIRN_BIN)`);
  }
  return bin;
}

// What the server prints once the store is open and its listeners are bound:
// "... gRPC on 127.0.0.1:41234, HTTP on 127.0.0.1:41235" (one line or two;
// "grpc listening on ..." is read the same way).
const LISTENING = {
  grpc: /\bgrpc\b(?:\s+listening)?\s+on\s+([^\s,]+):(\d+)/i,
  http: /\bhttp\b(?:\s+listening)?\s+on\s+([^\s,]+):(\d+)/i,
};

// Every server this process started, so that a crashed test run leaves no
// server behind.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// A fresh directory with a CA and a node certificate for localhost and
// 127.0.0.1 (`cairn serve --dev-certs`), removed when the process exits.
function devCerts() {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-interop-certs-'));
  process.on('exit', () => fs.rmSync(parent, { recursive: true, force: true }));
  const dir = path.join(parent, 'certs');
  const made = spawnSync(cairnBinary(), ['serve', '--dev-certs', dir], { encoding: 'utf8' });
  if (made.status !== 0) {
    throw new Error(`cairn serve --dev-certs failed (${made.status}):\n${made.stderr}`);
  }
  return {
    dir,
    caFile: path.join(dir, 'ca.crt'),
    certFile: path.join(dir, 'node.crt'),
    keyFile: path.join(dir, 'node.key'),
  };
}

// dir: reopen an existing store (one a stopped server left with keepDir).
// tls: certificates from devCerts(); without them the server is --insecure.
async function startServer({ dir, extraArgs = [], tls } = {}) {
  if (dir) return startServerIn(dir, extraArgs, tls);
  // A directory made here is removed again if the server does not start.
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-interop-'));
  try {
    return await startServerIn(fresh, extraArgs, tls);
  } catch (err) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw err;
  }
}

async function startServerIn(dir, extraArgs, tls) {
  const security = tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : ['--insecure'];
  const args = ['serve', dir, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', ...security, ...extraArgs];
  const child = spawn(cairnBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);

  let output = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const ports = await new Promise((resolve, reject) => {
    const found = {};
    const onLine = (line) => {
      output += line + '\n';
      for (const [kind, pattern] of Object.entries(LISTENING)) {
        const m = pattern.exec(line);
        if (m) found[kind] = { host: m[1], port: Number(m[2]) };
      }
      if (found.grpc && found.http) resolve(found);
    };
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', onLine);
    child.on('error', reject);
    exited.then(({ code, signal }) =>
      reject(
        new Error(
          `cairn serve exited (code ${code}, signal ${signal}) before it listened:\n${output}`,
        ),
      ),
    );
  });

  const server = {
    dir,
    grpcPort: ports.grpc.port,
    httpPort: ports.http.port,
    host: '127.0.0.1',
    tls: Boolean(tls),
    caFile: tls ? tls.caFile : undefined,
    output: () => output,
    exited,
    async stop({ keepDir = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const status = await exited;
      if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };

  // The listening lines promise readiness; hold the server to it.
  const live = await httpGet(server, '/health/live');
  if (live.status !== 204) {
    await server.stop();
    throw new Error(`/health/live answered ${live.status} after the listening lines`);
  }
  return server;
}

// Over HTTPS, trusting the server's CA, when the server uses TLS.
function httpGet(server, urlPath, method = 'GET') {
  const options = { host: server.host, port: server.httpPort, path: urlPath, method };
  if (server.tls) options.ca = fs.readFileSync(server.caFile);
  return new Promise((resolve, reject) => {
    const req = (server.tls ? https : http).request(
      options,
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// The server of one test file: started in before(), stopped in after(), where
// it must exit cleanly. Its fields are there once before() has run.
function serverForFile(options) {
  const server = {};
  before(async () => {
    Object.assign(server, await startServer(options));
  });
  after(async () => {
    if (!server.stop) return;  // it never started; before() reported why
    const status = await server.stop();
    assert.deepEqual(status, { code: 0, signal: null }, server.output());
  });
  return server;
}

module.exports = { startServer, serverForFile, httpGet, cairnBinary, devCerts };
