import { describe, expect, it } from 'vitest';
import { homeApp } from '../../demo/home.js';
import type { Received } from '../../demo/publisher.js';
import { DEFAULT_PORTS, demoPorts } from '../../demo/start.js';

// The demo's home page says who the two publishers received: a teacher is
// named as a teacher, a pupil as a pupil, and without a role neither.

const urls = { gateway: 'http://localhost:3000', school: 'http://127.0.0.1:3001', rekenmeester: 'http://127.0.0.1:3002', taalkanjer: 'http://127.0.0.1:3003', home: 'http://127.0.0.1:3004' };

async function verdictFor(role: string | undefined): Promise<string> {
  const browser = 'A'.repeat(22);
  const claims = (sub: string) => ({ sub, ...(role === undefined ? {} : { role }) });
  const received: Received = new Map([[browser, new Map([['rekenmeester', claims('a'.repeat(32))], ['taalkanjer', claims('b'.repeat(32))]])]]);
  const app = homeApp(urls, received);
  const res = await app.inject({ url: '/', cookies: { demo_browser: browser } });
  await app.close();
  return /<p id="verdict">([\s\S]*?)<\/p>/.exec(res.body)?.[1] ?? '';
}

describe('the demo home\'s verdict', () => {
  it('names a teacher as a teacher, a pupil as a pupil, and someone of unknown role as a person', async () => {
    const teacher = await verdictFor('teacher');
    expect(teacher).toContain('dezelfde leerkracht');
    expect(teacher).toContain('the same teacher');
    expect(teacher).not.toMatch(/leerling|pupil/);
    expect(await verdictFor('student')).toContain('the same pupil');
    expect(await verdictFor(undefined)).toContain('the same person');
  });

  it('takes its six ports from DEMO_PORT, in order', () => {
    expect(demoPorts(DEFAULT_PORTS.gateway)).toEqual(DEFAULT_PORTS);
    expect(demoPorts(4000)).toEqual({ gateway: 4000, school: 4001, rekenmeester: 4002, taalkanjer: 4003, home: 4004, upstream: 4005 });
  });
});
