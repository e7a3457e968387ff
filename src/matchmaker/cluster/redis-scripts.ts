/**
 * The directory's key names and the Lua scripts that change several keys at once. A script runs atomically in
 * Redis, which is what makes compare-and-delete, "reap only if the heartbeat is still missing" and "fence the
 * node's games as one step" sound without locks. The scripts build key names from the prefix (ARGV) for keys
 * they discover (a lost node's games, their passcodes): fine on one Redis server (or a Sentinel-managed primary),
 * not on Redis Cluster, which huddle does not support.
 *
 * Key layout, all under the prefix (docs/OPERATIONS.md, "Redis keys"):
 *   nodes                      set of node ids (members, live or not yet reaped)
 *   node:<id>                  heartbeat: the node's NodeInfo as JSON, short TTL
 *   node:<id>:games            set of the node's unended game ids (what a reaper, or its own restart, must fail)
 *   node:<id>:lost             set of the node's game ids the cluster declared lost (read and cleared by its beat)
 *   reap:<id>                  who claimed reaping the node (SET NX PX)
 *   passcode:<sha256>          "<gameId>@<nodeId>" for the passcode whose SHA-256 hex is <sha256>
 *   key:<sha256>               "<gameId>@<nodeId>" for a rejoin / watch / invite key hash
 *   game:<id>                  hash: gameId, nodeId, state, endReason, createdAt (+ maxPlayers, difficulty)
 *   game:<id>:passcodes        set of the game's passcode hashes
 *   game:<id>:keys             set of the game's key hashes
 *   results:<id>               a StoredGame as JSON
 *   leaderboard:<difficulty>   sorted set: score -points, member "<finishedAt:15>:<position:6>:<gameId>:<name>"
 */

export class RedisKeys {
  constructor(readonly prefix: string) {}
  nodes = (): string => `${this.prefix}nodes`;
  heartbeat = (nodeId: string): string => `${this.prefix}node:${nodeId}`;
  nodeGames = (nodeId: string): string => `${this.prefix}node:${nodeId}:games`;
  nodeLost = (nodeId: string): string => `${this.prefix}node:${nodeId}:lost`;
  reapClaim = (nodeId: string): string => `${this.prefix}reap:${nodeId}`;
  passcode = (codeHash: string): string => `${this.prefix}passcode:${codeHash}`;
  keyRoute = (keyHash: string): string => `${this.prefix}key:${keyHash}`;
  game = (gameId: string): string => `${this.prefix}game:${gameId}`;
  gamePasscodes = (gameId: string): string => `${this.prefix}game:${gameId}:passcodes`;
  gameKeys = (gameId: string): string => `${this.prefix}game:${gameId}:keys`;
  results = (gameId: string): string => `${this.prefix}results:${gameId}`;
  leaderboard = (difficulty: string): string => `${this.prefix}leaderboard:${difficulty}`;
}

/** What a passcode or key route names. Both ids are checked to hold no '@' or ':' (ID_PATTERN). */
export function routeValue(gameId: string, nodeId: string): string {
  return `${gameId}@${nodeId}`;
}

export function parseRouteValue(value: unknown): { gameId: string; nodeId: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const at = value.indexOf('@');
  if (at <= 0 || at === value.length - 1) return undefined;
  return { gameId: value.slice(0, at), nodeId: value.slice(at + 1) };
}

/**
 * A beat. KEYS: heartbeat, nodes, lost. ARGV: NodeInfo JSON, TTL ms, node id.
 * Returns {1 if the node was not a member (first beat, Redis lost its data, or the node was reaped), lost ids}.
 */
export const BEAT = `
local added = redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local lost = redis.call('SMEMBERS', KEYS[3])
if #lost > 0 then redis.call('DEL', KEYS[3]) end
return {added, lost}`;

/** The members (other than ARGV[2]) whose heartbeat is missing. KEYS: nodes. ARGV: prefix, own id. */
export const MISSING = `
local missing = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. 'node:' .. id) == 0 then table.insert(missing, id) end
end
return missing`;

/** The heartbeats (NodeInfo JSON) of the live members. KEYS: nodes. ARGV: prefix. */
export const LIVE = `
local live = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local beat = redis.call('GET', ARGV[1] .. 'node:' .. id)
  if beat then table.insert(live, beat) end
end
return live`;

/**
 * Takes a passcode (or confirms the game already holds it). KEYS: passcode, game's passcodes, node's games.
 * ARGV: route value, TTL ms, passcode hash, game id. Returns 1 if the game holds it, 0 if another game does.
 */
export const RESERVE_PASSCODE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[4])
return 1`;

/** Compare-and-delete of a passcode. KEYS: passcode, game's passcodes. ARGV: route value, passcode hash. */
export const RELEASE_PASSCODE = `
local deleted = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then deleted = redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return deleted`;

/**
 * Key routes of one game. KEYS: game's keys, node's games. ARGV: prefix, route value, TTL ms, game id, hashes…
 */
export const PUBLISH_KEY_ROUTES = `
for i = 5, #ARGV do
  redis.call('SET', ARGV[1] .. 'key:' .. ARGV[i], ARGV[2], 'PX', ARGV[3])
  redis.call('SADD', KEYS[1], ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
return 1`;

/**
 * A game's summary. An ended summary (finished, failed) is final: a late "still running" write cannot revive it.
 * KEYS: summary, node's games. ARGV: game id, node id, state, end reason ('' = none), createdAt, TTL ms, '1' if ended, then
 * optional public fields as name/value pairs (maxPlayers, difficulty). Returns 1 if written, 0 if ignored.
 */
export const PUBLISH_GAME = `
local current = redis.call('HGET', KEYS[1], 'state')
if (current == 'finished' or current == 'failed') and ARGV[7] ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'gameId', ARGV[1], 'nodeId', ARGV[2], 'state', ARGV[3], 'createdAt', ARGV[5])
if ARGV[4] == '' then redis.call('HDEL', KEYS[1], 'endReason') else redis.call('HSET', KEYS[1], 'endReason', ARGV[4]) end
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if ARGV[7] == '1' then redis.call('SREM', KEYS[2], ARGV[1]) else redis.call('SADD', KEYS[2], ARGV[1]) end
return 1`;

/**
 * Lua shared by REAP and RECONCILE: drops a game's passcode and key routes, each only if it still names
 * `game@node` (a passcode another game took since stays), and their per-game index sets.
 */
const DROP_ROUTES = `
local function dropRoutes(prefix, game, node)
  local route = game .. '@' .. node
  for _, kind in ipairs({'passcode', 'key'}) do
    local index = prefix .. 'game:' .. game .. ':' .. kind .. 's'
    for _, hash in ipairs(redis.call('SMEMBERS', index)) do
      local key = prefix .. kind .. ':' .. hash
      if redis.call('GET', key) == route then redis.call('DEL', key) end
    end
    redis.call('DEL', index)
  end
end`;

/**
 * Reaps a lost node, all or nothing, and only if its heartbeat is still missing, it is still a member and nobody
 * else claimed it: its unended games become failed / node_lost, their passcodes and key routes go (each only if it
 * still names that game), the node leaves the members, and the ids are left in its fencing mailbox.
 * KEYS: heartbeat, nodes, claim, node's games, node's lost. ARGV: prefix, node id, claimer id, claim TTL ms,
 * mailbox TTL ms. Returns the number of games declared lost, or -1 (alive), -2 (not a member), -3 (claimed).
 */
export const REAP = `${DROP_ROUTES}
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 then return -2 end
if not redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then return -3 end
local prefix = ARGV[1]
local lost = 0
for _, game in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local summary = prefix .. 'game:' .. game
  local state = redis.call('HGET', summary, 'state')
  if state ~= 'finished' and state ~= 'failed' then
    if state then redis.call('HSET', summary, 'state', 'failed', 'endReason', 'node_lost') end
    redis.call('SADD', KEYS[5], game)
    lost = lost + 1
  end
  dropRoutes(prefix, game, ARGV[2])
end
redis.call('DEL', KEYS[4])
redis.call('SREM', KEYS[2], ARGV[2])
if lost > 0 then redis.call('PEXPIRE', KEYS[5], ARGV[5]) end
return lost`;

/**
 * A restarted node's games it no longer runs, failed in one step (as REAP does for a lost node, but for one node's
 * own set, sparing the games it still runs): every member of the node's games not in the live list whose summary is
 * not ended becomes failed / node_restarted, its passcodes and key routes go (each only if it still names that
 * game on this node), and it leaves the set; an ended member only leaves the set (its summary and routes stay).
 * KEYS: node's games. ARGV: prefix, node id, live game ids…  Returns the number of games failed.
 */
export const RECONCILE = `${DROP_ROUTES}
local prefix = ARGV[1]
local live = {}
for i = 3, #ARGV do live[ARGV[i]] = true end
local failed = 0
for _, game in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not live[game] then
    local summary = prefix .. 'game:' .. game
    local state = redis.call('HGET', summary, 'state')
    if state ~= 'finished' and state ~= 'failed' then
      if state then redis.call('HSET', summary, 'state', 'failed', 'endReason', 'node_restarted') end
      failed = failed + 1
      dropRoutes(prefix, game, ARGV[2])
    end
    redis.call('SREM', KEYS[1], game)
  end
end
return failed`;

/**
 * A copy of stored results, first write wins (as in ResultsStore.saveGame). KEYS: results, leaderboard.
 * ARGV: StoredGame JSON, TTL ms, leaderboard cap, then score/member pairs (none for an abandoned round).
 * Returns 1 if stored, 0 if already there.
 */
export const PUBLISH_RESULTS = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if #ARGV > 3 then
  for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i + 1]) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], tonumber(ARGV[3]), -1)
end
return 1`;

/** The first ARGV[1] entries of a leaderboard as a flat {member, score, …}. KEYS: leaderboard. */
export const LEADERBOARD = `
return redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')`;
