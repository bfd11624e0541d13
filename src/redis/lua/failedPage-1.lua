#!lua flags=no-writes
--[[
  A page of an entity's failed jobs, oldest failure first, with what an operator looks at.

  KEYS[1] failed
  ARGV[1] job key prefix
  ARGV[2] offset
  ARGV[3] at most this many

  Returns {total, id, name, data, failedReason, attemptsMade, finishedOn, aqe, ...}: seven values
  per job (false where a field is unset); a job whose hash is gone is left out
]]
local rcall = redis.call
local prefix = ARGV[1]
local offset = tonumber(ARGV[2])
local out = {rcall("ZCARD", KEYS[1])}
for _, id in ipairs(rcall("ZRANGE", KEYS[1], offset, offset + tonumber(ARGV[3]) - 1)) do
  local f = rcall("HMGET", prefix .. id, "name", "data", "failedReason", "atm", "finishedOn", "aqe")
  if f[1] then
    out[#out + 1] = id
    for i = 1, 6 do
      out[#out + 1] = f[i]
    end
  end
end
return out
