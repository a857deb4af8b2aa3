/* The outbox rules, shared by the page (js/sync.js) and the service worker (Background Sync).
   A classic script on purpose: the worker loads it with importScripts. Pure functions on
   plain records: no IndexedDB, no network. */
(function (root) {
  'use strict';

  /** The entries to send now: per activity only its oldest entry, and only while pending. */
  function pickBatch(entries, limit) {
    const seen = new Set();
    const batch = [];
    for (const entry of entries) {
      if (seen.has(entry.activity_id)) continue;
      seen.add(entry.activity_id);
      if (entry.state === 'pending') batch.push(entry);
      if (batch.length >= limit) break;
    }
    return batch;
  }

  /** The wire form of an outbox entry; the base is the last server version the phone knows. */
  function mutationFor(entry, record) {
    const known = record && record.version != null ? record.version : null;
    return {
      mutation_id: entry.mutation_id,
      op: entry.op,
      activity_id: entry.activity_id,
      base_version: known != null ? known : entry.base_version != null ? entry.base_version : null,
      data: entry.op === 'delete' ? null : entry.data,
      client_time: entry.updated_at || entry.created_at || null,
    };
  }

  function fromServer(activity) {
    return Object.assign({}, activity, { server: activity });
  }

  /**
   * What one push result does to its outbox entry and activity record.
   * entry: null = remove it; record: undefined = leave, null = remove, object = store.
   * Only applied and duplicate are final; conflict and rejected need the officer.
   */
  function settle(entry, result, record, othersLeft) {
    const status = result && result.status;
    if (status === 'applied' || status === 'duplicate') {
      if (entry.op === 'delete') return { entry: null, record: othersLeft ? undefined : null };
      const activity = result.activity;
      const stale = activity && record && record.version != null && activity.version < record.version;
      if (!activity || stale) return { entry: null, record: undefined };
      if (othersLeft && record) {
        return { entry: null, record: Object.assign({}, record, { version: activity.version, server: activity }) };
      }
      return { entry: null, record: fromServer(activity) };
    }
    if (status === 'conflict' || status === 'rejected') {
      const flagged = Object.assign({}, entry, {
        state: 'attention',
        result: { status: status, error: result.error || null, activity: result.activity || null },
      });
      const withServer = result.activity && record ? Object.assign({}, record, { server: result.activity }) : undefined;
      return { entry: flagged, record: withServer };
    }
    return { entry: entry, record: undefined };
  }

  /** A pulled change applied to the local record; pending local edits are never overwritten. */
  function applyPulled(change, record, hasPending) {
    if (hasPending) {
      if (!record) return undefined;
      const update = { version: change.version };
      if (!change.deleted) update.server = change;
      return Object.assign({}, record, update);
    }
    if (change.deleted) return null;
    return fromServer(change);
  }

  root.OutboxRules = { pickBatch, mutationFor, settle, applyPulled, fromServer };
})(typeof self !== 'undefined' ? self : globalThis);
