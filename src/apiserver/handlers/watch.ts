// WATCH: a chunked stream of `{"type":…,"object":…}\n` events from the watch cache, with selector
// transitions (an object leaving the selection is DELETED, entering it ADDED), bookmarks,
// sendInitialEvents, timeoutSeconds, and 410 as an ERROR event as upstream sends it.
import { ApiError, newBadRequest, toApiError } from '../errors.ts';
import { intParam } from '../http_util.ts';
import { parseBool } from '../request_info.ts';
import type { CacheEvent, CachedObject } from '../watch_cache.ts';
import { parseSelection, selectionKeyPrefix } from '../selection.ts';
import type { KObject } from '../registry/strategy.ts';
import type { HandlerContext } from './context.ts';

const BOOKMARK_INTERVAL_MS = 60_000;

type EventType = CacheEvent['type'];

/** Serves one watch until the client goes, the timeout passes or the cache closes it. */
export async function handleWatch(ctx: HandlerContext): Promise<void> {
  const q = ctx.query;
  const sel = parseSelection(ctx.info, ctx.ri.namespace, q, ctx.ri.name);
  const rvText = q.get('resourceVersion') ?? '';
  if (rvText !== '' && !/^\d+$/.test(rvText)) throw newBadRequest(`invalid resource version: ${rvText}`);
  const bookmarks = parseBool(q.get('allowWatchBookmarks')) === true;
  const sendInitial = q.has('sendInitialEvents') ? parseBool(q.get('sendInitialEvents')) === true : undefined;
  const rvMatch = q.get('resourceVersionMatch') ?? '';
  if (sendInitial !== undefined && rvMatch !== 'NotOlderThan') {
    throw newBadRequest('sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan');
  }
  if (sendInitial && !bookmarks) throw newBadRequest('sendInitialEvents requires setting allowWatchBookmarks to true');
  const timeoutSeconds = intParam(q, 'timeoutSeconds');
  const cache = ctx.store.cache;
  await cache.start();

  let fromRevision: number | undefined;
  if (sendInitial === true) {
    if (rvText === '' || rvText === '0') await (rvText === '' ? cache.sync() : Promise.resolve());
    else await cache.waitForRevision(Number(rvText));
    fromRevision = undefined;
  } else if (rvText === '' || rvText === '0') {
    if (rvText === '') await cache.sync();
    fromRevision = sendInitial === false ? cache.revision : undefined;
  } else {
    fromRevision = Number(rvText);
  }

  const res = ctx.res;
  const asTable = ctx.negotiated.as === 'table';
  let headerSent = false;
  let firstTable = true;
  const sendHeaders = (): void => {
    if (headerSent) return;
    headerSent = true;
    const r = res as import('node:http').ServerResponse;
    r.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    r.flushHeaders?.();
  };
  const write = (type: string, object: unknown): void => {
    sendHeaders();
    (res as import('node:http').ServerResponse).write(`{"type":"${type}","object":${typeof object === 'string' ? object : JSON.stringify(object)}}\n`);
  };
  // Plain JSON watches of served-as-stored objects share one encoded frame per object and type.
  const shared = !asTable && !ctx.store.converts;
  const writeEvent = (type: EventType, o: CachedObject): void => {
    if (shared) {
      sendHeaders();
      (res as import('node:http').ServerResponse).write(o.frame(type));
      return;
    }
    const obj = ctx.store.present(o.obj);
    if (asTable) {
      const t = ctx.services.toTable(ctx.info, [obj], { includeObject: q.get('includeObject') ?? 'Metadata', noHeaders: !firstTable });
      firstTable = false;
      write(type, JSON.stringify(t));
      return;
    }
    write(type, JSON.stringify(obj));
  };

  let lastRevision = fromRevision ?? 0;
  let closed = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  const finish = (err?: ApiError): void => {
    if (closed) return;
    closed = true;
    if (err) write('ERROR', err.status);
    sendHeaders();
    res.end();
    resolveDone();
  };

  const everything = sel.trivial;
  const onEvent = (e: CacheEvent): void => {
    if (closed) return;
    lastRevision = Math.max(lastRevision, e.revision);
    if (everything) {
      writeEvent(e.type, e.object);
      return;
    }
    if (e.type === 'DELETED') {
      // The deleted object is its last state with a new resourceVersion, which no selector reads:
      // matching that state spares materializing the copy.
      if (sel.matches((e.prev ?? e.object).obj)) writeEvent('DELETED', e.object);
      return;
    }
    const curMatch = sel.matches(e.object.obj);
    if (e.type === 'ADDED') {
      if (curMatch) writeEvent('ADDED', e.object);
    } else {
      const prevMatch = e.prev ? sel.matches(e.prev.obj) : false;
      if (curMatch && prevMatch) writeEvent('MODIFIED', e.object);
      else if (curMatch) writeEvent('ADDED', e.object);
      else if (prevMatch) writeEvent('DELETED', e.object);
    }
  };

  let sub: { dispose(): void } | undefined;
  try {
    sub = cache.watch({ fromRevision, keyPrefix: selectionKeyPrefix(ctx.store, sel) }, {
      onEvent,
      onClose: (err) => finish(err),
    });
  } catch (err) {
    finish(toApiError(err, ctx.store.gr));
    return;
  }
  if (fromRevision === undefined) lastRevision = Math.max(lastRevision, cache.revision);
  if (sendInitial === true) {
    const b = bookmarkObject(ctx, cache.revision);
    (b['metadata'] as Record<string, unknown>)['annotations'] = { 'k8s.io/initial-events-end': 'true' };
    write('BOOKMARK', b);
  }
  sendHeaders(); // clients see the watch established before the first event

  const timers: NodeJS.Timeout[] = [];
  // Upstream closes watches after timeoutSeconds, or a random 30-60 minutes when unset.
  const timeoutMs = timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds * 1000 : (1800 + Math.floor(Math.random() * 1800)) * 1000;
  timers.push(setTimeout(() => finish(), timeoutMs));
  if (bookmarks) {
    const t = setInterval(() => {
      if (!closed) write('BOOKMARK', bookmarkObject(ctx, Math.max(lastRevision, cache.revision)));
    }, BOOKMARK_INTERVAL_MS);
    timers.push(t);
  }
  const onGone = (): void => finish();
  ctx.req.on('close', onGone);
  res.on('close', onGone);
  await done;
  for (const t of timers) clearTimeout(t);
  sub?.dispose();
}

function bookmarkObject(ctx: HandlerContext, revision: number): KObject {
  return {
    kind: ctx.info.kind,
    apiVersion: ctx.info.group === '' ? ctx.info.version : `${ctx.info.group}/${ctx.info.version}`,
    metadata: { resourceVersion: String(revision), creationTimestamp: null },
  };
}
