// A fetch wrapper that records every HTTP exchange (method, URL, status, headers, bodies) into a
// buffer, with every token, code and secret redacted, for printing when an interop step fails.

const SECRET_FIELDS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'code_verifier',
  'client_secret',
  'token',
  'password',
  'csrf',
  'csrf_token',
  'registration_access_token',
]);
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'dpop']);
const MAX_BODY = 2000;

/** Redacts the secret members of a query string or form body. */
function redactForm(text) {
  const params = new URLSearchParams(text);
  for (const key of [...params.keys()]) {
    if (SECRET_FIELDS.has(key)) params.set(key, '<redacted>');
  }
  return params.toString();
}

/** Redacts the secret query parameters of a URL. */
export function redactUrl(url) {
  try {
    const parsed = new URL(String(url));
    parsed.search = parsed.search ? `?${redactForm(parsed.search.slice(1))}` : '';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}

function redactJson(value) {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? '<redacted>' : redactJson(v)]),
    );
  }
  return value;
}

/** Redacts a body by its media type; bodies that cannot be parsed are shown only by length. */
function redactBody(text, contentType) {
  if (!text) return '';
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  let shown;
  if (type === 'application/json' || text.startsWith('{') || text.startsWith('[')) {
    try {
      shown = JSON.stringify(redactJson(JSON.parse(text)));
    } catch {
      shown = `<${text.length} bytes, not JSON>`;
    }
  } else if (type === 'application/x-www-form-urlencoded') {
    shown = redactForm(text);
  } else if (type === 'text/event-stream') {
    shown = text
      .split('\n')
      .map((line) => {
        if (!line.startsWith('data:')) return line;
        try {
          return `data: ${JSON.stringify(redactJson(JSON.parse(line.slice(5))))}`;
        } catch {
          return line;
        }
      })
      .join('\n');
  } else if (type === 'text/html' || type === 'text/plain') {
    // Error pages: the text only, with secret-looking `name=value` pairs (e.g. a redirect URL's
    // code in "Found. Redirecting to ...") redacted; hidden form inputs disappear with the tags.
    const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    shown = `${type}: ${plain.replace(/\b([a-z_]+)=([^&\s"']+)/gi, (m, k) => (SECRET_FIELDS.has(k.toLowerCase()) ? `${k}=<redacted>` : m))}`;
  } else {
    shown = `<${text.length} bytes of ${type || 'unknown type'}>`;
  }
  return shown.length > MAX_BODY ? `${shown.slice(0, MAX_BODY)}…` : shown;
}

function redactHeaders(headers) {
  const out = [];
  for (const [name, value] of new Headers(headers ?? {})) {
    if (SECRET_HEADERS.has(name)) {
      const scheme = name === 'authorization' ? value.split(' ')[0] : '';
      out.push(`${name}: ${scheme} <redacted>`.replace(':  ', ': '));
    } else if (name === 'location') {
      out.push(`${name}: ${redactUrl(value)}`);
    } else {
      out.push(`${name}: ${value}`);
    }
  }
  return out;
}

/** A transcript: `fetch` records into `lines`; `print()` writes them to standard error. */
export class Transcript {
  constructor() {
    this.lines = [];
    this.exchanges = [];
    this.fetch = this.fetch.bind(this);
  }

  note(text) {
    this.lines.push(`# ${text}`);
  }

  async fetch(input, init = {}) {
    const request = new Request(input, init);
    const body = typeof init.body === 'string' ? init.body : init.body ? String(init.body) : '';
    const record = {
      method: request.method,
      url: request.url,
      requestBody: body,
      requestType: request.headers.get('content-type'),
    };
    this.lines.push(`> ${request.method} ${redactUrl(request.url)}`);
    for (const h of redactHeaders(request.headers)) this.lines.push(`>   ${h}`);
    if (body) this.lines.push(`>   body: ${redactBody(body, request.headers.get('content-type'))}`);
    let response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      this.lines.push(`< network error: ${error}`);
      throw error;
    }
    record.status = response.status;
    this.exchanges.push(record);
    this.lines.push(`< ${response.status} ${response.statusText}`);
    for (const h of redactHeaders(response.headers)) this.lines.push(`<   ${h}`);
    const type = response.headers.get('content-type') ?? '';
    // An open SSE stream (GET) would never end: log only the bodies of finite responses.
    if (request.method !== 'GET' || !type.startsWith('text/event-stream')) {
      const text = await response
        .clone()
        .text()
        .catch(() => '');
      record.responseBody = text;
      if (text) this.lines.push(`<   body: ${redactBody(text, type)}`);
    }
    return response;
  }

  /** The recorded token requests with their grant types, in order. */
  tokenGrants(tokenEndpoint) {
    return this.exchanges
      .filter((e) => e.method === 'POST' && e.url === tokenEndpoint)
      .map((e) => ({ grant: new URLSearchParams(e.requestBody).get('grant_type'), status: e.status }));
  }

  print(title) {
    process.stderr.write(`---- HTTP transcript: ${title} (tokens redacted) ----\n`);
    process.stderr.write(`${this.lines.join('\n')}\n`);
    process.stderr.write('---- end of transcript ----\n');
  }
}
