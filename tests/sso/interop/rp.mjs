// A publisher's software signing users in with openid-client (certified by the OpenID
// Foundation), as tests/sso/test_interop_openid_client.py drives it. Two steps, each printing
// one JSON document:
//   node rp.mjs start  '{"issuer", "client_id", "client_secret", "redirect_uri", "prompt"?}'
//       → {"url", "state", "nonce", "verifier"}: the authorization URL (PKCE S256)
//   node rp.mjs finish '{... as above, "callback", "state", "nonce", "verifier"}'
//       → {"claims", "userinfo"} or {"error", "error_description"}
// The library checks discovery, the response's iss (RFC 9207), state, the ID token's signature
// (non-repudiation checks on), iss, aud, exp and nonce; at_hash is checked here as well.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';

const [step, raw] = process.argv.slice(2);
const args = JSON.parse(raw);

async function configuration() {
  const config = await client.discovery(
    new URL(args.issuer), args.client_id, args.client_secret, undefined,
    { execute: [client.allowInsecureRequests] }, // the test's live server is http on localhost
  );
  client.enableNonRepudiationChecks(config); // verify the ID token's signature with the JWKS
  return config;
}

function atHash(accessToken) {
  const digest = createHash('sha256').update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

async function start() {
  const config = await configuration();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const parameters = {
    redirect_uri: args.redirect_uri,
    scope: 'openid profile klaspoort',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  if (args.prompt) parameters.prompt = args.prompt;
  const url = client.buildAuthorizationUrl(config, parameters);
  return { url: url.href, state, nonce, verifier };
}

async function finish() {
  const config = await configuration();
  try {
    const tokens = await client.authorizationCodeGrant(config, new URL(args.callback), {
      pkceCodeVerifier: args.verifier,
      expectedState: args.state,
      expectedNonce: args.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (claims.at_hash !== atHash(tokens.access_token)) {
      return { error: 'at_hash_mismatch' };
    }
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    return { claims, userinfo };
  } catch (error) {
    return { error: error.error ?? error.code ?? 'exception', error_description: String(error.message) };
  }
}

const result = step === 'start' ? await start() : await finish();
process.stdout.write(JSON.stringify(result) + '\n');
