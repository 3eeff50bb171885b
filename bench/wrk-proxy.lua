-- wrk-proxy.lua - request generator and machine-readable summary for bench/http.sh.
--
-- Usage: wrk ... -s bench/wrk-proxy.lua URL -- MODE ORIGIN PATH CONN
--   MODE   "proxy": send absolute-URI requests (GET http://ORIGIN/PATH) to URL,
--          which is the proxy; "direct": send origin-form requests (GET /PATH).
--   ORIGIN host:port of the origin server (the Host header in both modes).
--   PATH   path of the object, with its leading '/'.
--   CONN   "close" adds "Connection: close"; "keepalive" sends no Connection header.
--
-- done() prints one line starting with "BENCH " that http.sh parses; it does
-- not judge the figures. It owns nothing else.

local mode, origin, path, conn = "direct", nil, "/", "keepalive"
local req

function init(args)
    mode = args[1] or mode
    origin = args[2]
    path = args[3] or path
    conn = args[4] or conn
    local headers = {}
    if origin then
        headers["Host"] = origin
    end
    if conn == "close" then
        headers["Connection"] = "close"
    end
    local target = path
    if mode == "proxy" then
        target = "http://" .. origin .. path
    end
    req = wrk.format("GET", target, headers)
end

function request()
    return req
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d " ..
        "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.status, e.timeout))
end
