// The floor (bench/floor/server.ts) as the benchmarks run it: a child process
// with keys of its own, driven by the gateway's login client, so it sees the
// same requests and sends the same Redis commands as the gateway.
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { cyclingPupils, makeGatewayLogin, type BenchWorld } from '../gateway-client.js';
import { startServer } from './child.js';
import { cpuProfileFlags, REDIS_URL } from './gateway.js';

const tsx = import.meta.resolve('tsx');

/** Starts the floor; its logins cycle through `pupils` pupil keys. */
export async function openFloor(pupils: number) {
  const school = await generateKeyPair('ES256', { extractable: true });
  const client = await generateKeyPair('ES256', { extractable: true });
  const server = await startServer(
    [process.execPath, ...cpuProfileFlags(), '--import', tsx, fileURLToPath(new URL('../floor/server.ts', import.meta.url))],
    { FLOOR_SCHOOL_JWK: JSON.stringify(await exportJWK(school.publicKey)), FLOOR_CLIENT_JWK: JSON.stringify(await exportJWK(client.publicKey)), REDIS_URL },
  );
  const world: BenchWorld = {
    url: server.url, clientId: 'bench-app', redirectUri: 'https://bench-app.example/cb', clientKey: client.privateKey, clientKid: 'floor-client',
    schoolId: '12AB', schoolIssuer: 'https://idp.floor.example', schoolKey: school.privateKey, schoolKid: 'floor-school',
  };
  const { login, close } = makeGatewayLogin(world, cyclingPupils(pupils));
  return {
    server, login: () => login().then(() => undefined),
    async close() {
      await close();
      await server.stop();
    },
  };
}
