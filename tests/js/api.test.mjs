// node --test tests/js/: the fetch helper (web/static/js/api.js) against an in-memory
// fetch: JSON in and out, the CSRF header on changes, the server's error shape.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { ApiError, api } from "../../web/static/js/api.js";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** A fetch that records requests and answers with ``status`` and ``body``. */
function serve(status, body) {
  const seen = [];
  globalThis.fetch = async (path, init) => {
    seen.push({ path, ...init });
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status, statusText: "Teapot" });
  };
  return seen;
}

test("GET reads JSON and sends no CSRF header or body", async () => {
  const seen = serve(200, { ok: 1 });
  assert.deepEqual(await api("GET", "/api/routing"), { ok: 1 });
  assert.equal(seen[0].method, "GET");
  assert.equal(seen[0].headers["X-CSRF-Token"], undefined);
  assert.equal(seen[0].body, undefined);
  assert.equal(seen[0].credentials, "same-origin");
});

test("POST sends JSON with the CSRF header (empty outside a page)", async () => {
  const seen = serve(201, { id: 3 });
  assert.deepEqual(await api("POST", "/api/calls", { reason: "fall" }), { id: 3 });
  assert.equal(seen[0].headers["Content-Type"], "application/json");
  assert.equal(seen[0].headers["X-CSRF-Token"], "");
  assert.equal(seen[0].body, '{"reason":"fall"}');
});

test("an error answer becomes an ApiError with the server's code and message", async () => {
  serve(409, { error: { code: "conflict", message: "the hub already has a call for Edna Smith" } });
  await assert.rejects(api("POST", "/api/calls", {}), (err) => {
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.status, err.code, err.message], [409, "conflict", "the hub already has a call for Edna Smith"]);
    return true;
  });
  serve(502, "<html>bad gateway</html>"); // not JSON: the status text stands in
  await assert.rejects(api("GET", "/api/routing"), { status: 502, code: "http_error", message: "Teapot" });
});
