// panva's oidc-provider set up like Klaspoort's OpenID provider, as the yardstick of
// bench/oidc_leg.py (issue 17): node bench/oidc-provider/server.mjs PORT
//
// One confidential client (client_secret_basic, PKCE required, RS256 ID tokens with 2048-bit
// keys, pairwise subjects, code flow only, no refresh tokens), the token lifetimes of
// Klaspoort's settings, and an ID token with the same claims as Klaspoort's (auth_time, acr,
// amr and the claims of the granted scopes; not at_hash and jti, which this library leaves out
// of a code-flow ID token).
// Everything lives in the library's in-memory adapter (one process). There is no sign-in page:
// the provider's development interactions are off, and /interaction/UID signs in account
// ?bench_login=NAME and grants the requested scopes without asking (a publisher's client
// skips consent in Klaspoort too). After that one interaction the browser holds a session
// cookie and the default loadExistingGrant finds the grant, so an authorization request
// answers 303 with a code straight away. Without bench_login the route refuses: nothing
// else can sign anyone in.
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.PORT || 8201);
const issuer = `http://127.0.0.1:${port}`;
const pairwiseSalt = randomBytes(32);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }); // as sso/keys.py
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'bench' };

// The claims Klaspoort releases for `profile` and `klaspoort` (sso/claims.py), fixed values
// of the same shape, so both providers send about the same ID token and userinfo answer.
function claimsOf() {
  return {
    given_name: 'Zoë',
    family_name: 'J.',
    name: 'Zoë J.',
    role: 'pupil',
    school_id: 'a3f1c0d2e4b5',
    brin6: '88BB00',
    groups: [{ id: 'g8c2e1', name: 'Groep 5', jaargroep: '5', kind: 'group' }],
    products: ['F0', 'F4'],
  };
}

const configuration = {
  clients: [{
    client_id: process.env.BENCH_CLIENT_ID || 'bench-client',
    client_secret: process.env.BENCH_CLIENT_SECRET || `bench-secret-${'x'.repeat(40)}`,
    redirect_uris: [process.env.BENCH_REDIRECT_URI || 'http://127.0.0.1:9/callback'],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    subject_type: 'pairwise',
    require_auth_time: true, // Klaspoort's ID token always has auth_time, acr and amr
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] }, // signed cookies, as production
  scopes: ['openid', 'profile', 'klaspoort'],
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    profile: ['given_name', 'family_name', 'name'],
    klaspoort: ['role', 'school_id', 'brin6', 'groups', 'products'],
  },
  // Klaspoort's ID token carries the released claims too (django-oauth-toolkit puts the
  // claims of the granted scopes in both): the library's default would leave them for userinfo.
  conformIdTokenClaims: false,
  subjectTypes: ['pairwise'],
  pairwiseIdentifier: (ctx, accountId, client) => createHmac('sha256', pairwiseSalt)
    .update(`${client.sectorIdentifier}|${accountId}`).digest('base64url'),
  pkce: { required: () => true }, // Klaspoort: PKCE_REQUIRED (S256 is the only method here)
  ttl: {
    AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Interaction: 600,
    Grant: 14 * 24 * 3600, Session: 14 * 24 * 3600,
  },
  features: {
    devInteractions: { enabled: false },
    // Left on as shipped (the client uses none of them but userinfo): dPoP,
    // pushedAuthorizationRequests, resourceIndicators, rpInitiatedLogout, userinfo.
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, accountId) {
    return { accountId, claims: () => ({ sub: accountId, ...claimsOf() }) };
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, error) => console.error('server_error', error));
const callback = provider.callback();

async function interaction(req, res, url) {
  const account = url.searchParams.get('bench_login');
  if (!account) {
    res.writeHead(403, { 'content-type': 'text/plain' }).end('no sign-in page on this provider\n');
    return;
  }
  const { params } = await provider.interactionDetails(req, res);
  const grant = new provider.Grant({ accountId: account, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId: account, acr: 'urn:klaspoort:acr:pupil-school', amr: ['pin'] },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/interaction/')) {
    interaction(req, res, url).catch((error) => {
      console.error(error);
      res.writeHead(500).end();
    });
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
