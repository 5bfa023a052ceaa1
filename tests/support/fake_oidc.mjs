// A fake OpenID Connect provider for the OAuth sign-in tests, with Node's built-ins only (http,
// crypto, url). It checks what a real provider checks of the relying party (this server):
//
//   GET /authorize   response_type=code, our client_id, a redirect_uri, scope with openid, a
//                    state, a nonce and a PKCE S256 code_challenge. There is no login page: the
//                    test "signs in" by adding login_hint=<e-mail> to the URL the server sent
//                    the browser to, and gets a 302 to redirect_uri?code=..&state=... Knobs on
//                    that request: email_verified=false, name=<text>, alg=RS256 (default
//                    ES256), deny=1 (the user refuses: ?error=access_denied&state=..), and
//                    forge=<what> for an id_token the server must refuse: nonce, iss, aud
//                    (another's), exp (an hour past), sig (a bit flipped), kid (unknown),
//                    weak_rsa (RS256 with a 1024-bit key the JWKS lists), none (alg none),
//                    hs256 (HMAC with the client secret), der (ES256 with a DER signature);
//                    or forge=aud_list for one it must accept (aud ["other", client id]).
//   POST /token      grant_type=authorization_code, the client authenticated by client_id and
//                    client_secret in the form or HTTP Basic, a known unused unexpired code for
//                    that client, the same redirect_uri as at /authorize, and a code_verifier
//                    whose S256 is the code_challenge. Answers {"id_token": JWT with kid,
//                    "access_token", "token_type", "expires_in"}; the id_token's claims are iss
//                    (this issuer), aud (the client id), sub (stable per e-mail), email,
//                    email_verified, name, nonce (from /authorize), iat and exp.
//   GET /jwks        the public keys: an EC P-256 key (kid "ec-1", ES256), an RSA key
//                    (kid "rsa-1", RS256), and a 1024-bit RSA key (kid "rsa-weak") no relying
//                    party should accept signatures of.
//   GET /log         what happened: request counts and every refused request with its reason.
//
//   node fake_oidc.mjs CLIENT_ID CLIENT_SECRET
//
// Prints "listening <port>" once it listens on loopback (the issuer is http://127.0.0.1:<port>);
// stops on SIGTERM or when stdin closes.
import {
  createHash,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  sign,
  timingSafeEqual,
} from 'node:crypto';
import http from 'node:http';
import { URL, URLSearchParams } from 'node:url';

const args = process.argv.slice(2);
if (args.length !== 2) {
  console.error('usage: node fake_oidc.mjs CLIENT_ID CLIENT_SECRET');
  process.exit(2);
}
const [clientId, clientSecret] = args;

const kMaxBody = 64 * 1024;
const kCodeLifeSeconds = 120;

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const keys = {
  ES256: { alg: 'ES256', kid: 'ec-1', privateKey: ec.privateKey, publicKey: ec.publicKey },
  RS256: { alg: 'RS256', kid: 'rsa-1', privateKey: rsa.privateKey, publicKey: rsa.publicKey },
  WEAK: { alg: 'RS256', kid: 'rsa-weak', privateKey: weak.privateKey, publicKey: weak.publicKey },
};
const jwks = {
  keys: Object.values(keys).map((k) => ({
    ...k.publicKey.export({ format: 'jwk' }),
    kid: k.kid,
    alg: k.alg,
    use: 'sig',
  })),
};
const kForgeries = new Set([
  'nonce',
  'iss',
  'aud',
  'exp',
  'sig',
  'kid',
  'weak_rsa',
  'none',
  'hs256',
  'der',
  'aud_list',
]);

let issuer = '';
const codes = new Map(); // code -> {client_id, redirect_uri, nonce, code_challenge, ...}
const rejected = []; // {endpoint, status, error, reason}
const counts = { authorize: 0, token: 0, token_ok: 0, jwks: 0 };

class Refused extends Error {
  constructor(status, error, reason) {
    super(reason);
    this.status = status;
    this.error = error;
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const s256 = (text) => createHash('sha256').update(text, 'ascii').digest('base64url');

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

// A compact JWS of `claims` signed with keys[keyName]; `forge` spoils it as its name says.
function signJwt(keyName, claims, forge) {
  const key = keys[keyName];
  if (key === undefined) throw new Refused(400, 'invalid_request', `unknown alg ${keyName}`);
  const header = { alg: key.alg, typ: 'JWT', kid: forge === 'kid' ? 'no-such-key' : key.kid };
  if (forge === 'none' || forge === 'hs256') {
    const h = { alg: forge === 'none' ? 'none' : 'HS256', typ: 'JWT', kid: key.kid };
    const input = `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(claims))}`;
    if (forge === 'none') return `${input}.`;
    return `${input}.${createHmac('sha256', clientSecret).update(input).digest('base64url')}`;
  }
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const data = Buffer.from(input);
  const signature =
    key.alg === 'ES256'
      ? sign('sha256', data, {
          key: key.privateKey,
          dsaEncoding: forge === 'der' ? 'der' : 'ieee-p1363',
        })
      : sign('sha256', data, key.privateKey);
  if (forge === 'sig') signature[signature.length - 1] ^= 1;
  return `${input}.${b64url(signature)}`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > kMaxBody) {
        reject(new Refused(413, 'invalid_request', 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function redirect(res, location) {
  res.writeHead(302, { location, 'content-length': 0, 'cache-control': 'no-store' });
  res.end();
}

// A parameter given exactly once (OAuth 2.0 §3.1: parameters must not repeat).
function single(params, name, endpoint) {
  const values = params.getAll(name);
  if (values.length > 1) throw new Refused(400, 'invalid_request', `${endpoint}: ${name} repeated`);
  return values.length === 1 ? values[0] : undefined;
}

function required(params, name, endpoint) {
  const value = single(params, name, endpoint);
  if (value === undefined || value === '')
    throw new Refused(400, 'invalid_request', `${endpoint}: ${name} missing`);
  return value;
}

// GET /authorize: the relying party's request, checked; then the "login" of login_hint.
function authorize(query) {
  counts.authorize += 1;
  const p = (name) => required(query, name, '/authorize');
  if (p('response_type') !== 'code')
    throw new Refused(400, 'unsupported_response_type', 'response_type must be code');
  if (p('client_id') !== clientId) throw new Refused(400, 'invalid_client', 'unknown client_id');
  const redirectUri = p('redirect_uri');
  let parsed;
  try {
    parsed = new URL(redirectUri);
  } catch {
    throw new Refused(400, 'invalid_request', 'redirect_uri is not an absolute URL');
  }
  if (parsed.hash !== '') throw new Refused(400, 'invalid_request', 'redirect_uri has a fragment');
  if (!p('scope').split(' ').includes('openid'))
    throw new Refused(400, 'invalid_scope', 'scope lacks openid');
  const state = p('state');
  const nonce = p('nonce');
  const challenge = p('code_challenge');
  if (p('code_challenge_method') !== 'S256')
    throw new Refused(400, 'invalid_request', 'code_challenge_method must be S256');
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    throw new Refused(400, 'invalid_request', 'code_challenge is not a base64url SHA-256');
  const email = single(query, 'login_hint', '/authorize');
  if (email === undefined || email === '')
    throw new Refused(400, 'login_required', 'no login page here: add login_hint=<e-mail>');

  const back = new URL(redirectUri);
  if (single(query, 'deny', '/authorize') === '1') {
    back.searchParams.append('error', 'access_denied');
    back.searchParams.append('error_description', 'the user refused');
    back.searchParams.append('state', state);
    return back.toString();
  }
  const forge = single(query, 'forge', '/authorize');
  if (forge !== undefined && !kForgeries.has(forge))
    throw new Refused(400, 'invalid_request', `unknown forge=${forge}`);
  const code = b64url(randomBytes(24));
  codes.set(code, {
    client_id: clientId,
    redirect_uri: redirectUri,
    nonce,
    code_challenge: challenge,
    email,
    email_verified: single(query, 'email_verified', '/authorize') !== 'false',
    name: single(query, 'name', '/authorize') ?? 'OIDC User',
    alg: single(query, 'alg', '/authorize') ?? 'ES256',
    forge,
    expires_at: nowSeconds() + kCodeLifeSeconds,
    used: false,
  });
  back.searchParams.append('code', code);
  back.searchParams.append('state', state);
  return back.toString();
}

// POST /token: the relying party's code exchange, checked.
function token(req, text) {
  counts.token += 1;
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new Refused(400, 'invalid_request', `/token: content-type ${type || 'missing'}`);
  const form = new URLSearchParams(text);
  const f = (name) => required(form, name, '/token');
  // The client: Basic or the form, not both (RFC 6749 §2.3.1).
  let id = single(form, 'client_id', '/token');
  let secret = single(form, 'client_secret', '/token');
  const authorization = req.headers.authorization ?? '';
  if (authorization !== '') {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization);
    if (m === null) throw new Refused(401, 'invalid_client', '/token: malformed Authorization');
    if (secret !== undefined)
      throw new Refused(400, 'invalid_request', '/token: two client authentications');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Refused(401, 'invalid_client', '/token: malformed Basic');
    const basicId = decodeURIComponent(decoded.slice(0, colon));
    if (id !== undefined && id !== basicId)
      throw new Refused(400, 'invalid_request', '/token: client_id differs from Basic');
    id = basicId;
    secret = decodeURIComponent(decoded.slice(colon + 1));
  }
  if (id !== clientId || secret === undefined || !sameText(secret, clientSecret))
    throw new Refused(401, 'invalid_client', '/token: unknown client or wrong secret');
  if (f('grant_type') !== 'authorization_code')
    throw new Refused(400, 'unsupported_grant_type', '/token: grant_type');
  const code = f('code');
  const grant = codes.get(code);
  if (grant === undefined) throw new Refused(400, 'invalid_grant', '/token: unknown code');
  if (grant.used) {
    codes.delete(code);
    throw new Refused(400, 'invalid_grant', '/token: code used twice');
  }
  grant.used = true;
  if (grant.expires_at < nowSeconds())
    throw new Refused(400, 'invalid_grant', '/token: code expired');
  if (grant.client_id !== id) throw new Refused(400, 'invalid_grant', '/token: another client');
  if (f('redirect_uri') !== grant.redirect_uri)
    throw new Refused(400, 'invalid_grant', '/token: redirect_uri differs from /authorize');
  const verifier = f('code_verifier');
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier))
    throw new Refused(400, 'invalid_grant', '/token: code_verifier is not 43..128 unreserved');
  if (!sameText(s256(verifier), grant.code_challenge))
    throw new Refused(400, 'invalid_grant', '/token: code_verifier does not match');

  const now = nowSeconds();
  const claims = {
    iss: issuer,
    aud: clientId,
    sub: `sub-${createHash('sha256').update(grant.email.toLowerCase()).digest('hex').slice(0, 20)}`,
    email: grant.email,
    email_verified: grant.email_verified,
    name: grant.name,
    nonce: grant.nonce,
    iat: now,
    exp: now + 600,
  };
  const forge = grant.forge;
  if (forge === 'nonce') claims.nonce = `${grant.nonce}x`;
  if (forge === 'iss') claims.iss = `${issuer}/other`;
  if (forge === 'aud') claims.aud = 'another-relying-party';
  if (forge === 'aud_list') claims.aud = ['another-relying-party', clientId];
  if (forge === 'exp') {
    claims.iat = now - 7200;
    claims.exp = now - 3600;
  }
  let keyName = grant.alg;
  if (forge === 'weak_rsa') keyName = 'WEAK';
  if (forge === 'der') keyName = 'ES256';
  counts.token_ok += 1;
  return {
    access_token: b64url(randomBytes(24)),
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'openid email profile',
    id_token: signJwt(keyName, claims, forge),
  };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const endpoint = `${req.method} ${url.pathname}`;
  try {
    const text = await readBody(req);
    if (endpoint === 'GET /authorize') {
      redirect(res, authorize(url.searchParams));
    } else if (endpoint === 'POST /token') {
      if (url.search !== '') throw new Refused(400, 'invalid_request', '/token: a query string');
      send(res, 200, token(req, text));
    } else if (endpoint === 'GET /jwks') {
      counts.jwks += 1;
      send(res, 200, jwks, { 'content-type': 'application/jwk-set+json' });
    } else if (endpoint === 'GET /log') {
      send(res, 200, { ...counts, rejected });
    } else {
      throw new Refused(404, 'not_found', `${endpoint}: no such endpoint`);
    }
  } catch (e) {
    const status = e instanceof Refused ? e.status : 500;
    const error = e instanceof Refused ? e.error : 'server_error';
    rejected.push({ endpoint, status, error, reason: e.message });
    if (!res.headersSent) send(res, status, { error, error_description: e.message });
  }
});

const port = await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve(server.address().port));
});
issuer = `http://127.0.0.1:${port}`;
console.log(`listening ${port}`);

function stop() {
  server.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
