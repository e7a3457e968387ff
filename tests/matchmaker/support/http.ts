import { expect } from 'bun:test';
import type { testApp } from './app.ts';

export type Body = Record<string, unknown> & { error?: { code: string; message: string } };
export interface Answer {
  status: number;
  body: Body;
  headers: Headers;
  text: string;
}

export async function call(app: ReturnType<typeof testApp>['app'], request: Request): Promise<Answer> {
  const response = await app.handle(request);
  const text = await response.text();
  let body: Body = {};
  try {
    body = JSON.parse(text) as Body;
  } catch {
    // not JSON (metrics, swagger page)
  }
  return { status: response.status, body, headers: response.headers, text };
}

/** The uniform error shape: exactly `{error: {code, message}}`, JSON, with the status. */
export function expectError(result: Answer, status: number, code: string): void {
  expect({ status: result.status, code: result.body.error?.code }).toEqual({ status, code });
  expect(typeof result.body.error?.message).toBe('string');
  expect(Object.keys(result.body)).toEqual(['error']);
  expect(Object.keys(result.body.error ?? {}).sort()).toEqual(['code', 'message']);
  expect(result.headers.get('content-type')).toContain('application/json');
}
