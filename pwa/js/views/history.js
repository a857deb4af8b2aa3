// The history of one activity: every version, who made it, when, and what changed.
import { ApiError, get } from '../api.js';
import { getRef } from '../db.js';
import { CATEGORIES, STATUSES, categoryLabel, formatDateTime, h } from '../ui.js';

const ACTIONS = { create: 'Logged', edit: 'Edited', confirm: 'Confirmed', dispute: 'Disputed', delete: 'Deleted' };

function show(value) {
  if (value === null || value === undefined || value === '') return '(none)';
  if (Array.isArray(value)) return value.join(', ') || '(none)';
  if (typeof value === 'object') return JSON.stringify(value);
  return STATUSES[value] || String(value);
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
  container.append(h('h1', {}, 'Activity history'), h('p', {}, h('a', { href: back }, 'Back')));
  if (!navigator.onLine) {
    container.append(h('div', { class: 'notice' }, 'History needs a connection. Try again when you are online.'));
    return;
  }
  const [body, record, categories, schools] = await Promise.all([
    get(`/activities/${encodeURIComponent(param)}/history`),
    activity(param),
    getRef('categories'),
    getRef('schools'),
  ]);
  const who = ({ actor_id: actorId, action }) => {
    if (actorId === user.id) return `${user.display_name} (you)`;
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
  const list = h('ol', { class: 'cards' });
  for (const item of body.items) {
    const changes = Object.entries(item.changes || {});
    list.append(h('li', { class: 'card' },
      h('h2', {}, `Version ${item.version}: ${ACTIONS[item.action] || item.action}`),
      h('p', { class: 'meta' }, `${formatDateTime(item.at)} · by ${who(item)}`),
      changes.length
        ? h('dl', { class: 'history' }, changes.flatMap(([key, change]) => [
            h('dt', {}, key.replaceAll('_', ' ')),
            h('dd', {}, change && typeof change === 'object' && 'to' in change
              ? `${show(change.from)} → ${show(change.to)}`
              : show(change)),
          ]))
        : null));
  }
  container.append(list);
}
