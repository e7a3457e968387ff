import { t } from 'elysia';
import { GAME_STATES } from '../metrics.ts';
import { literalUnion } from '../../contract/worker-messages.ts';

export const ReportAck = t.Object(
  { gameId: t.String(), state: literalUnion(GAME_STATES) },
  { description: 'Acknowledged: the game is now in this state (results, if any, are stored)', examples: [{ gameId: 'q3JmX0dWm2b6yC1l8b1Q9A', state: 'in_progress' }] },
);
