/* The outbox rules the page's sync (js/sync.js) applies. A classic script (window.OutboxRules),
   loaded before the app's modules. Pure functions on plain records: no IndexedDB, no network. */
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

  /**
   * The wire form of an outbox entry. Its base is the version the officer's edit was made on,
   * kept with the entry: never the version of a copy pulled since (that would tell the server
   * the officer saw a change they never saw, and silently revert it). Its data is what the
   * officer changed (all the content for a new activity).
   */
  function mutationFor(entry) {
    return {
      mutation_id: entry.mutation_id,
      op: entry.op,
      activity_id: entry.activity_id,
      base_version: entry.base_version != null ? entry.base_version : null,
      data: entry.op === 'delete' ? null : entry.data,
      client_time: entry.updated_at || entry.created_at || null,
    };
  }

  /** The fields of content whose value differs from base (lists compared by value). */
  function changedFields(content, base, fields) {
    const changed = {};
    for (const key of fields) {
      if (!(key in content)) continue;
      if (!same(key, content[key], (base || {})[key])) changed[key] = content[key];
    }
    return changed;
  }

  function same(key, a, b) {
    if (key === 'started_at' && a && b) return Date.parse(a) === Date.parse(b);  // one instant, any spelling
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  }

  /** The newer of two server copies (by version); either may be missing. */
  function newest(a, b) {
    if (!a) return b || null;
    if (!b) return a;
    return (b.version || 0) > (a.version || 0) ? b : a;
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
      const stale = activity && record && record.server && activity.version < record.server.version;
      if (!activity) return { entry: null, record: undefined };
      if (othersLeft && record) {
        // Later edits of this activity were made on top of this one, on the phone's copy.
        // Applied directly on its base, the version it became is that copy: they move onto
        // it. Merged with changes made elsewhere, they keep their base (the copy they were
        // made on never showed those changes), and the server judges them against them.
        const direct = activity.version <= (entry.base_version || 0) + 1;
        const version = direct ? activity.version : record.version;
        return {
          entry: null,
          record: Object.assign({}, record, { version: version, server: newest(record.server, activity) }),
          rebase: direct ? activity.version : null,
        };
      }
      if (stale) return { entry: null, record: fromServer(record.server) };
      return { entry: null, record: fromServer(activity) };
    }
    if (status === 'conflict' || status === 'rejected') {
      const flagged = Object.assign({}, entry, {
        state: 'attention',
        result: { status: status, error: result.error || null, activity: result.activity || null },
      });
      const server = record ? newest(record.server, result.activity) : null;
      const withServer = server && record ? Object.assign({}, record, { server: server }) : undefined;
      return { entry: flagged, record: withServer };
    }
    return { entry: entry, record: undefined };
  }

  /**
   * An entry made on top of an edit the server has applied (a later edit, or a delete), based
   * on the version that edit became. One already sent keeps what was sent.
   */
  function rebased(entry, version) {
    if (entry.sent || entry.base_version == null && entry.op === 'delete') return entry;
    return Object.assign({}, entry, { base_version: version });
  }

  /**
   * A pulled change applied to the local record. A record with pending edits keeps its
   * content and its version (the base of those edits); only its newest server copy is noted,
   * for the conflict card and "Use the server copy".
   */
  function applyPulled(change, record, hasPending) {
    if (hasPending) {
      if (!record) return undefined;
      return Object.assign({}, record, { server: newest(record.server, change) });
    }
    if (change.deleted) return null;
    return fromServer(change);
  }

  root.OutboxRules = { pickBatch, mutationFor, changedFields, newest, settle, rebased, applyPulled, fromServer };
})(typeof self !== 'undefined' ? self : globalThis);
