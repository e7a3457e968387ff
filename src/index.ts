#!/usr/bin/env bun
import { Elysia } from 'elysia';
import pkg from '../package.json' with { type: 'json' };

// Placeholder entry until the matchmaker lands (issue 3): it serves /healthz so `npm start` works end to end.
const args = process.argv.slice(2);
if (args.includes('--version')) {
  console.log(`huddle ${pkg.version}`);
  process.exit(0);
}
if (args.includes('--help')) {
  console.log('usage: huddle [serve] [--port N]\n  --port N   HTTP port (default 8080, 0 = any free port)');
  process.exit(0);
}
const portArg = args.indexOf('--port');
const port = Number(portArg >= 0 ? args[portArg + 1] : process.env.HUDDLE_PORT ?? 8080);
const app = new Elysia().get('/healthz', () => ({ status: 'ok' })).listen({ port, hostname: '0.0.0.0' });
console.log(`huddle ${pkg.version} listening on http://${app.server?.hostname}:${app.server?.port}`);
