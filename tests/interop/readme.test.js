'use strict';
// The README's Node example (the block between the node-example markers,
// verbatim) runs against a fresh server and prints what the README promises.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { serverForFile } = require('./harness');

const server = serverForFile();

function readmeExample() {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = /<!-- node-example:begin -->\n```js\n([\s\S]*?)```\n<!-- node-example:end -->/.exec(readme);
  assert.ok(block, 'README.md has no node-example block');
  return block[1];
}

it('runs the README example', async () => {
  const code = readmeExample();
  const env = { ...process.env, CAIRN_URL: `kurrentdb://${server.host}:${server.grpcPort}?tls=false` };
  // From this folder, so that require() finds the pinned client.
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', code], { cwd: __dirname, env }, (err, out, errOut) => {
      if (err) reject(new Error(`${err.message}\n${errOut}`));
      else resolve(out);
    });
  });
  assert.equal(
    stdout,
    [
      'appended at revision 0',
      'retry kept revision 0',
      'conflict: the stream is at revision 0',
      'Order-5f1c@0 OrderPlaced {"sku":"cairn-1","qty":2}',
      '',
    ].join('\n'),
  );
});
