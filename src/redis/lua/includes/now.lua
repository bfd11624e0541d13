-- Redis's own clock, the one time every pod agrees on (a pod's clock may be off by any amount).
local function nowMs()
  local t = rcall("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function nowUs()
  local t = rcall("TIME")
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
