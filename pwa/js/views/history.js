// The history of one activity: every version, who made it, when, and what changed.
import { get } from '../api.js';
import { STATUSES, formatDateTime, h } from '../ui.js';

const ACTIONS = { create: 'Logged', edit: 'Edited', confirm: 'Confirmed', dispute: 'Disputed', delete: 'Deleted' };

function show(value) {
  if (value === null || value === undefined || value === '') return '(none)';
  if (Array.isArray(value)) return value.join(', ') || '(none)';
  if (typeof value === 'object') return JSON.stringify(value);
  return STATUSES[value] || String(value);
}

export async function render(container, { param, user }) {
  const back = user.role === 'officer' ? '#/mine' : user.role === 'school_leader' ? '#/review' : '#/dashboard';
  container.append(h('h1', {}, 'Activity history'), h('p', {}, h('a', { href: back }, 'Back')));
  if (!navigator.onLine) {
    container.append(h('div', { class: 'notice' }, 'History needs a connection. Try again when you are online.'));
    return;
  }
  const body = await get(`/activities/${encodeURIComponent(param)}/history`);
  const list = h('ol', { class: 'cards' });
  for (const item of body.items) {
    const changes = Object.entries(item.changes || {});
    list.append(h('li', { class: 'card' },
      h('h2', {}, `Version ${item.version}: ${ACTIONS[item.action] || item.action}`),
      h('p', { class: 'meta' }, `${formatDateTime(item.at)} · by user ${item.actor_id}`),
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
