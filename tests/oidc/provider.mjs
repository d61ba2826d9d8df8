// A real OpenID Connect provider for the single sign-on tests: oidc-provider (the
// certified Node.js implementation), with one client and a tiny, accessible sign-in page.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG.json: {"client_id", "client_secret", "redirect_uris": [...], "accounts_file"}.
// The accounts file ({"<login>": {"email": ..., "email_verified": ...}}) is read at each
// sign-in, so a test can change who signs in without restarting the provider. It listens
// on a free loopback port and prints {"issuer": "http://127.0.0.1:<port>"} when ready.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

const accounts = () => JSON.parse(readFileSync(config.accounts_file, 'utf8'));

// A fresh signing key each run: the app must fetch it from the provider's JWKS.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `test-${Date.now()}`, use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Like Microsoft Entra ID: the email is in the ID token itself.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = accounts()[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
  });

  // The sign-in page: a labelled field for the account, a button, and a way to cancel.
  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login|\/cancel)?$/);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (match[2] === '/cancel' && ctx.method === 'POST') {
      return provider.interactionFinished(ctx.req, ctx.res, {
        error: 'access_denied', error_description: 'The person cancelled',
      }, { mergeWithLastSubmission: false });
    }
    if (match[2] === '/login' && ctx.method === 'POST') {
      const form = await readForm(ctx.req);
      const login = form.get('login') || '';
      if (!accounts()[login]) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = page('Test provider: no such account', `<p>${escape(login)} is not a test account.</p>`);
        return undefined;
      }
      return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login } },
        { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'consent') {
      // The organisation has consented for everyone (as an Entra admin does).
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope('openid email profile');
      return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true });
    }
    ctx.type = 'html';
    ctx.body = page('Test provider: sign in', `
<form method="post" action="/interaction/${escape(details.uid)}/login">
  <p><label for="login">Test account</label> <input id="login" name="login" autocomplete="off" required></p>
  <p><button type="submit">Sign in to the test provider</button></p>
</form>
<form method="post" action="/interaction/${escape(details.uid)}/cancel">
  <p><button type="submit">Cancel</button></p>
</form>`);
    return undefined;
  });

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
