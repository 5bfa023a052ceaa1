// An S3-compatible server for the tests: s3rver (a real bucket on disk, S3's XML protocol) with
// what s3rver leaves out and S3 does, in a middleware in front of it: every request must carry a
// valid AWS Signature Version 4 — in the Authorization header or presigned in the query —
// recomputed with AWS's own signer (@smithy/signature-v4), presigned URLs expire, a PUT's body
// must match the x-amz-content-sha256 and the Content-MD5 it was signed with.
//
//   node fake_s3.mjs DIRECTORY BUCKET [ACCESS_KEY_ID SECRET_ACCESS_KEY]
//
// Prints "listening <port>" on a free loopback port; stops on SIGTERM or when stdin closes.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

// The tests' npm packages are installed once, in tests/sdk (tests/sdk/install.sh).
const require = createRequire(new URL('../sdk/package.json', import.meta.url));
const S3rver = require('s3rver');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [directory, bucket, accessKeyId = 'test-access-key', secretAccessKey = 'test-secret-key'] =
  process.argv.slice(2);
if (!directory || !bucket) {
  console.error('usage: node fake_s3.mjs DIRECTORY BUCKET [ACCESS_KEY_ID SECRET_ACCESS_KEY]');
  process.exit(2);
}

// s3rver knows the key id too (it checks that one exists; the secret is checked here).
DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

class Refused extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const kPayload = 'x-amz-content-sha256';
const keep = new Set([kPayload]);

// 20130524T000000Z -> Date
function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) throw new Refused(403, 'AccessDenied', 'X-Amz-Date is not a date');
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function signerFor(credential) {
  // Credential: <key id>/<yyyymmdd>/<region>/s3/aws4_request
  const [keyId, , region, service, terminal] = (credential ?? '').split('/');
  if (keyId !== accessKeyId) {
    throw new Refused(403, 'InvalidAccessKeyId', 'The AWS Access Key Id does not exist');
  }
  if (service !== 's3' || terminal !== 'aws4_request' || !region) {
    throw new Refused(403, 'AuthorizationQueryParametersError', 'bad credential scope');
  }
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

// The request as the signer sees it, with only the headers `signed` names.
function requestOf(ctx, signed, query) {
  const headers = {};
  for (const name of signed) {
    if (ctx.get(name) === '' && name !== 'host') {
      throw new Refused(403, 'AccessDenied', `signed header ${name} is missing`);
    }
    headers[name] = ctx.get(name);
  }
  const [hostname, port] = ctx.get('host').split(':');
  return {
    method: ctx.method,
    protocol: 'http:',
    hostname,
    port: port ? Number(port) : undefined,
    path: ctx.path,
    headers,
    query,
  };
}

async function checkPresigned(ctx) {
  const q = { ...ctx.query };
  const given = q['X-Amz-Signature'];
  if (q['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') {
    throw new Refused(403, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm');
  }
  const date = parseAmzDate(q['X-Amz-Date']);
  const expires = Number(q['X-Amz-Expires']);
  if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
    throw new Refused(403, 'AuthorizationQueryParametersError', 'X-Amz-Expires');
  }
  if (date.getTime() > Date.now() + 15 * 60 * 1000) {
    throw new Refused(403, 'AccessDenied', 'Request is not yet valid');
  }
  if (Date.now() > date.getTime() + expires * 1000) {
    throw new Refused(403, 'AccessDenied', 'Request has expired');
  }
  const signer = signerFor(q['X-Amz-Credential']);
  const signed = (q['X-Amz-SignedHeaders'] ?? '').split(';');
  for (const name of Object.keys(q)) {
    if (name.startsWith('X-Amz-')) delete q[name];
  }
  const request = requestOf(ctx, signed, q);
  request.headers[kPayload] = 'UNSIGNED-PAYLOAD';
  const presigned = await signer.presign(request, {
    signingDate: date,
    expiresIn: expires,
    unhoistableHeaders: keep,
    unsignableHeaders: keep,
  });
  if (presigned.query['X-Amz-Signature'] !== given) {
    throw new Refused(403, 'SignatureDoesNotMatch', 'The request signature does not match');
  }
}

async function checkHeader(ctx) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
    ctx.get('authorization'),
  );
  if (!m) throw new Refused(400, 'AuthorizationHeaderMalformed', 'bad Authorization header');
  const [, credential, signedList, given] = m;
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date')) {
    throw new Refused(403, 'AccessDenied', 'host and x-amz-date must be signed');
  }
  if (ctx.get(kPayload) === '') {
    throw new Refused(400, 'InvalidRequest', `Missing required header for this request: ${kPayload}`);
  }
  const date = parseAmzDate(ctx.get('x-amz-date'));
  if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000) {
    throw new Refused(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large');
  }
  const signer = signerFor(credential);
  const request = requestOf(ctx, signed, { ...ctx.query });
  const out = await signer.sign(request, { signingDate: date });
  const expected = /Signature=([0-9a-f]{64})/.exec(out.headers.authorization)?.[1];
  if (expected !== given) {
    throw new Refused(403, 'SignatureDoesNotMatch', 'The request signature does not match');
  }
}

// After a PUT was stored: its bytes against the signed payload hash and Content-MD5.
function checkStoredBody(ctx, s3) {
  const key = ctx.path.split('/').slice(2).map(decodeURIComponent).join('/');
  const file = s3.store.getResourcePath(bucket, key, 'object');
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const payload = ctx.get(kPayload);
  const md5 = ctx.get('content-md5');
  let refused;
  if (/^[0-9a-f]{64}$/.test(payload) && payload !== sha256) {
    refused = new Refused(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  } else if (md5 !== '' && createHash('md5').update(bytes).digest('base64') !== md5) {
    refused = new Refused(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  if (refused) {
    rmSync(file, { force: true });
    rmSync(s3.store.getResourcePath(bucket, key, 'metadata.json'), { force: true });
    rmSync(s3.store.getResourcePath(bucket, key, 'object.md5'), { force: true });
    throw refused;
  }
}

const s3 = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
  vhostBuckets: false,
});

s3.middleware.unshift(async (ctx, next) => {
  try {
    if ('X-Amz-Signature' in ctx.query) {
      await checkPresigned(ctx);
    } else if (ctx.get('authorization') !== '') {
      await checkHeader(ctx);
    } else {
      throw new Refused(403, 'AccessDenied', 'Access Denied');
    }
    await next();
    if (ctx.method === 'PUT' && ctx.status === 200) {
      checkStoredBody(ctx, s3);
    }
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    ctx.status = e.status;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.message}</Message></Error>`;
  }
});

const { port } = await s3.run();
console.log(`listening ${port}`);
const stop = () => s3.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
