/** What a browser keeps between requests: the cookies the gateway set, by name (attributes parsed for checks). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  /** The raw Set-Cookie lines seen, newest last. */
  readonly setCookies: string[] = [];

  constructor(readonly userAgent = 'Mozilla/5.0 (X11; Linux x86_64) SchoolChromebook/1') {}

  capture(res: Response): Response {
    for (const line of res.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /;\s*max-age=0/i.test(line) || /;\s*expires=Thu, 01 Jan 1970/i.test(line);
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  headers(): Record<string, string> {
    const cookie = [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
    return { 'user-agent': this.userAgent, ...(cookie ? { cookie } : {}) };
  }

  /** GET without following redirects, sending and keeping cookies. */
  async get(url: string | URL, headers: Record<string, string> = {}): Promise<Response> {
    return this.capture(await fetch(url, { redirect: 'manual', headers: { ...this.headers(), ...headers } }));
  }

  /** POST a form without following redirects, sending and keeping cookies. */
  async post(url: string | URL, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.capture(await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...this.headers(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    }));
  }
}
