#!lua flags=no-writes
--[[
  The members of a sorted set scored with a time (touchIndex-1.lua) that is due by Redis's clock.

  KEYS[1] the sorted set
  ARGV[1] at most this many

  Returns {now, member, score, member, score, ...}, oldest first
]]
local rcall = redis.call
--- @include "includes/now"

local now = nowMs()
local due = rcall("ZRANGEBYSCORE", KEYS[1], "-inf", now, "WITHSCORES", "LIMIT", 0, ARGV[1])
table.insert(due, 1, now)
return due
