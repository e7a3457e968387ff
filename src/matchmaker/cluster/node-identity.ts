/**
 * Who this node is to the rest of the cluster: a random id kept in `<dataDir>/node-id` (so a restart of the same
 * node is the same node, and re-adopts its own games), and the URL the other nodes forward requests to.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartupCheckError } from '../edge/startup-checks.ts';

export const NODE_ID_FILE = 'node-id';
const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** A fresh node id: 96 random bits, base64url (not a secret: it names the node in the directory and in logs). */
export function newNodeId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url');
}

/**
 * The node's id from `<dataDir>/node-id`, written there on first start. `':memory:'` (a throwaway store) gets a
 * fresh id each time. A file that does not hold an id is an operator's mistake worth stopping for, not something
 * to overwrite: another node's games might be named by it.
 */
export function loadNodeId(dataDir: string): string {
  if (dataDir === ':memory:') return newNodeId();
  const path = join(dataDir, NODE_ID_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    if (!NODE_ID_PATTERN.test(text)) throw new StartupCheckError(`${path} does not hold a node id (8 to 64 of A-Z a-z 0-9 _ -); remove it to draw a new one`);
    return text;
  }
  const id = newNodeId();
  mkdirSync(dataDir, { recursive: true });
  // Written whole or not at all: a crash half-way must not leave a node without its id.
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${id}\n`, { mode: 0o644 });
  renameSync(partial, path);
  return id;
}

/** `--node-url`, else `http://<public-host>:<port>` (the port this node really listens on). No trailing slash. */
export function nodeApiUrl(nodeUrl: string | undefined, publicHost: string, port: number): string {
  if (nodeUrl !== undefined) return nodeUrl.replace(/\/+$/, '');
  const host = publicHost.includes(':') && !publicHost.startsWith('[') ? `[${publicHost}]` : publicHost;
  return `http://${host}:${port}`;
}
