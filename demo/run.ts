// npm run demo: the gateway on embedded defaults with a demo school and two
// demo publishers. Open the printed URL. DEMO_PORT moves its ports (the first
// of six consecutive ports, default 3000).
import { DEFAULT_PORTS, demoPorts, DemoPortError, startDemo } from './start.js';

const first = Number(process.env.DEMO_PORT ?? DEFAULT_PORTS.gateway);
if (!Number.isInteger(first) || first < 1 || first > 65530) {
  process.stderr.write(`demo: DEMO_PORT must be a port number from 1 to 65530, not ${JSON.stringify(process.env.DEMO_PORT)}\n`);
  process.exit(1);
}
const dataDir = process.env.DATA_DIR ?? './data';
let demo;
try {
  demo = await startDemo({ dataDir, ports: demoPorts(first) });
} catch (err) {
  if (!(err instanceof DemoPortError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
const { urls, operatorToken } = demo;
process.stdout.write(`
  Demo ready. Open ${urls.home} in your browser.

  gateway (OpenID provider)   ${urls.gateway}  (discovery: ${urls.gateway}/.well-known/openid-configuration)
  demo school logins          ${urls.school}/regenboog/login, ${urls.school}/kompas/login
  demo SAML school (IdP)      ${urls.school}/saml/metadata (Het Vuurtoren College)
  De Zonnebloem's own OpenID  ${demo.upstreamIssuer} (an upstream provider; the roster came in through the admin API)
  publisher Rekenmeester      ${urls.rekenmeester}
  publisher Taalkanjer        ${urls.taalkanjer}

  admin API                   ${urls.gateway}/admin/v1  (OpenAPI: ${urls.gateway}/admin/v1/openapi.json)
  operator token (this demo only, new at every start):
    ${operatorToken}
  register your own client:   docs/publishers.md; the admin CLI works while the demo runs:
    npm run admin -- --api ${urls.gateway} --token ${operatorToken} schools list

  Gateway log: ${dataDir}/demo/gateway.log. Stop with Ctrl+C.
`);
const stop = () => void demo.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
