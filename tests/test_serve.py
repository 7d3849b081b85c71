#!/usr/bin/python3
"""test_serve.py - `recoscope serve` on a tiny synthetic world (issue 16).

Starts the service on a random loopback port and checks:
  1. every endpoint: GET/POST /v1/recommend (the same object as `recommend --json`),
     /v1/similar, POST /v1/events and a session's mixed list (which row came from
     which), /healthz, /metrics;
  2. the errors: malformed JSON, unknown product/city/parameter/endpoint/event, bad k,
     405, 413 (Content-Length and chunked), a slow body cut, too many connections (503),
     a non-loopback address refused without --allow-remote;
  3. /metrics with a strict Prometheus text-format (0.0.4) parser, and its counts;
  4. a hot reload during traffic: `train` registers new models while 4 clients send
     requests; no request fails and the answers move to the new model ids;
  5. kill -9 during traffic, PRAGMA integrity_check, restart, same answers.
  RS_BIN  the recoscope binary
"""
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("RS_BIN")
if not BIN:
    print("RS_BIN must name the recoscope binary")
    sys.exit(1)
TMP = tempfile.mkdtemp(prefix="rs-serve-")
DB = os.path.join(TMP, "t.db")
checks = 0


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def run(*args, ok=True):
    p = subprocess.run([BIN, "--db", DB] + list(args), capture_output=True, text=True)
    if ok and p.returncode != 0:
        fail("recoscope %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr[-400:]))
    return p


class Server:
    def __init__(self, *extra):
        self.p = subprocess.Popen([BIN, "--db", DB, "serve", "--listen", "127.0.0.1:0"] +
                                  list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        line = self.p.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.p.kill()
            fail("serve did not start: %r %s" % (line, self.p.stderr.read()[-400:]))
        self.port = int(m.group(1))

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        rc = self.p.wait(timeout=30)
        self.p.stdout.close()
        self.p.stderr.close()
        return rc


def request(port, method, path, body=None, headers=None, conn=None):
    """(status, headers dict, body text); one connection per call unless conn."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    data = body if body is None or isinstance(body, bytes) else body.encode()
    c.request(method, path, body=data, headers=headers or {})
    r = c.getresponse()
    text = r.read().decode("utf-8")
    if not conn:
        c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, text


def get_json(port, path, status=200, method="GET", body=None):
    st, h, text = request(port, method, path, body)
    check(st == status, "%s %s: status %d, expected %d: %s" % (method, path, st, status, text[:300]))
    check(h.get("content-type", "").startswith("application/json"), "%s: content type %r" % (path, h))
    try:
        return json.loads(text)
    except ValueError:
        fail("%s %s: not JSON: %r" % (method, path, text[:300]))


# ---------------------------------------------------------------- Prometheus text format

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(r"^(%s)(\{(.*)\})? (\S+)( -?\d+)?$" % NAME)


def parse_labels(s, line):
    out, i = {}, 0
    while i < len(s):
        m = re.match(r"(%s)=\"" % LABEL, s[i:])
        if not m:
            fail("metrics: bad label at %r" % line)
        name, i = m.group(1), i + m.end()
        val = []
        while True:
            if i >= len(s):
                fail("metrics: unterminated label value in %r" % line)
            ch = s[i]
            if ch == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", "\"", "n"):
                    fail("metrics: bad escape \\%s in %r" % (nxt, line))
                val.append({"n": "\n"}.get(nxt, nxt))
                i += 2
            elif ch == "\"":
                i += 1
                break
            elif ch == "\n":
                fail("metrics: raw newline in a label value")
            else:
                val.append(ch)
                i += 1
        if name in out:
            fail("metrics: label %s twice in %r" % (name, line))
        out[name] = "".join(val)
        if i < len(s):
            if s[i] != ",":
                fail("metrics: expected ',' in %r" % line)
            i += 1
    return out


def parse_value(v, line):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$", v):
        fail("metrics: bad value %r in %r" % (v, line))
    return float(v)


def parse_metrics(text):
    """A strict reading of the text exposition format 0.0.4: {family: {type, samples}}."""
    if not text.endswith("\n"):
        fail("metrics: the text does not end with a newline")
    fams, order, current, seen = {}, [], None, set()
    for line in text.split("\n")[:-1]:
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    fail("metrics: bad comment %r" % line)
                continue
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if kind == "TYPE":
                if f["type"] or f["samples"]:
                    fail("metrics: TYPE of %s repeated or after its samples" % name)
                if rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    fail("metrics: bad type %r" % rest)
                f["type"] = rest
            else:
                if f["help"] is not None:
                    fail("metrics: HELP of %s repeated" % name)
                f["help"] = rest
            if name not in order:
                order.append(name)
            current = name
            continue
        if not line.strip():
            fail("metrics: empty line")
        m = SAMPLE.match(line)
        if not m:
            fail("metrics: bad sample line %r" % line)
        name, _, labels, value, _ = m.groups()
        labels = parse_labels(labels or "", line)
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[:-len(suffix)] in fams and \
                    fams[name[:-len(suffix)]]["type"] == "histogram":
                fam = name[:-len(suffix)]
        if fam != current:
            fail("metrics: sample %s outside its family's block (current %s)" % (name, current))
        if fams[fam]["type"] is None:
            fail("metrics: sample of %s before its TYPE" % fam)
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            fail("metrics: duplicate sample %r" % line)
        seen.add(key)
        v = parse_value(value, line)
        if fams[fam]["type"] == "counter" and not (v >= 0):
            fail("metrics: negative counter %r" % line)
        fams[fam]["samples"].append((name, labels, v))
    for name, f in fams.items():
        if f["type"] == "counter" and not name.endswith("_total"):
            fail("metrics: counter %s does not end in _total" % name)
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return fams


def check_histogram(name, samples):
    groups = {}
    for sname, labels, v in samples:
        rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            if "le" not in labels:
                fail("metrics: %s bucket without le" % name)
            g["buckets"].append((parse_value(labels["le"], sname), v))
        elif sname == name + "_sum":
            g["sum"] = v
        elif sname == name + "_count":
            g["count"] = v
        else:
            fail("metrics: %s in histogram %s" % (sname, name))
    for rest, g in groups.items():
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            fail("metrics: %s%r has no +Inf bucket last" % (name, rest))
        if any(b[i][0] >= b[i + 1][0] or b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            fail("metrics: %s%r buckets not increasing and cumulative" % (name, rest))
        if g["count"] is None or g["sum"] is None or g["count"] != b[-1][1]:
            fail("metrics: %s%r _count/_sum missing or count != +Inf bucket" % (name, rest))


def metric(fams, name, **labels):
    for fam in fams.values():
        for sname, l, v in fam["samples"]:
            if sname == name and all(l.get(k) == str(x) for k, x in labels.items()):
                return v
    fail("metrics: no %s%r" % (name, labels))


# ---------------------------------------------------------------- the checks

TRAIN = ["--dim", "8", "--epochs", "2", "--min-receipts", "100", "--threads", "1"]


def world():
    w = os.path.join(TMP, "w")
    p = subprocess.run([BIN, "synth", "--out", w, "--seed", "3", "--cities", "2",
                        "--departments", "2", "--categories", "6", "--products", "60",
                        "--receipts", "800"], capture_output=True, text=True)
    if p.returncode:
        fail("synth: " + p.stderr)
    run("import", "-q", "--products", w + "/products.csv", "--categories",
        w + "/categories.csv", w + "/receipts.csv")
    run("train", *TRAIN)
    db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
    ids = [r[0] for r in db.execute("SELECT ext_id FROM products ORDER BY id")]
    cities = [r[0] for r in db.execute("SELECT name FROM cities ORDER BY id")]
    db.close()
    return ids, cities


def check_endpoints(port, ids, cities):
    p = ids[0]
    # GET /v1/recommend: the object of `recommend --json`, byte for byte
    st, h, text = request(port, "GET", "/v1/recommend?product=%s&k=3" % p)
    cli = run("recommend", "--product", p, "-k", "3", "--json").stdout
    check(st == 200 and text + "\n" == cli, "GET /v1/recommend differs from recommend --json:"
          "\n%s\n%s" % (text[:300], cli[:300]))
    st, h, text = request(port, "GET", "/v1/recommend?product=%s&city=%s&kinds=complements,"
                          "completion&k=4" % (p, cities[1]))
    cli = run("recommend", "--product", p, "--city", cities[1], "--kind", "complements", "-k",
              "4", "--json").stdout
    d, c = json.loads(text), json.loads(cli)
    check(d["city"] == cities[1] and d["complements"] == c["complements"] and
          len(d["completion"]) == 4, "GET city/kinds: %s" % text[:300])
    # POST with a basket
    d = get_json(port, "/v1/recommend", method="POST", body=json.dumps(
        {"basket": [ids[1], ids[2]], "k": 2, "kinds": ["synonyms", "categories"]}))
    check([q["id"] for q in d["query"]] == [ids[1], ids[2]] and len(d["synonyms"]) == 2 and
          "complements" not in d, "POST basket: %s" % json.dumps(d)[:300])
    # similar = synonyms
    d = get_json(port, "/v1/similar?product=%s&k=5" % p)
    c = json.loads(run("recommend", "--product", p, "--kind", "synonyms", "-k", "5",
                       "--json").stdout)
    check(d["synonyms"] == c["synonyms"] and set(d) == {"city", "query", "models", "synonyms"},
          "similar: %s" % json.dumps(d)[:300])
    # events and a session
    d = get_json(port, "/v1/events", method="POST", body=json.dumps(
        {"session": "s-1", "events": [{"product": ids[10], "event": "view"},
                                      {"product": ids[20], "event": "addtocart"},
                                      {"product": ids[10], "event": "view"}]}))
    check(d == {"session": "s-1", "accepted": 3, "events": 3}, "events: %r" % d)
    d = get_json(port, "/v1/events", method="POST",
                 body=json.dumps({"session": "s-1", "product": ids[30], "event": "transaction"}))
    check(d["events"] == 4, "one event: %r" % d)
    d = get_json(port, "/v1/recommend?product=%s&session=s-1&k=6&kinds=synonyms,completion" % p)
    s = d.get("session", {})
    # weights view=1 (twice), addtocart=5, transaction=3: ids[20] 5, ids[30] 3, ids[10] 2
    check(s.get("online_query") == [ids[20], ids[30], ids[10]] and s.get("mode") == "mixed" and
          s.get("events") == 4, "session: %r" % s)
    for kind in ("synonyms", "completion"):
        src = s["sources"][kind]
        check(len(src) == len(d[kind]) == 6 and set(src) <= {"offline", "online", "both"} and
              any(x != "offline" for x in src), "sources of %s: %r" % (kind, src))
        rows = [r["id"] for r in d[kind]]
        check(len(set(rows)) == len(rows), "mixed %s rows repeat: %r" % (kind, rows))
    off = get_json(port, "/v1/recommend?product=%s&k=6&kinds=completion" % p)["completion"]
    on = get_json(port, "/v1/recommend", method="POST", body=json.dumps(
        {"basket": [ids[20], ids[30], ids[10]], "k": 6, "kinds": ["completion"]}))["completion"]
    off_ids, on_ids = {r["id"] for r in off}, {r["id"] for r in on}
    for r, src in zip(d["completion"], s["sources"]["completion"]):
        x = r["id"]  # a row in both lists carries one side's score: compare by id
        want = {"offline": x in off_ids and x not in on_ids,
                "online": x in on_ids and x not in off_ids,
                "both": x in on_ids and x in off_ids}[src]
        check(want, "row %s marked %s" % (x, src))
    d = get_json(port, "/v1/recommend?session=s-1&k=3&kinds=synonyms")
    check(d["session"]["mode"] == "online" and [q["id"] for q in d["query"]] ==
          [ids[20], ids[30], ids[10]], "session only: %r" % d["session"])
    d = get_json(port, "/v1/recommend?session=nobody&k=3")
    check(d["synonyms"] == [] and d["session"]["events"] == 0, "empty session: %r" % d)
    d = get_json(port, "/healthz")
    check(d["status"] == "ok" and d["generation"] == 1 and d["sessions"] == 1, "healthz: %r" % d)


def check_errors(port, ids):
    p = ids[0]
    for path, status, what in [
            ("/v1/recommend?product=NO_SUCH", 404, "unknown product 'NO_SUCH'"),
            ("/v1/recommend?product=%s&city=Atlantis" % p, 404, "unknown city 'Atlantis'"),
            ("/v1/recommend?product=%s&k=0" % p, 400, "'k'"),
            ("/v1/recommend?product=%s&k=abc" % p, 400, "'k'"),
            ("/v1/recommend?product=%s&kinds=telepathy" % p, 400, "'kinds'"),
            ("/v1/recommend?product=%s&colour=red" % p, 400, "unknown parameter 'colour'"),
            ("/v1/recommend?product=%s&product=%s" % (p, p), 400, "twice"),
            ("/v1/recommend", 400, "give product"),
            ("/v1/recommend?product=%01%02", 400, "'product'"),
            ("/v1/similar?product=%s&session=x" % p, 400, "unknown parameter"),
            ("/nowhere", 404, "no such endpoint"),
    ]:
        d = get_json(port, path, status)
        check(what in d.get("error", "") and d.get("status") == status, "%s: %r" % (path, d))
    for body, status, what in [
            ('{"basket": [', 400, "malformed JSON"),
            ('[1, 2]', 400, "not a JSON object"),
            ('{"basket": ["NO_SUCH"]}', 404, "unknown product"),
            ('{"basket": [{"a": 1}]}', 400, "array of product ids"),
            ('{"basket": ["%s"], "colour": 1}' % p, 400, "unknown parameter"),
            ('{"customer": "c1"}', 400, "customers"),
            ('', 400, "empty body"),
    ]:
        d = get_json(port, "/v1/recommend", status, method="POST", body=body)
        check(what in d.get("error", ""), "POST %r: %r" % (body, d))
    for body, status, what in [
            ('{"session": "s", "product": "%s", "event": "like"}' % p, 400, "unknown event 'like'"),
            ('{"session": "s", "product": "NO_SUCH", "event": "view"}', 404, "unknown product"),
            ('{"product": "%s", "event": "view"}' % p, 400, "session"),
            ('{"session": "s", "events": []}', 400, "events"),
            ('{"session": "s", "events": [1]}', 400, "not an object"),
    ]:
        d = get_json(port, "/v1/events", status, method="POST", body=body)
        check(what in d.get("error", ""), "events %r: %r" % (body, d))
    st, h, _ = request(port, "DELETE", "/v1/recommend")
    check(st == 405 and "POST" in h.get("allow", ""), "DELETE: %d %r" % (st, h))
    st, _, _ = request(port, "GET", "/v1/events")
    check(st == 405, "GET /v1/events: %d" % st)
    # bodies over --max-body (4096 here): announced, and chunked
    st, _, text = request(port, "POST", "/v1/recommend", body=b"x" * 100000)
    check(st == 413 and "too large" in text, "big body: %d %s" % (st, text))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.putrequest("POST", "/v1/recommend")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for _ in range(20):
        c.send(b"400\r\n" + b"y" * 1024 + b"\r\n")
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    check(r.status == 413, "chunked big body: %d" % r.status)
    c.close()
    # a body that never arrives is cut after --timeout (2 s here)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"se")
    s.settimeout(15)
    t0 = time.time()
    got = s.recv(100)
    check(got == b"" and time.time() - t0 < 10, "slow body: %r after %.1fs" % (got, time.time() - t0))
    s.close()
    # too many connections: 8 allowed here, 12 idle ones open
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
    time.sleep(0.3)
    st, h, text = request(port, "GET", "/healthz")
    check(st == 503 and "too many connections" in text and h.get("retry-after") == "1",
          "over the connection limit: %d %s" % (st, text))
    for x in idle:
        x.close()
    time.sleep(0.3)
    check(request(port, "GET", "/healthz")[0] == 200, "after the idle connections closed")
    # loopback only, unless asked
    p2 = subprocess.run([BIN, "--db", DB, "serve", "--listen", "0.0.0.0:0"],
                        capture_output=True, text=True, timeout=30)
    check(p2.returncode == 1 and "--allow-remote" in p2.stderr, "non-loopback: %d %s" %
          (p2.returncode, p2.stderr))


def check_metrics(port):
    st, h, text = request(port, "GET", "/metrics")
    check(st == 200 and h["content-type"].startswith("text/plain; version=0.0.4"),
          "metrics: %d %r" % (st, h))
    fams = parse_metrics(text)
    check(metric(fams, "recoscope_http_requests_total", endpoint="recommend", code="404") >= 3,
          "404 count")
    check(metric(fams, "recoscope_http_requests_total", endpoint="recommend", code="413") == 2,
          "413 count")
    check(metric(fams, "recoscope_http_requests_total", endpoint="recommend", code="405") == 1,
          "405 count")
    check(metric(fams, "recoscope_http_requests_total", endpoint="events", code="200") == 2,
          "events count")
    check(metric(fams, "recoscope_http_request_duration_seconds_count", endpoint="similar") == 2,
          "similar latency count")
    check(metric(fams, "recoscope_recommend_mix_total", mode="mixed") == 1 and
          metric(fams, "recoscope_recommend_mix_total", mode="online") == 2, "mix counts")
    check(metric(fams, "recoscope_recommend_rows_total", source="online") > 0, "online rows")
    check(metric(fams, "recoscope_empty_results_total", endpoint="recommend",
                 kind="synonyms") >= 1, "empty results")
    check(metric(fams, "recoscope_events_total", event="view") == 2 and
          metric(fams, "recoscope_events_total", event="transaction") == 1, "events by type")
    check(metric(fams, "recoscope_http_rejected_total", reason="connections") >= 1 and
          metric(fams, "recoscope_http_rejected_total", reason="body_too_large") == 2 and
          metric(fams, "recoscope_http_rejected_total", reason="timeout") == 1, "rejections")
    ages = fams["recoscope_model_age_seconds"]["samples"]
    kinds = {l["kind"] for _, l, _ in ages}
    check(len(ages) == 3 * len(kinds) and all(v >= 0 for _, _, v in ages) and
          {"product", "category", "als", "ease"} <= kinds,
          "model ages: %r" % ages)
    return fams


class Traffic:
    """n threads sending GET /v1/recommend on keep-alive connections until stopped."""

    def __init__(self, port, ids, n=4, tolerate_errors=False):
        self.port, self.ids, self.stop_, self.tolerate = port, ids, False, tolerate_errors
        self.ok, self.bad, self.errors, self.model_ids = 0, [], 0, set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, args=(i,)) for i in range(n)]
        for t in self.threads:
            t.start()

    def loop(self, i):
        conn, j = None, i
        while not self.stop_:
            j += 1
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
                st, _, text = request(self.port, "GET", "/v1/recommend?product=%s&k=3" %
                                      self.ids[j % len(self.ids)], conn=conn)
                with self.lock:
                    if st == 200:
                        self.ok += 1
                        self.model_ids.add(json.loads(text)["models"]["synonyms"]["model_id"])
                    else:
                        self.bad.append((st, text[:200]))
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.errors += 1
                    if not self.tolerate:
                        self.bad.append(("error", repr(e)))
                conn = None
                if self.tolerate:
                    time.sleep(0.01)

    def stop(self):
        self.stop_ = True
        for t in self.threads:
            t.join()


def check_reload(port, ids):
    before = get_json(port, "/v1/recommend?product=%s&k=3" % ids[0])["models"]["synonyms"]["model_id"]
    traffic = Traffic(port, ids)
    time.sleep(0.5)
    run("train", "--kind", "product", *TRAIN)
    deadline = time.time() + 30
    while time.time() < deadline:
        d = get_json(port, "/healthz")
        if d["generation"] > 1:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    traffic.stop()
    check(d["generation"] > 1, "no reload after train: %r" % d)
    check(not traffic.bad, "requests failed during the reload: %r" % traffic.bad[:5])
    after = get_json(port, "/v1/recommend?product=%s&k=3" % ids[0])["models"]["synonyms"]["model_id"]
    check(after != before and {before, after} <= traffic.model_ids,
          "answers did not move to the new model: %s -> %s, seen %r" %
          (before, after, traffic.model_ids))
    fams = parse_metrics(request(port, "GET", "/metrics")[2])
    check(metric(fams, "recoscope_model_reloads_total", result="ok") >= 1, "reload counter")
    print("reload: %d requests during train, none failed, model %s -> %s, generation %d" %
          (traffic.ok, before, after, d["generation"]))
    return after


def active_ids(city_id):
    db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
    v = sorted(r[0] for r in db.execute("SELECT id FROM models WHERE active AND city_id = ?",
                                        (city_id,)))
    db.close()
    return v


def check_if_changed(port, ids, cities):
    """train --if-changed: nothing new, nothing trained; new receipts in one city: that
    city and all cities retrained, the other skipped; the service follows."""
    out = run("train", "--if-changed", *TRAIN).stderr
    check(out.count("skip:") == 3 and "retrain" not in out, "if-changed, no news: %s" % out)
    gen = get_json(port, "/healthz")["generation"]
    before = {c: active_ids(c) for c in (0, 1, 2)}
    extra = os.path.join(TMP, "extra.csv")
    with open(extra, "w") as f:
        f.write("receipt_id,product_id,city,quantity,timestamp,customer_id\n")
        for r in range(3):
            for p in ids[r * 3:r * 3 + 3]:
                f.write("NEW%d,%s,%s,1,2025-06-01 10:00:00,C9\n" % (r, p, cities[1]))
    run("import", "-q", extra)
    out = run("train", "--if-changed", *TRAIN).stderr
    check("[%s]: skip" % cities[0] in out and "[%s]: retrain" % cities[1] in out and
          "[all cities]: retrain" in out, "if-changed after an import into city 2: %s" % out)
    after = {c: active_ids(c) for c in (0, 1, 2)}
    check(after[1] == before[1] and after[2] != before[2] and after[0] != before[0],
          "if-changed trained the wrong cities: %r -> %r" % (before, after))
    deadline = time.time() + 30
    while get_json(port, "/healthz")["generation"] == gen and time.time() < deadline:
        time.sleep(0.1)
    check(get_json(port, "/healthz")["generation"] > gen, "no reload after train --if-changed")
    print("if-changed: %s" % " | ".join(l for l in out.strip().split("\n") if "retrain:" in l
                                          or "skip:" in l))


def check_kill9(srv, ids):
    # the server must have caught up with the database first: `train` writes the
    # completion choice (which complements rank by) after registering its models, and a
    # reload between the two is followed by another one when the choice lands
    gen, deadline = None, time.time() + 30
    while time.time() < deadline:
        now = get_json(srv.port, "/healthz")["generation"]
        if now == gen:
            break
        gen = now
        time.sleep(1.0)
    before = request(srv.port, "GET", "/v1/recommend?product=%s&k=5" % ids[3])[2]
    traffic = Traffic(srv.port, ids, tolerate_errors=True)
    time.sleep(0.5)
    srv.p.send_signal(signal.SIGKILL)
    srv.p.wait(timeout=30)
    time.sleep(0.2)
    traffic.stop()
    check(traffic.ok > 0, "no traffic before kill -9")
    db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
    res = db.execute("PRAGMA integrity_check").fetchall()
    db.close()
    check(res == [("ok",)], "integrity_check after kill -9: %r" % res)
    srv2 = Server("--poll", "0.2")
    after = request(srv2.port, "GET", "/v1/recommend?product=%s&k=5" % ids[3])[2]
    check(after == before, "answers differ after the restart")
    print("kill -9: %d requests answered before, integrity ok, same answer after restart" %
          traffic.ok)
    return srv2


def main():
    ids, cities = world()
    srv = Server("--poll", "0.2", "--timeout", "2", "--max-body", "4096",
                 "--max-connections", "8", "--threads", "2")
    try:
        check_endpoints(srv.port, ids, cities)
        check_errors(srv.port, ids)
        check_metrics(srv.port)
        check_reload(srv.port, ids)
        check_if_changed(srv.port, ids, cities)
        srv = check_kill9(srv, ids)
        rc = srv.stop()
        check(rc == 0, "SIGTERM: exit %d" % rc)
        srv = None
    finally:
        if srv and srv.p.poll() is None:
            srv.p.kill()
            srv.p.wait()
    print("ok: %d checks" % checks)


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
