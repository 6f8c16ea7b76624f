-- Posts pre-signed webhook bodies from BODIES (one "signature<TAB>body" per line);
-- each wrk thread takes its own slice, posts it once and stops.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[1])
  local lines = {}
  local i = 0
  for line in io.lines(os.getenv("BODIES")) do
    if i % nthreads == id then
      local tab = line:find("\t", 1, true)
      table.insert(lines, { line:sub(1, tab - 1), line:sub(tab + 1) })
    end
    i = i + 1
  end
  mine, nxt, answered, failed = lines, 1, 0, 0
end

function request()
  local item = mine[nxt] or mine[#mine]
  nxt = nxt + 1
  return wrk.format("POST", "/webhook",
    { ["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = item[1] }, item[2])
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then failed = failed + 1 end
  if answered == #mine then
    io.write("DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local f = 0
  for _, t in ipairs(threads) do f = f + t:get("failed") end
  io.write(string.format("FAILED %d\n", f))
end
