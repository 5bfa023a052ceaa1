// Fake push services for the tests, with Node's built-ins only: Firebase Cloud Messaging's
// HTTP v1 API (an OAuth2 token endpoint for service-account JWTs and messages:send) on an
// HTTP/1.1 port, and Apple's APNs provider API on a cleartext HTTP/2 (h2c, prior knowledge) port.
// Each checks what the real service checks before it accepts a push: the signature and claims
// of the JWT, the bearer token, the headers and the shape of the message. Accepted pushes are
// recorded and listed, with the requests refused and why, by GET /received on the FCM port.
//
//   node fake_push.mjs [--apns-connection-per-push] FCM_PUBLIC_KEY_PEM FCM_CLIENT_EMAIL
//                      FCM_PROJECT_ID APNS_PUBLIC_KEY_PEM APNS_KEY_ID APNS_TEAM_ID APNS_TOPIC
//
// APNs keeps a client's connection open for its next pushes, as Apple's servers do; with
// --apns-connection-per-push it sends GOAWAY with each answer, so that every push comes on a new
// connection (libcurl before 8.0 fails every request after the first on a reused h2c
// prior-knowledge connection with "Error in the HTTP2 framing layer": curl/curl#10634).
//
// Device tokens starting with "bad" are unknown to the services: FCM answers 404 UNREGISTERED
// (for "bad-..."), APNs 410 Unregistered; those answers are listed as gone. APNs requests under
// /sandbox/ count as sandbox pushes.
// Prints "listening <fcm_port> <apns_port>" once both listen on loopback; stops on SIGTERM or
// when stdin closes.
import { createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const closeConnections = flags.includes('--apns-connection-per-push');
if (args.length !== 7 || flags.some((f) => f !== '--apns-connection-per-push')) {
  console.error(
    'usage: node fake_push.mjs [--apns-connection-per-push] FCM_PUBLIC_KEY FCM_CLIENT_EMAIL ' +
      'FCM_PROJECT_ID APNS_PUBLIC_KEY APNS_KEY_ID APNS_TEAM_ID APNS_TOPIC'
  );
  process.exit(2);
}
const [fcmKeyFile, clientEmail, projectId, apnsKeyFile, apnsKeyId, apnsTeamId, apnsTopic] = args;
const fcmKey = createPublicKey(readFileSync(fcmKeyFile));
const apnsKey = createPublicKey(readFileSync(apnsKeyFile));
if (fcmKey.asymmetricKeyType !== 'rsa') throw new Error('the FCM key is not an RSA key');
if (apnsKey.asymmetricKeyType !== 'ec' || apnsKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
  throw new Error('the APNs key is not a P-256 key');

const kScope = 'https://www.googleapis.com/auth/firebase.messaging';
const kMaxBody = 64 * 1024;
const kSkewSeconds = 60;

const pushes = []; // accepted: {seq, platform, token, title, body, sandbox, data}
const rejected = []; // {service, status, reason}
const gone = []; // tokens answered unknown: {platform, token}
const accessTokens = new Set(); // issued by the token endpoint
let tokenRequests = 0;
let apnsRequests = 0;
let apnsConnections = 0;
let fcmSendRequests = 0;
let fcmPort = 0;

class Refused extends Error {
  constructor(status, reason, body) {
    super(reason);
    this.status = status;
    this.body = body;
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

// A compact JWS taken apart: header, claims, the signing input and the signature's bytes.
function decodeJwt(token, status, reason) {
  const parts = (token ?? '').split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)))
    throw new Refused(status, `${reason}: not a compact JWS`);
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new Refused(status, `${reason}: header or claims are not JSON`);
  }
  const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(header) || !isObject(claims))
    throw new Refused(status, `${reason}: header or claims are not objects`);
  return {
    header,
    claims,
    input: Buffer.from(`${parts[0]}.${parts[1]}`),
    signature: Buffer.from(parts[2], 'base64url'),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > kMaxBody) {
        reject(new Refused(413, 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text, status, reason) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Refused(status, `${reason}: not JSON`);
  }
}

const isString = (v) => typeof v === 'string';

// ---- FCM

function fcmError(status, code, message, details) {
  return { error: { code: status, message, status: code, ...(details ? { details } : {}) } };
}

function tokenEndpoint(text) {
  ++tokenRequests;
  const form = new URLSearchParams(text);
  const invalid = (description) =>
    new Refused(400, `token: ${description}`, {
      error: 'invalid_grant',
      error_description: description,
    });
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
    throw invalid(`grant_type is ${JSON.stringify(form.get('grant_type'))}`);
  const jwt = decodeJwt(form.get('assertion'), 400, 'token: assertion');
  if (jwt.header.alg !== 'RS256') throw invalid(`alg is ${JSON.stringify(jwt.header.alg)}`);
  if (jwt.header.typ !== undefined && jwt.header.typ !== 'JWT')
    throw invalid(`typ is ${JSON.stringify(jwt.header.typ)}`);
  if (!verify('RSA-SHA256', jwt.input, fcmKey, jwt.signature))
    throw invalid('Invalid JWT Signature.');
  const c = jwt.claims;
  const audience = `http://127.0.0.1:${fcmPort}/token`;
  if (c.iss !== clientEmail) throw invalid(`iss is ${JSON.stringify(c.iss)}`);
  if (c.aud !== audience) throw invalid(`aud is ${JSON.stringify(c.aud)}, not ${audience}`);
  if (!isString(c.scope) || !c.scope.split(' ').includes(kScope))
    throw invalid(`scope ${JSON.stringify(c.scope)} lacks ${kScope}`);
  const now = nowSeconds();
  if (!Number.isInteger(c.iat) || !Number.isInteger(c.exp))
    throw invalid('iat and exp must be integers');
  if (c.iat > now + kSkewSeconds) throw invalid('iat is in the future');
  if (c.exp <= now) throw invalid('the JWT expired');
  if (c.exp - c.iat > 3600) throw invalid('exp is more than an hour after iat');
  const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
  accessTokens.add(accessToken);
  return { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' };
}

function messagesSend(req, project, text) {
  ++fcmSendRequests;
  const auth = req.headers.authorization ?? '';
  const m = /^Bearer (\S+)$/.exec(auth);
  if (!m || !accessTokens.has(m[1]))
    throw new Refused(
      401,
      `send: bearer token ${JSON.stringify(auth)} was not issued`,
      fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')
    );
  if (project !== projectId)
    throw new Refused(
      403,
      `send: project ${project}`,
      fcmError(403, 'PERMISSION_DENIED', `Permission denied on project ${project}.`)
    );
  if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
    throw new Refused(400, `send: content-type ${req.headers['content-type']}`);
  const invalid = (what) =>
    new Refused(
      400,
      `send: ${what}`,
      fcmError(400, 'INVALID_ARGUMENT', `Invalid payload: ${what}`)
    );
  const body = parseJson(text, 400, 'send');
  const message = body?.message;
  if (typeof message !== 'object' || message === null) throw invalid('no message');
  for (const key of Object.keys(body))
    if (key !== 'message' && key !== 'validate_only') throw invalid(`unknown field ${key}`);
  if (!isString(message.token) || message.token === '') throw invalid('message.token');
  const n = message.notification;
  if (typeof n !== 'object' || n === null || !isString(n.title) || !isString(n.body))
    throw invalid('message.notification needs string title and body');
  const data = message.data ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalid('message.data is not an object');
  for (const [k, v] of Object.entries(data))
    if (!isString(v)) throw invalid(`message.data.${k} is not a string`);
  if (message.token.startsWith('bad-')) {
    // Not a refusal: the service's answer for a token an app uninstall unregistered.
    gone.push({ platform: 'GCM', token: message.token });
    return {
      status: 404,
      answer: fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', [
        {
          '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
          errorCode: 'UNREGISTERED',
        },
      ]),
    };
  }
  pushes.push({
    seq: pushes.length + 1,
    platform: 'GCM',
    token: message.token,
    title: n.title,
    body: n.body,
    sandbox: false,
    data,
  });
  return {
    status: 200,
    answer: { name: `projects/${projectId}/messages/${randomUUID()}` },
  };
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const fcmServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/received') {
      send(res, 200, {
        pushes,
        rejected,
        gone,
        token_requests: tokenRequests,
        fcm_send_requests: fcmSendRequests,
        apns_requests: apnsRequests,
        apns_connections: apnsConnections,
      });
      return;
    }
    const text = await readBody(req);
    if (req.method === 'POST' && url.pathname === '/token') {
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        throw new Refused(400, `token: content-type ${req.headers['content-type']}`);
      send(res, 200, tokenEndpoint(text));
      return;
    }
    const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      const { status, answer } = messagesSend(req, decodeURIComponent(m[1]), text);
      send(res, status, answer);
      return;
    }
    throw new Refused(
      404,
      `no route ${req.method} ${url.pathname}`,
      fcmError(404, 'NOT_FOUND', 'no such route')
    );
  } catch (e) {
    const status = e instanceof Refused ? e.status : 500;
    rejected.push({ service: 'fcm', status, reason: e.message });
    if (!res.headersSent) send(res, status, e.body ?? { error: { message: e.message } });
  }
});

// ---- APNs

function apnsRequest(headers, path, text) {
  ++apnsRequests;
  const m = /^(\/sandbox)?\/3\/device\/([^/?]+)$/.exec(path);
  if (!m) throw new Refused(404, `apns: path ${path}`, { reason: 'BadPath' });
  if (headers[':method'] !== 'POST')
    throw new Refused(405, `apns: method ${headers[':method']}`, { reason: 'MethodNotAllowed' });
  const sandbox = m[1] !== undefined;
  const token = decodeURIComponent(m[2]);
  const auth = headers.authorization ?? '';
  const b = /^bearer (\S+)$/.exec(auth);
  if (!b)
    throw new Refused(403, 'apns: no bearer provider token', { reason: 'MissingProviderToken' });
  const jwt = decodeJwt(b[1], 403, 'apns: provider token');
  const invalid = (what) => new Refused(403, `apns: ${what}`, { reason: 'InvalidProviderToken' });
  if (jwt.header.alg !== 'ES256') throw invalid(`alg is ${JSON.stringify(jwt.header.alg)}`);
  if (jwt.header.kid !== apnsKeyId) throw invalid(`kid is ${JSON.stringify(jwt.header.kid)}`);
  if (!verify('sha256', jwt.input, { key: apnsKey, dsaEncoding: 'ieee-p1363' }, jwt.signature))
    throw invalid('the signature does not verify');
  if (jwt.claims.iss !== apnsTeamId) throw invalid(`iss is ${JSON.stringify(jwt.claims.iss)}`);
  const iat = jwt.claims.iat;
  const now = nowSeconds();
  if (!Number.isInteger(iat) || iat > now + kSkewSeconds) throw invalid(`iat is ${iat}`);
  if (iat < now - 3600)
    throw new Refused(403, 'apns: provider token older than an hour', {
      reason: 'ExpiredProviderToken',
    });
  if (headers['apns-topic'] === undefined)
    throw new Refused(400, 'apns: no apns-topic', { reason: 'MissingTopic' });
  if (headers['apns-topic'] !== apnsTopic)
    throw new Refused(400, `apns: topic ${headers['apns-topic']}`, { reason: 'TopicDisallowed' });
  if (headers['apns-push-type'] !== 'alert')
    throw new Refused(400, `apns: push type ${headers['apns-push-type']}`, {
      reason: 'InvalidPushType',
    });
  const priority = headers['apns-priority'];
  if (priority !== undefined && !['5', '10', '1'].includes(priority))
    throw new Refused(400, `apns: priority ${priority}`, { reason: 'BadPriority' });
  if (!/^[0-9A-Fa-f]{16,200}$/.test(token))
    throw new Refused(400, `apns: token ${token} is not hex`, { reason: 'BadDeviceToken' });
  const body = parseJson(text, 400, 'apns: payload');
  const alert = body?.aps?.alert;
  const hasText = typeof alert === 'object' && alert !== null;
  if (!hasText || !isString(alert.title) || !isString(alert.body))
    throw new Refused(400, 'apns: aps.alert needs string title and body', {
      reason: 'PayloadEmpty',
    });
  if (token.toLowerCase().startsWith('bad')) {
    gone.push({ platform: sandbox ? 'APNS_SANDBOX' : 'APNS', token });
    return { status: 410, answer: { reason: 'Unregistered', timestamp: Date.now() } };
  }
  const { aps, ...data } = body;
  pushes.push({
    seq: pushes.length + 1,
    platform: sandbox ? 'APNS_SANDBOX' : 'APNS',
    token,
    title: alert.title,
    body: alert.body,
    sandbox,
    sound: aps.sound ?? null,
    data,
  });
  return { status: 200, answer: null };
}

const apnsServer = http2.createServer();
// FAKE_PUSH_DEBUG=1: the APNs connections' life on stderr.
const dbg = process.env.FAKE_PUSH_DEBUG
  ? (...a) => console.error('[fake-apns]', new Date().toISOString(), ...a)
  : () => {};
apnsServer.on('session', (session) => {
  const id = ++apnsConnections;
  dbg('connection', id, 'open');
  session.on('error', (e) => dbg('connection', id, 'error', e.code, e.message));
  session.on('frameError', (type, code) => dbg('connection', id, 'frame error', type, code));
  session.on('close', () => dbg('connection', id, 'closed'));
  session.on('stream', (_, h) => dbg('connection', id, h[':method'], h[':path']));
});
apnsServer.on('stream', (stream, headers) => {
  const chunks = [];
  let size = 0;
  stream.on('data', (c) => {
    size += c.length;
    if (size <= kMaxBody) chunks.push(c);
  });
  stream.on('error', (e) => dbg('stream error', e.code, e.message));
  stream.on('end', () => {
    let status;
    let answer;
    try {
      if (size > kMaxBody)
        throw new Refused(413, 'apns: payload too large', { reason: 'PayloadTooLarge' });
      const text = Buffer.concat(chunks).toString('utf8');
      ({ status, answer } = apnsRequest(headers, headers[':path'] ?? '', text));
    } catch (e) {
      status = e instanceof Refused ? e.status : 500;
      answer = e.body ?? { reason: 'InternalServerError' };
      rejected.push({ service: 'apns', status, reason: e.message });
    }
    const out = { ':status': status, 'apns-id': randomUUID() };
    // GOAWAY ahead of the answer: the client opens a new connection for its next push.
    if (closeConnections) stream.session.close();
    if (answer === null) {
      stream.respond(out, { endStream: true });
    } else {
      stream.respond({ ...out, 'content-type': 'application/json' });
      stream.end(JSON.stringify(answer));
    }
  });
});

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

fcmPort = await listen(fcmServer);
const apnsPort = await listen(apnsServer);
console.log(`listening ${fcmPort} ${apnsPort}`);

function stop() {
  fcmServer.close();
  apnsServer.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
