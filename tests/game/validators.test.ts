import { expect, test } from 'bun:test';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ClientMessageSchema, ServerMessageSchema } from '../../src/game/message-schemas.ts';
import { checkClientMessage, checkMatchmakerToWorker, checkServerMessage } from '../../src/game/validators.generated.ts';
import { GENERATED_PATH, generateValidatorsSource } from '../../src/game/validators.generator.ts';
import { MatchmakerToWorker } from '../../src/workers/messages.ts';
import { randomBytes, seededRandom } from '../support/prng.ts';

test('the generated validators are up to date with the schemas (run `npm run generate` if not)', async () => {
  expect(await Bun.file(GENERATED_PATH).text()).toBe(generateValidatorsSource());
});

test('the generated validators agree with TypeBox compiled at run time', () => {
  const pairs = [
    [checkClientMessage, TypeCompiler.Compile(ClientMessageSchema)],
    [checkServerMessage, TypeCompiler.Compile(ServerMessageSchema)],
    [checkMatchmakerToWorker, TypeCompiler.Compile(MatchmakerToWorker)],
  ] as const;
  const samples: unknown[] = [
    { type: 'chat', text: 'hi' },
    { type: 'chat', text: '' },
    { type: 'start', difficulty: 'hard' },
    { type: 'start', difficulty: 'insane' },
    { type: 'tap' },
    { type: 'tap', x: 1 },
    { type: 'shutdown', reason: 'bye' },
    { type: 'welcome', you: 0, maxPlayers: 8 },
    { type: 'lobby', players: [{ index: 0, name: 'a', host: true, pingMs: 1 }], secondsLeft: 3 },
    { type: 'results', difficulty: 'easy', scores: [{ index: 1, name: 'b', score: 2 }] },
    null,
    [],
    'chat',
  ];
  const random = seededRandom(3);
  for (let i = 0; i < 200; i++) {
    try {
      samples.push(JSON.parse(new TextDecoder().decode(randomBytes(random, 8))));
    } catch {
      samples.push({ type: ['chat', 'start', 'tap', 'lobby'][i % 4], text: 'x'.repeat(i), difficulty: i % 2 ? 'easy' : 7 });
    }
  }
  for (const [generated, runtime] of pairs) for (const sample of samples) expect(generated(sample)).toBe(runtime.Check(sample));
});
