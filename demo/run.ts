// npm run demo: the gateway on embedded defaults with a demo school and two
// demo publishers. Open the printed URL.
import { startDemo } from './start.js';

const demo = await startDemo({ dataDir: process.env.DATA_DIR ?? './data' });
process.stdout.write(`
  Demo ready. Open ${demo.urls.home} in your browser.

  gateway (OpenID provider)   ${demo.urls.gateway}
  demo school logins          ${demo.urls.school}/regenboog/login, ${demo.urls.school}/kompas/login
  De Zonnebloem's own OpenID  ${demo.upstreamIssuer} (an upstream provider; the roster came in through the admin API)
  publisher Rekenmeester      ${demo.urls.rekenmeester}
  publisher Taalkanjer        ${demo.urls.taalkanjer}

  Gateway log: ${process.env.DATA_DIR ?? './data'}/demo/gateway.log. Stop with Ctrl+C.
`);
const stop = () => void demo.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
