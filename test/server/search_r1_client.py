#!/usr/bin/env python3
"""Clients of Search-R1's retrieval server, re-enacted with the standard library only (urllib), run
against a live `tessera serve` by test/server/e2e.test.ts.

  search_r1_client.py URL contract   Search-R1 trainer and verl tool requests, answer shapes, formatting
  search_r1_client.py URL limits     every bad request gets its 4xx, the field named (server started
                                     with --max-batch 8 --max-queue 100 --max-topk 10 --body-limit 8192)
  search_r1_client.py URL concurrent concurrent requests each get their own answers, in order
  search_r1_client.py URL queue      queue full -> 503 + Retry-After, request past its deadline -> 504
                                     (server started with --max-wait-ms 400 --max-queue 2 --timeout-ms 200)

Prints one JSON object on stdout (what the test compares across backends) and exits non-zero with
the failed check on stderr.
"""
import gzip
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

URL = sys.argv[1].rstrip("/")
MODE = sys.argv[2]


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def post(body, headers=None, timeout=None, raw=None):
    """POST /retrieve; returns (status, headers (case-insensitive), parsed body). `raw` sends bytes as they are."""
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(URL + "/retrieve", data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, e.headers, json.loads(text) if text else None


# --- Search-R1's trainer (search_r1/llm_agent/generation.py): all queries of a turn in one post,
# topk=3, return_scores=True, requests.post(json=...) (so a JSON content type), no timeout, no retry.
def search_r1_batch_search(queries, topk=3):
    status, _, body = post({"queries": queries, "topk": topk, "return_scores": True},
                           headers={"Content-Type": "application/json", "User-Agent": "python-requests/2.32"})
    check(status == 200, f"Search-R1 trainer request answered {status}: {body}")
    return body["result"]


def search_r1_passages2string(retrieval_result):
    # The trainer's own formatting of one query's hits.
    format_reference = ""
    for idx, doc_item in enumerate(retrieval_result):
        content = doc_item["document"]["contents"]
        title = content.split("\n")[0]
        text = "\n".join(content.split("\n")[1:])
        format_reference += f"Doc {idx+1}(Title: {title}) {text}\n"
    return format_reference


# --- verl's Search-R1-like tool (verl/tools/utils/search_r1_like_utils.py): JSON + Accept headers,
# 30 s timeout, retries 5xx with a delay up to 10 times, formats with a newline after the title.
def verl_call_search_api(queries, topk=3, max_retries=10):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    last = None
    for attempt in range(max_retries):
        status, hdrs, body = post({"queries": queries, "topk": topk, "return_scores": True}, headers=headers, timeout=30)
        if status < 500:
            check(status == 200, f"verl request answered {status}: {body}")
            return body
        last = (status, body)
        time.sleep(min(float(hdrs.get("Retry-After", 1)), 2))
    check(False, f"verl client gave up after {max_retries} retries: {last}")


def verl_passages2string(retrieval_result):
    format_reference = ""
    for idx, doc_item in enumerate(retrieval_result):
        content = doc_item["document"]["contents"]
        title = content.split("\n")[0]
        text = "\n".join(content.split("\n")[1:])
        format_reference += f"Doc {idx + 1} (Title: {title})\n{text}\n\n"
    return format_reference


QUERIES = [
    "a building where you can borrow books",
    "capital of france",
    "the planet we live on",
    "a doctor who treats children",
]


def contract():
    result = search_r1_batch_search(QUERIES)
    check(isinstance(result, list) and len(result) == len(QUERIES), "one result list per query")
    ids = []
    for hits in result:
        check(len(hits) == 3, f"topk=3 gives 3 hits, got {len(hits)}")
        scores = [h["score"] for h in hits]
        check(all(isinstance(s, float) for s in scores), "scores are floats")
        check(scores == sorted(scores, reverse=True), f"scores best first: {scores}")
        for h in hits:
            doc = h["document"]
            check(set(doc) == {"id", "contents"}, f"document is the whole corpus row: {doc}")
        ids.append([int(h["document"]["id"]) for h in hits])
    formatted = [search_r1_passages2string(r) for r in result]
    check(formatted[0].startswith('Doc 1(Title: "Library") '), f"trainer formatting: {formatted[0]!r}")
    check('(Title: "Paris")' in formatted[1], f"capital of france finds Paris: {formatted[1]!r}")
    check('(Title: "Earth")' in formatted[2], f"the planet we live on finds Earth: {formatted[2]!r}")

    verl = verl_call_search_api(QUERIES[:2])
    check(verl["result"] == result[:2], "verl's request gets the same answer as the trainer's")
    check(verl_passages2string(verl["result"][0]).startswith('Doc 1 (Title: "Library")\n'), "verl formatting")

    # Missing / null / 0 topk -> the server default (3); unknown fields ignored.
    for body in ({"queries": QUERIES[:1]}, {"queries": QUERIES[:1], "topk": None}, {"queries": QUERIES[:1], "topk": 0, "extra": 1}):
        status, _, b = post(body, headers={"Content-Type": "application/json"})
        check(status == 200 and len(b["result"][0]) == 3, f"default topk for {body}: {status} {b}")
    # Read as Search-R1's pydantic model reads them (lax mode): a topk from a config string, a 0/1 or "yes" flag.
    status, _, b = post({"queries": QUERIES[:1], "topk": "2", "return_scores": "yes"})
    check(status == 200 and [h["document"] for h in b["result"][0]] == [h["document"] for h in result[0][:2]]
          and all(isinstance(h["score"], float) for h in b["result"][0]), f"topk '2', return_scores 'yes': {status} {b}")
    status, _, b = post({"queries": QUERIES[:1], "topk": 2.0, "return_scores": 0})
    check(status == 200 and b["result"][0] == [h["document"] for h in result[0][:2]], f"topk 2.0, return_scores 0: {status} {b}")
    # return_scores false: the rows alone (Search-R1's own server answers 500 there).
    status, _, rows = post({"queries": QUERIES[:1], "topk": 2, "return_scores": False})
    check(status == 200 and rows["result"][0] == [h["document"] for h in result[0][:2]], f"rows alone: {rows}")
    # The trainer posts an empty list when no rollout searched.
    status, _, empty = post({"queries": [], "topk": 3, "return_scores": True}, headers={"Content-Type": "application/json"})
    check(status == 200 and empty == {"result": []}, f"queries [] -> {empty}")
    # A gzip-compressed body (requests with a gzip hook, an HTTP proxy) is decoded.
    status, _, b = post(None, raw=gzip.compress(json.dumps({"queries": QUERIES[:1], "topk": 2}).encode()),
                        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    check(status == 200 and b["result"][0] == [h["document"] for h in result[0][:2]], f"gzip body: {status} {b}")
    # curl -d posts form-encoded content type: still JSON to us.
    status, _, b = post(None, raw=json.dumps({"queries": QUERIES[:1]}).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(status == 200, f"curl -d style request: {status}")
    with urllib.request.urlopen(URL + "/health") as r:
        health = json.loads(r.read())
        check(r.status == 200 and health["status"] == "ok", f"health: {health}")
    with urllib.request.urlopen(URL + "/metrics") as r:
        metrics = r.read().decode()
        check("tessera_batch_queries_bucket" in metrics and "tessera_requests_total" in metrics, "metrics")
    print(json.dumps({"ids": ids, "scores": [[h["score"] for h in hits] for hits in result], "formatted": formatted}))


def limits():
    def expect(body, status, field=None, code=None, raw=None, headers=None):
        got, hdrs, b = post(body, raw=raw, headers=headers or {"Content-Type": "application/json"})
        check(got == status, f"{body if raw is None else raw[:40]} -> {got}, expected {status}: {b}")
        err = b["error"]
        check(err["status"] == status and err["message"], f"error envelope: {b}")
        if field is not None:
            check(err.get("field") == field, f"field named {field!r}: {err}")
            check(field.split("[")[0] in err["message"], f"message names {field}: {err['message']}")
        if code is not None:
            check(err["code"] == code, f"code {code}: {err}")
        return err

    expect({"topk": 3}, 400, "queries", "INVALID_ARGUMENT")
    expect({"queries": "one string"}, 400, "queries")
    expect({"queries": ["ok", 7]}, 400, "queries[1]")
    expect({"queries": ["a"], "topk": "three"}, 400, "topk")
    expect({"queries": ["a"], "topk": -1}, 400, "topk")
    expect({"queries": ["a"], "topk": 1.5}, 400, "topk")
    expect({"queries": ["a"], "topk": 11}, 400, "topk")  # above --max-topk 10
    expect({"queries": ["a"], "return_scores": "maybe"}, 400, "return_scores")
    expect(None, 400, raw=b'{"queries": [')
    # GET /retrieve: 405 naming the method to use, as FastAPI answers.
    try:
        urllib.request.urlopen(URL + "/retrieve")
        check(False, "GET /retrieve answered 200")
    except urllib.error.HTTPError as e:
        check(e.code == 405 and e.headers.get("Allow") == "POST", f"GET /retrieve -> {e.code} Allow {e.headers.get('Allow')}")
    expect({"queries": ["q%d" % i for i in range(101)]}, 413, "queries", "BATCH_TOO_LARGE")  # above --max-queue 100
    # Above --max-batch 8 but within the queue: split over batches, answered as if asked one by one
    # (Search-R1's GRPO trainer posts 512 x 5 queries in one request). Scores may differ in the last
    # float bits: the encoder pads a batch to its longest text.
    many = [QUERIES[i % len(QUERIES)] + (" again" * (i // len(QUERIES))) for i in range(12)]
    together = search_r1_batch_search(many)
    check(len(together) == len(many), f"one list per query of a split request: {len(together)}")
    for q, hits in zip(many, together):
        alone = search_r1_batch_search([q])[0]
        check([h["document"] for h in hits] == [h["document"] for h in alone]
              and all(abs(h["score"] - a["score"]) < 1e-5 for h, a in zip(hits, alone)),
              f"split request answers {q!r} as alone: {hits} vs {alone}")
    expect({"queries": ["x" * 9000]}, 413, code="BODY_TOO_LARGE")  # above --body-limit 8192
    # The server is unharmed: a good request still answers.
    status, _, b = post({"queries": ["capital of france"], "topk": 10, "return_scores": True})
    check(status == 200 and len(b["result"][0]) == 10, f"good request after bad ones: {status}")
    print(json.dumps({"ok": True}))


def concurrent():
    # Each request's expected answer, asked alone first.
    reqs = [[f"{w} number {i}" for w in ("library", "river", "music", "king", "doctor")[: 1 + i % 5]] for i in range(48)]
    alone = [post({"queries": q, "topk": 2, "return_scores": True})[2]["result"] for q in reqs]
    start = threading.Barrier(16)

    def one(i):
        if i < 16:
            start.wait()
        status, _, b = post({"queries": reqs[i], "topk": 2, "return_scores": True}, headers={"Content-Type": "application/json"})
        check(status == 200, f"concurrent request {i}: {status} {b}")
        return b["result"]

    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(one, range(len(reqs))))
    for i, (a, t) in enumerate(zip(alone, together)):
        check([[h["document"]["id"] for h in hits] for hits in a] == [[h["document"]["id"] for h in hits] for hits in t],
              f"request {i} got its own answers in order")
    print(json.dumps({"requests": len(reqs)}))


def queue():
    # --max-wait-ms 400 holds a lone request 400 ms; --max-queue 2; --timeout-ms 200.
    out = {}

    def first():
        out["first"] = post({"queries": ["one", "two"]})

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.05)
    status, hdrs, b = post({"queries": ["three"]})
    check(status == 503 and b["error"]["code"] == "QUEUE_FULL", f"queue full -> 503: {status} {b}")
    check(int(hdrs.get("Retry-After", "0")) >= 1, f"503 carries Retry-After: {dict(hdrs)}")
    t.join()
    status, _, b = out["first"]
    check(status == 504 and b["error"]["code"] == "TIMEOUT", f"request past its deadline -> 504: {status} {b}")
    print(json.dumps({"ok": True}))


{"contract": contract, "limits": limits, "concurrent": concurrent, "queue": queue}[MODE]()
