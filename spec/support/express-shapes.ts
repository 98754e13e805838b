/** An Express app exercising what Express adds to req/res, the requests that check it, and V8 probes of req/res shapes (used by the server-classes and observe-only specs). */
import assert from 'node:assert/strict';
import http from 'node:http';
import express5 from 'express';
import express4 from 'express4';
import type { Observability } from '../../lib';
import { request } from './http';
import { withNatives } from './v8';

/** Express 4 or 5 (the Express 4 alias is typed as Express 5). */
export type ExpressLike = typeof express5;

/** Both supported majors, for specs that run once per major. */
export const EXPRESS_MAJORS = [
  [4, express4 as unknown as ExpressLike],
  [5, express5],
] as const;

/** An app exercising what Express adds to req/res: params, query, body parsing, locals, redirects, a mounted sub-app. */
export function buildApp(express: ExpressLike, obs: Observability | undefined): express5.Express {
  const app = express();
  if (obs !== undefined) app.use(obs.middleware);
  app.use((_req, res, next) => {
    res.locals.greeting = 'hello';
    next();
  });
  app.get('/users/:id', (req, res) => {
    res.json({
      id: req.params.id,
      q: req.query.q,
      ua: req.get('user-agent'),
      onAppPrototype: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response,
      isIncomingMessage: req instanceof http.IncomingMessage,
      isServerResponse: res instanceof http.ServerResponse,
      greeting: res.locals.greeting,
      ip: req.ip,
      path: req.path,
    });
  });
  app.post('/echo', express.json(), (req, res) => {
    res.status(201).json({ got: req.body as unknown });
  });
  app.get('/old', (_req, res) => res.redirect(301, '/users/1'));
  const admin = express();
  admin.get('/stats/:name', (req, res) => {
    res.json({ name: req.params.name, onAdminPrototype: Object.getPrototypeOf(req) === admin.request });
  });
  app.use('/admin', admin);
  app.get('/after-admin', (req, res) => {
    res.json({ onAppPrototype: Object.getPrototypeOf(req) === app.request });
  });
  return app;
}

/** The same requests against `base`, asserting what Express gives back on every one of them. */
export async function exercise(base: string): Promise<void> {
  const u = await request(base, '/users/42?q=x%20y', { headers: { 'user-agent': 'spec/1' } });
  assert.equal(u.status, 200);
  assert.deepEqual(JSON.parse(u.body), {
    id: '42',
    q: 'x y',
    ua: 'spec/1',
    onAppPrototype: true,
    isIncomingMessage: true,
    isServerResponse: true,
    greeting: 'hello',
    ip: '127.0.0.1',
    path: '/users/42',
  });
  const e = await request(base, '/echo', { method: 'POST', body: '{"a":[1,2]}', headers: { 'content-type': 'application/json' } });
  assert.equal(e.status, 201);
  assert.deepEqual(JSON.parse(e.body), { got: { a: [1, 2] } });
  const r = await request(base, '/old');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/users/1');
  const a = await request(base, '/admin/stats/cpu');
  assert.deepEqual(JSON.parse(a.body), { name: 'cpu', onAdminPrototype: true });
  const back = await request(base, '/after-admin');
  assert.deepEqual(JSON.parse(back.body), { onAppPrototype: true });
  assert.equal((await request(base, '/nope')).status, 404);
}

/** The `route` labels {@link exercise} leaves on `buildApp`'s app, sorted. */
export const EXERCISED_ROUTES: readonly string[] = ['/admin/stats/:name', '/after-admin', '/echo', '/old', '/users/:id', 'unmatched'];

/** `%HaveSameMap(a, b)`: whether V8 gives two objects one hidden class. */
export function sameHiddenClass(): (a: object, b: object) => boolean {
  return withNatives('a', 'b', 'return %HaveSameMap(a, b);');
}

/** `%HasFastProperties(o)`: false once V8 has turned the object into a dictionary. */
export function fastProperties(): (o: object) => boolean {
  return withNatives('o', 'return %HasFastProperties(o);');
}

