// The console's access to the bridge's HTTP API: JSON calls, images and the event stream, each with the
// bearer token in the Authorization header (never in a URL, never in a cookie).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class BridgeApi {
  // getToken: () => string, read at each call so a newly typed token is used at once.
  constructor(getToken) {
    this.getToken = getToken;
  }

  headers(extra) {
    const headers = { ...extra };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  async request(method, path, { body, accept = "application/json", extraHeaders = {}, signal } = {}) {
    const headers = this.headers({ Accept: accept, ...extraHeaders });
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        signal,
      });
    } catch (err) {
      if (signal && signal.aborted) throw err;
      throw new ApiError(0, "network_error", "The bridge did not answer. Is it still running?");
    }
  }

  // A JSON call; an error answer becomes an ApiError with the bridge's stable code.
  async call(method, path, body) {
    const response = await this.request(method, path, { body });
    if (response.status === 204) return null;
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (payload && payload.error) || {};
      throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || response.statusText);
    }
    return payload;
  }

  // An image (the widget's screenshot) as a Blob, for an object URL: an <img src> could not send the token.
  async blob(path) {
    const response = await this.request("GET", path, { accept: "image/png" });
    if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, response.statusText);
    return response.blob();
  }

  // Reads a text/event-stream with fetch (EventSource cannot send the Authorization header), calling
  // onEvent(type, data) per event. Returns when the bridge ends the stream (the enrollment finished)
  // or signal aborts; a dropped connection is picked up again after the last event id seen.
  async follow(path, signal, onEvent) {
    let lastId = null;
    while (!signal.aborted) {
      const extraHeaders = lastId === null ? {} : { "Last-Event-ID": lastId };
      try {
        const response = await this.request("GET", path, { accept: "text/event-stream", extraHeaders, signal });
        if (!response.ok || !response.body) return;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const event = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (event.id !== null) lastId = event.id;
            if (event.data !== null) onEvent(event.type, event.data);
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }
}

// One event block of the text/event-stream format (the HTML standard, "Server-sent events": fields
// id, event and data, one per line; comment lines start with a colon).
export function parseEvent(block) {
  const event = { id: null, type: "message", data: null };
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") event.id = value;
    else if (field === "event") event.type = value;
    else if (field === "data") data.push(value);
  }
  if (data.length) {
    try {
      event.data = JSON.parse(data.join("\n"));
    } catch (err) {
      event.data = null;
    }
  }
  return event;
}
