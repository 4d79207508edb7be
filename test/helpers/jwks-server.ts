import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * JWKS endpoints on loopback, counting requests (and connections) per path.
 * `serve(path, keys)` publishes a set as application/json; `route` adds any other answer.
 */
export class JwksServer {
  readonly hits = new Map<string, number>();
  private readonly routes = new Map<string, Route>();
  private readonly server: Server;
  connections = 0;

  constructor(private readonly host = '127.0.0.1') {
    this.server = createServer((req, res) => {
      const path = req.url ?? '';
      this.hits.set(path, this.count(path) + 1);
      const route = this.routes.get(path);
      if (route) route(req, res);
      else res.writeHead(404).end();
    });
    this.server.on('connection', () => this.connections++);
  }

  /** Publish `keys()` at `path` with this content type (read on every request, so a test can rotate). */
  serve(path: string, keys: () => JWK[], contentType = 'application/json'): this {
    return this.route(path, (_req, res) => {
      res.writeHead(200, { 'content-type': contentType, connection: 'close' }).end(JSON.stringify({ keys: keys() }));
    });
  }

  route(path: string, route: Route): this {
    this.routes.set(path, route);
    return this;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  /** The base URL, e.g. http://127.0.0.1:41234 */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, this.host, resolve));
    return `http://${this.host}:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
