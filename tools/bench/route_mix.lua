-- The Redis ceiling for the router's command mix (tools/bench/bench_router.sh, run by
-- redis-benchmark as EVAL): what the router asks of Redis per request, done inside Redis with
-- no client in between. One call = XREADGROUP COUNT ARGV[3] of P:requests (the router reads
-- 100 at a time), then per entry what the router's MULTI/EXEC holds: XADD of its fields (plus
-- attempt, routed_at) to a node stream, XACK and XDEL of the source, XADD of a "routed" event.
-- KEYS[1] P:requests, KEYS[2] P:events; ARGV: group, consumer, count, number of node streams.
local e = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not e then return 0 end
local ents = e[1][2]
local nn = tonumber(ARGV[4])
for i, en in ipairs(ents) do
  local id, f = en[1], en[2]
  local node = string.format('cn%03d', i % nn)
  local model = ''
  for j = 1, #f, 2 do if f[j] == 'model' then model = f[j + 1] end end
  f[#f + 1] = 'attempt'; f[#f + 1] = '1'; f[#f + 1] = 'routed_at'; f[#f + 1] = '0'
  redis.call('XADD', KEYS[1] .. ':' .. node, '*', unpack(f))
  redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'type', 'routed', 'request_id', id,
             'node_id', node, 'model', model, 'kind', 'sticky')
end
return #ents
