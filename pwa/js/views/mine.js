// My activities: what is on this phone, its sync state and the school's review, in words.
import { getRef } from '../db.js';
import { deleteActivity, discard, keepMine, localActivities, syncNow } from '../sync.js';
import {
  AUDIENCES, CATEGORIES, OUTCOMES, REFERRALS, categoryLabel, describeError, formatDateTime, h, plural,
  stateBadges,
} from '../ui.js';

export async function render(container) {
  const categories = (await getRef('categories')) || CATEGORIES;
  const schools = new Map(((await getRef('schools')) || []).map((s) => [s.id, s.name]));
  const list = h('ul', { class: 'cards', 'aria-label': 'My activities' });
  const flash = sessionStorage.getItem('sro-flash');
  sessionStorage.removeItem('sro-flash');
  const flashEl = h('div', { class: 'ok-box', hidden: !flash }, flash || '');
  const empty = h('p', { hidden: true }, 'Nothing logged on this phone yet.');

  container.append(
    h('h1', {}, 'My activities'),
    flashEl,
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/log' }, 'Log another activity')),
    empty,
    list,
  );
  await fill();
  const refresh = () => {
    if (!container.isConnected) {
      window.removeEventListener('sro:changed', refresh);
      return;
    }
    fill();
  };
  window.addEventListener('sro:changed', refresh);

  async function fill() {
    const items = await localActivities();
    empty.hidden = items.length > 0;
    list.replaceChildren(...items.map(card));
  }

  function card(item) {
    const school = schools.get(item.school_id) || `School ${item.school_id}`;
    const classes = ['card'];
    if (item.sync === 'attention') classes.push('attention');
    else if (item.status === 'disputed') classes.push('disputed');
    const details = [
      plural(item.duration_minutes, 'minute'),
      plural(item.participant_count ?? 0, 'participant'),
      (item.audience || []).map((a) => AUDIENCES[a] || a).join(', '),
      item.referral_to ? `Referred to ${REFERRALS[item.referral_to] || item.referral_to}` : null,
      item.outcome ? `Outcome: ${OUTCOMES[item.outcome] || item.outcome}` : null,
    ].filter(Boolean).join(' · ');
    const actions = h('div', { class: 'actions' });
    const label = `${categoryLabel(item.category, categories)} at ${school}, ${formatDateTime(item.started_at)}`;
    if (item.status !== 'confirmed') {
      actions.append(h('a', { class: 'button secondary', href: `#/log/${item.id}`, 'aria-label': `Edit ${label}` }, item.status === 'disputed' ? 'Correct it' : 'Edit'));
    }
    if (item.status !== 'confirmed') {
      actions.append(h('button', { type: 'button', class: 'secondary', 'aria-label': `Delete ${label}`, onclick: () => askDelete(actions, item, label) }, 'Delete'));
    }
    if (item.version != null && navigator.onLine) {
      actions.append(h('a', { class: 'button secondary', href: `#/history/${item.id}`, 'aria-label': `History of ${label}` }, 'History'));
    }
    return h('li', { class: classes.join(' ') },
      h('h2', {}, `${categoryLabel(item.category, categories)} · ${school}`),
      h('p', { class: 'meta' }, formatDateTime(item.started_at), ' · ', details),
      item.summary ? h('p', {}, item.summary) : null,
      stateBadges(item),
      item.status === 'disputed' && item.review_note
        ? h('p', { class: 'reason' }, `The school's reason: ${item.review_note}`)
        : null,
      item.attention ? attentionBox(item) : null,
      actions,
    );
  }

  function attentionBox(item) {
    const result = item.attention;
    if (result.status === 'conflict') {
      return h('div', { class: 'warning' },
        h('p', {}, h('strong', {}, 'Changed elsewhere. '), 'This activity changed on the server after you edited it on this phone. Keep your version (it replaces the server copy) or use the server copy (your change is dropped).'),
        h('div', { class: 'actions' },
          h('button', { type: 'button', onclick: () => keepMine(item.id) }, 'Keep my version'),
          h('button', { type: 'button', class: 'secondary', onclick: () => discard(item.id) }, 'Use the server copy')));
    }
    return h('div', { class: 'warning' },
      h('p', {}, h('strong', {}, 'Not accepted by the server. '), describeError(result.error) || 'The server refused this change.',
        ' Edit it to fix the problem, or discard the change.'),
      h('div', { class: 'actions' },
        h('a', { class: 'button', href: `#/log/${item.id}` }, 'Fix it'),
        h('button', { type: 'button', class: 'secondary', onclick: () => discard(item.id) }, 'Discard the change')));
  }

  function askDelete(actions, item, label) {
    const question = h('div', { class: 'warning', role: 'group', 'aria-label': 'Confirm delete' },
      h('p', {}, `Delete ${label}?`),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: async () => { await deleteActivity(item.id); syncNow({ force: true }); } }, 'Yes, delete'),
        h('button', { type: 'button', class: 'secondary', onclick: () => { question.remove(); } }, 'Keep it')));
    actions.after(question);
    question.querySelector('button').focus();
  }
}
