// Small fetch helpers: JSON in and out, CSRF header on every state-changing call.

const csrf = () => globalThis.document?.querySelector('meta[name="csrf-token"]')?.content ?? "";

export { csrf as csrfToken };

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = data.error ?? {};
    throw new ApiError(resp.status, err.code ?? "http_error", err.message ?? resp.statusText);
  }
  return data;
}
