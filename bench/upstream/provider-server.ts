// The school's upstream OpenID provider for the upstream-login benchmark
// (bench/upstream-login.ts): support/upstream-idp.ts (oidc-provider) in a
// process of its own, so its CPU is neither the gateway's nor the load
// generator's. Accounts upstream-0 .. upstream-(n-1).
// Env: BENCH_ACCOUNTS (n), BENCH_REDIRECT_URI, BENCH_CLIENT_SECRET.
import { startUpstreamIdp } from '../../support/upstream-idp.js';

const accounts = Array.from({ length: Number(process.env.BENCH_ACCOUNTS ?? 500) }, (_, i) => ({ id: `upstream-${i}`, claims: { tid: 'bench-tenant' } }));
const idp = await startUpstreamIdp({
  accounts,
  clients: [{
    client_id: 'bench-gateway', client_secret: process.env.BENCH_CLIENT_SECRET!, redirect_uris: [process.env.BENCH_REDIRECT_URI!],
    grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
  }],
});
process.stdout.write(`LISTENING ${idp.issuer}\n`);
