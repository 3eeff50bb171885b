-- wrk-proxy.lua - request generator and machine-readable summary for bench/http.sh.
--
-- Usage: wrk ... -s bench/wrk-proxy.lua URL -- MODE ORIGIN PATH CONN [COUNT THREADS END]
--   MODE   "proxy": send absolute-URI requests (GET http://ORIGIN/PATH) to URL,
--          which is the proxy; "direct": send origin-form requests (GET /PATH).
--   ORIGIN host:port of the origin server (the Host header in both modes).
--   PATH   path of the object, with its leading '/'. With COUNT, a format
--          with one integer conversion (e.g. "/u23k/f%07d.bin") naming the
--          files 0 .. COUNT-1 of a pool of distinct bodies (unique mode).
--   CONN   "close" adds "Connection: close"; "keepalive" sends no Connection header.
--   COUNT  unique mode: the pool's size. Thread k of THREADS (wrk -t, the
--          same number) requests the files k, k+THREADS, k+2*THREADS, ...
--          in that order, so no file is requested twice in the run, by any
--          thread or connection.
--   END    what a thread does when its share is used up: "stop" (the thread
--          stops, wrk.thread:stop(); wrk still divides by the whole duration,
--          so http.sh flags the cell) or "wrap" (it starts over at its first
--          file: only for targets where nothing caches by content).
--
-- done() prints one line starting with "BENCH " that http.sh parses; in
-- unique mode it carries pool_sent (requests generated, the files handed
-- out), pool_max (the highest file index handed out, -1 for none: http.sh
-- re-stamps files 0 .. pool_max before the next scanned cell),
-- pool_stopped (threads that ran out) and pool_wraps. It does not judge the
-- figures. It owns nothing else.

local mode, origin, path, conn = "direct", nil, "/", "keepalive"
local req

-- unique mode (count > 0)
local count, nthreads, on_end = 0, 1, "stop"
local pre, post, fmt
-- per-thread state, read by done() through thread:get()
sent, max_index, stopped, wraps = 0, -1, 0, 0
local next_index, step, first

-- setup() runs in the main Lua state, once per thread and before that
-- thread's init(): it numbers the threads (id, from 0).
local threads = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    mode = args[1] or mode
    origin = args[2]
    path = args[3] or path
    conn = args[4] or conn
    count = tonumber(args[5] or "0")
    nthreads = tonumber(args[6] or "1")
    on_end = args[7] or on_end
    local headers = {}
    if origin then
        headers["Host"] = origin
    end
    if conn == "close" then
        headers["Connection"] = "close"
    end
    local prefix = ""
    if mode == "proxy" then
        prefix = "http://" .. origin
    end
    if count > 0 then
        -- The request split around the conversion of PATH, so that a request
        -- is a format and two concatenations (wrk.format per request is slow).
        local whole = wrk.format("GET", prefix .. path, headers)
        local at, to = string.find(whole, "%%%d*d")
        pre = string.sub(whole, 1, at - 1)
        fmt = string.sub(whole, at, to)
        post = string.sub(whole, to + 1)
        first = id or 0
        step = nthreads
        next_index = first
    else
        req = wrk.format("GET", prefix .. path, headers)
    end
end

function request()
    if count == 0 then
        return req
    end
    if next_index >= count then
        if on_end == "wrap" and first < count then
            wraps = wraps + 1
            next_index = first
        else
            -- This thread's share is used up: stop it. The loop may still
            -- ask for a request before it ends; a path outside the pool
            -- (a 404 from nginx, never a repeated body) answers that.
            if stopped == 0 then
                stopped = 1
                wrk.thread:stop()
            end
            return pre .. "exhausted" .. post
        end
    end
    local i = next_index
    next_index = next_index + step
    sent = sent + 1
    if i > max_index then
        max_index = i
    end
    return pre .. string.format(fmt, i) .. post
end

function done(summary, latency, requests)
    local e = summary.errors
    local psent, pmax, pstopped, pwraps = 0, -1, 0, 0
    for _, thread in ipairs(threads) do
        psent = psent + (thread:get("sent") or 0)
        pmax = math.max(pmax, thread:get("max_index") or -1)
        pstopped = pstopped + (thread:get("stopped") or 0)
        pwraps = pwraps + (thread:get("wraps") or 0)
    end
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d " ..
        "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d " ..
        "pool_sent=%d pool_max=%d pool_stopped=%d pool_wraps=%d\n",
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.status, e.timeout,
        psent, pmax, pstopped, pwraps))
end
