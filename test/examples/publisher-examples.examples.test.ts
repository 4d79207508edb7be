import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../demo/start.js';
import { adminClient } from '../helpers/admin.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { freePort } from '../helpers/net.js';

// The publisher examples of docs/publishers.md, run as a publisher would:
// registered through the admin API of a running demo (with the token it
// prints), each example app started as its own process on its library's
// default settings, and a full login through it (the picker, the demo
// school's login, the school's answer) that ends in the claims the example
// validated with its own library. Both client-authentication methods, for
// openid-client (Node) and Authlib (Python: PYTHON, default python3, with
// Authlib installed; .ci/run makes a virtual environment on Debian's).

const PYTHON = process.env.PYTHON ?? 'python3';
const PUPIL = 'rb-1001';
const SCHOOL = '99DR';

let demo: Demo;
let dir: string;
const apps: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-examples-'));
  demo = await startDemo({
    dataDir: join(dir, 'data'),
    ports: { gateway: await freePort(), school: await freePort(), rekenmeester: await freePort(), taalkanjer: await freePort(), home: await freePort() },
  });
  const operator = adminClient(demo.urls.gateway, demo.operatorToken);
  expect((await operator.post('/suppliers', { id: 'voorbeeld-uitgever', name: 'Voorbeeld Uitgever', keyVersion: 1 })).status).toBe(201);
}, 90_000);
afterAll(async () => {
  for (const app of apps) app.kill('SIGTERM');
  await demo?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Register a client of the example supplier (with a licence at De Regenboog); the generated secret when it asked for one. */
async function register(clientId: string, port: number, auth: { jwks: object } | { clientSecret: 'generate' }): Promise<string | undefined> {
  const operator = adminClient(demo.urls.gateway, demo.operatorToken);
  const created = await operator.post('/clients', {
    clientId, supplier: 'voorbeeld-uitgever', name: `Voorbeeld ${clientId}`, redirectUris: [`http://localhost:${port}/callback`],
    claims: ['school', 'role', 'grade', 'given_name'], ...auth,
  });
  expect(created.status).toBe(201);
  const licence = await operator.post(`/schools/${SCHOOL}/licences`, { client: clientId, claims: ['school', 'role', 'grade', 'given_name'] });
  expect(licence.status).toBe(201);
  return (created.body as { clientSecret?: string }).clientSecret;
}

/** Start an example app and wait until it listens. */
async function startExample(command: string, args: string[], env: Record<string, string>): Promise<void> {
  const child = spawn(command, args, { env: { ...process.env, ISSUER: demo.urls.gateway, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  apps.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('listening on')) resolve();
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}):\n${output}`)));
  });
}

/** A browser's way through one login at the example app: the picker, the demo school, the school's answer, back to the app's callback. */
async function logInThrough(appUrl: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const jar = new CookieJar();
  const toGateway = await jar.get(`${appUrl}/login`);
  expect(toGateway.status).toBe(302);
  const toPicker = await jar.get(toGateway.headers.get('location')!);
  expect(toPicker.status).toBe(303);
  const picker = new URL(toPicker.headers.get('location')!);
  const toSchool = await jar.get(`${demo.urls.gateway}/school/select?login=${picker.searchParams.get('login')}&school=${SCHOOL}`);
  expect(toSchool.status).toBe(303);
  const schoolLogin = new URL(toSchool.headers.get('location')!);
  const chosen = await fetch(`${schoolLogin.origin}${schoolLogin.pathname}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: schoolLogin.searchParams.get('request')!, person: PUPIL }),
  });
  // The school's page posts the assertion back to the gateway (its form, which a browser submits by script).
  const form = await chosen.text();
  const action = /<form method="post" action="([^"]+)">/.exec(form)![1]!.replaceAll('&amp;', '&');
  const assertion = /name="assertion" value="([^"]+)"/.exec(form)![1]!;
  const back = await jar.post(action, { assertion });
  expect(back.status).toBe(303);
  const callback = await jar.get(back.headers.get('location')!);
  return { status: callback.status, body: (await callback.json()) as Record<string, unknown> };
}

/** What the pupil's login released to a client of the example supplier, as the example validated it. */
function expectReleased(body: Record<string, unknown>, clientId: string) {
  expect(body).toMatchObject({ iss: demo.urls.gateway, aud: clientId, school: SCHOOL, role: 'student', grade: 5, given_name: 'Sanne' });
  expect(body.sub).toMatch(/^[a-z2-7]{32}$/);
  expect(body.family_name).toBeUndefined();
}

describe('the openid-client example (Node)', () => {
  it('logs in with client_secret_basic (the generated secret) and validates the id_token', async () => {
    const port = await freePort();
    const secret = await register('node-basic', port, { clientSecret: 'generate' });
    expect(secret).toMatch(/^pgws_/);
    await startExample(process.execPath, ['--import', 'tsx', 'examples/openid-client/app.ts'], { CLIENT_ID: 'node-basic', CLIENT_SECRET: secret!, PORT: String(port) });
    const { status, body } = await logInThrough(`http://localhost:${port}`);
    expect(status).toBe(200);
    expectReleased(body, 'node-basic');
  }, 60_000);

  it('logs in with private_key_jwt (an ES256 key) and validates the id_token', async () => {
    const port = await freePort();
    const kid = randomUUID();
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await register('node-jwt', port, { jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' }] } });
    const keyFile = join(dir, 'node-jwt.json');
    await writeFile(keyFile, JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid }), { mode: 0o600 });
    await startExample(process.execPath, ['--import', 'tsx', 'examples/openid-client/app.ts'], { CLIENT_ID: 'node-jwt', PRIVATE_KEY_FILE: keyFile, PORT: String(port) });
    const { status, body } = await logInThrough(`http://localhost:${port}`);
    expect(status).toBe(200);
    expectReleased(body, 'node-jwt');
  }, 60_000);
});

describe('the Authlib example (Python)', () => {
  it('logs in with client_secret_basic (the generated secret) and validates the id_token', async () => {
    const port = await freePort();
    const secret = await register('py-basic', port, { clientSecret: 'generate' });
    await startExample(PYTHON, ['examples/authlib/app.py'], { CLIENT_ID: 'py-basic', CLIENT_SECRET: secret!, PORT: String(port) });
    const { status, body } = await logInThrough(`http://localhost:${port}`);
    expect(status).toBe(200);
    expectReleased(body, 'py-basic');
  }, 60_000);

  it('logs in with private_key_jwt (Authlib\'s default RS256) and validates the id_token', async () => {
    const port = await freePort();
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await register('py-jwt', port, { jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' }] } });
    const keyFile = join(dir, 'py-jwt.pem');
    await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await startExample(PYTHON, ['examples/authlib/app.py'], { CLIENT_ID: 'py-jwt', PRIVATE_KEY_FILE: keyFile, PORT: String(port) });
    const { status, body } = await logInThrough(`http://localhost:${port}`);
    expect(status).toBe(200);
    expectReleased(body, 'py-jwt');
  }, 60_000);
});
