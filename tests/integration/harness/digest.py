"""A small HTTP Digest client (RFC 7616, MD5, qop=auth) that behaves like a
browser: once challenged it answers every later request preemptively with
the same nonce and opaque and a growing nc, keeps cookies, and follows no
redirects. Python's urllib cannot stand in: it refuses libmicrohttpd's
lowercase algorithm=md5 and challenges each request afresh (a new console
session every time)."""
import hashlib
import http.client
import os
import re
import urllib.parse


def _md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def parse_challenge(header):
    """The parameters of a WWW-Authenticate: Digest header."""
    assert header.lower().startswith("digest "), header
    params = {}
    for m in re.finditer(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', header[7:]):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return params


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_named(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def csrf(self):
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', self.text)
        return m.group(1) if m else None


class DigestClient:
    def __init__(self, host, port, user, password, timeout=30, source=None):
        self.host, self.port = host, port
        # A loopback source address of its own (127.0.0.x): the console
        # counts failed logins per client address.
        self.source = (source, 0) if source else None
        self.user, self.password = user, password
        self.timeout = timeout
        self.challenge = None
        self.nc = 0
        self.cookies = {}

    def _authorization(self, method, uri):
        c = self.challenge
        self.nc += 1
        nc = "%08x" % self.nc
        cnonce = os.urandom(8).hex()
        ha1 = _md5("%s:%s:%s" % (self.user, c["realm"], self.password))
        ha2 = _md5("%s:%s" % (method, uri))
        resp = _md5("%s:%s:%s:%s:auth:%s" % (ha1, c["nonce"], nc, cnonce, ha2))
        parts = ['username="%s"' % self.user, 'realm="%s"' % c["realm"],
                 'nonce="%s"' % c["nonce"], 'uri="%s"' % uri, "qop=auth", "nc=" + nc,
                 'cnonce="%s"' % cnonce, 'response="%s"' % resp, "algorithm=MD5"]
        if "opaque" in c:
            parts.append('opaque="%s"' % c["opaque"])
        return "Digest " + ", ".join(parts)

    def _send(self, method, uri, body, headers):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=self.source)
        h = dict(headers)
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if self.challenge is not None:
            h["Authorization"] = self._authorization(method, uri)
        conn.request(method, uri, body=body, headers=h)
        r = conn.getresponse()
        resp = Response(r.status, r.getheaders(), r.read())
        conn.close()
        for v in resp.headers_named("Set-Cookie"):
            name, _, rest = v.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp

    def request(self, method, uri, body=None, headers=(), retry=True):
        """One request; a 401 (first contact, stale nonce) is answered once
        with the new challenge, as a browser with remembered credentials does."""
        r = self._send(method, uri, body, headers)
        if r.status == 401 and retry:
            www = r.header("WWW-Authenticate")
            if www:
                self.challenge = parse_challenge(www)
                self.nc = 0
                r = self._send(method, uri, body, headers)
        return r

    def get(self, uri, **kw):
        return self.request("GET", uri, **kw)

    def post(self, uri, fields, **kw):
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", uri, body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, **kw)

    def post_form(self, uri, fields, form_uri=None):
        """GET the form (for its CSRF token), then POST fields with it."""
        page = self.get(form_uri or uri)
        token = page.csrf()
        assert token, "no CSRF token on %s (status %d)" % (form_uri or uri, page.status)
        return self.post(uri, dict(fields, csrf=token))
