// The history of one activity: every version, who made it, when, and what changed.
import { ApiError, get, getAll } from '../api.js';
import { getRef } from '../db.js';
import {
  AUDIENCES, CATEGORIES, OUTCOMES, REFERRALS, STATUSES, categoryLabel, formatDateTime, formatNumber, h,
} from '../ui.js';

const ACTIONS = { create: 'Logged', edit: 'Edited', confirm: 'Confirmed', dispute: 'Disputed', delete: 'Deleted' };

// Each recorded field by the label the activity form gives it.
const LABELS = {
  category: 'Category', school_id: 'School', started_at: 'Started', duration_minutes: 'Duration (minutes)',
  audience: 'Audience', participant_count: 'Participants', summary: 'Summary', referral_to: 'Referred to',
  outcome: 'Outcome', status: 'Review state', review_note: 'Reason', deleted: 'Deleted',
};

/** A recorded value in words: names for ids, labels for keys, local times for timestamps. */
export function describeValue(key, value, { categories = CATEGORIES, schools = [] } = {}) {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return 'not set';
  if (Array.isArray(value)) return value.map((v) => describeValue(key, v, { categories, schools })).join(', ');
  switch (key) {
    case 'category': return categoryLabel(value, categories);
    case 'school_id': return schools.find((s) => s.id === value)?.name || `a school you do not see (#${value})`;
    case 'started_at': return formatDateTime(value);
    case 'audience': return AUDIENCES[value] || String(value);
    case 'referral_to': return REFERRALS[value] || String(value);
    case 'outcome': return OUTCOMES[value] || String(value);
    case 'status': return STATUSES[value] || String(value);
    default: break;
  }
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'object') return Object.values(value).join(', ');
  return String(value);
}

/** One change as a sentence part: a first value alone, a later one as "was X, now Y". */
function describeChange(key, change, context) {
  if (!change || typeof change !== 'object' || !('to' in change)) return describeValue(key, change, context);
  const to = describeValue(key, change.to, context);
  const empty = change.from === null || change.from === undefined || change.from === '' ||
    (Array.isArray(change.from) && !change.from.length);
  return empty ? to : `${describeValue(key, change.from, context)} → ${to}`;
}

/** The activity itself (for the officer's name); a deleted one is no longer readable. */
async function activity(id) {
  try {
    return await get(`/activities/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export async function render(container, { param, user }) {
  const back = user.role === 'officer' ? '#/mine' : user.role === 'school_leader' ? '#/review' : '#/dashboard';
  container.append(h('h1', {}, 'Activity history'), h('p', {}, h('a', { class: 'go', href: back }, 'Back')));
  if (!navigator.onLine) {
    container.append(h('div', { class: 'notice' }, 'History needs a connection. Try again when you are online.'));
    return;
  }
  const [versions, record, categories, schools] = await Promise.all([
    getAll(`/activities/${encodeURIComponent(param)}/history`),
    activity(param),
    getRef('categories'),
    getRef('schools'),
  ]);
  const who = ({ actor_id: actorId, actor_name: actorName, action }) => {
    if (actorId === user.id) return `${user.display_name} (you)`;
    if (actorName) return actorName;
    if (record && actorId === record.officer_id && record.officer_name) return record.officer_name;
    // Only a leader of the school may confirm or dispute.
    return action === 'confirm' || action === 'dispute' ? `a school leader (user #${actorId})` : `user #${actorId}`;
  };
  if (record) {
    const school = (schools || []).find((s) => s.id === record.school_id)?.name || `School ${record.school_id}`;
    container.append(h('p', { class: 'lead' },
      `${categoryLabel(record.category, categories || CATEGORIES)} at ${school}, ${formatDateTime(record.started_at)}, ` +
        `logged by ${record.officer_name || `officer #${record.officer_id}`}.`));
  }
  const context = { categories: categories || CATEGORIES, schools: schools || [] };
  const list = h('ol', { class: 'cards' });
  for (const item of versions) {
    const changes = Object.entries(item.changes || {});
    list.append(h('li', { class: 'card' },
      h('h2', {}, `Version ${item.version}: ${ACTIONS[item.action] || item.action}`),
      h('p', { class: 'meta' }, `${formatDateTime(item.at)} · by ${who(item)}`),
      changes.length
        ? h('dl', { class: 'history' }, changes.flatMap(([key, change]) => [
            h('dt', {}, LABELS[key] || key.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase())),
            h('dd', {}, describeChange(key, change, context)),
          ]))
        : null));
  }
  container.append(list);
}
