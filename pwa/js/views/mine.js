// My activities: what is on this phone, its sync state and the school's review, in words.
import { getRef } from '../db.js';
import { deleteActivity, discard, keepMine, localActivities, syncNow } from '../sync.js';
import {
  AUDIENCES, CATEGORIES, OUTCOMES, REFERRALS, activityDetails, categoryLabel, describeError, formatDateTime, h,
  plural, stateBadges,
} from '../ui.js';

const FIELDS = [
  ['category', 'Category'], ['school_id', 'School'], ['started_at', 'Started'],
  ['duration_minutes', 'Duration'], ['audience', 'Audience'], ['participant_count', 'Participants'],
  ['summary', 'Summary'], ['referral_to', 'Referred to'], ['outcome', 'Outcome'],
];

const REOPENED = {
  confirmed: 'The school had confirmed this activity. Your change sent it back to the school for review.',
  disputed: 'The school had disputed this activity. Your change sent it back to the school for review.',
};

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
    const details = activityDetails(item);
    const actions = h('div', { class: 'actions' });
    const label = `${categoryLabel(item.category, categories)} at ${school}, ${formatDateTime(item.started_at)}`;
    // A delete the server set aside is settled in its box first (keep it, or delete anyway).
    const changeable = item.status !== 'confirmed' && !item.deleted;
    if (changeable) {
      // The accessible name starts with the words shown (WCAG 2.5.3, label in name).
      const verb = item.status === 'disputed' ? 'Correct it' : 'Edit';
      actions.append(h('a', { class: 'button secondary', href: `#/log/${item.id}`, 'aria-label': `${verb}: ${label}` }, verb));
    }
    if (changeable) {
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
      reopenedNote(item),
      item.attention ? attentionBox(item) : null,
      actions,
    );
  }

  /** An edit that undid the school's review: said on the card until the school looks again. */
  function reopenedNote(item) {
    if (item.status !== 'submitted' || !REOPENED[item.reopened_from]) return null;
    return h('p', { class: 'notice reopened' }, REOPENED[item.reopened_from]);
  }

  function attentionBox(item) {
    const result = item.attention;
    if (item.deleted) return deletionBox(item, result);
    if (result.status === 'conflict') {
      const Rules = globalThis.OutboxRules;
      const server = Rules.newest(item.server, result.activity);
      if (server?.deleted) {
        return h('div', { class: 'warning' },
          h('p', {}, h('strong', {}, 'Deleted elsewhere. '), 'This activity was deleted on the server (on your other phone, or by an admin) after you changed it here. Your version can be logged again as a new activity, or removed from this phone.'),
          h('div', { class: 'actions' },
            h('button', { type: 'button', onclick: () => keepMine(item.id) }, 'Log mine as a new activity'),
            h('button', { type: 'button', class: 'secondary', onclick: () => discard(item.id) }, 'Remove it from this phone')));
      }
      return h('div', { class: 'warning' },
        h('p', {}, h('strong', {}, 'Changed elsewhere. '), 'This activity changed on the server after you edited it on this phone, in the same details. Keep your version (it replaces the server copy) or use the server copy (your change is dropped).'),
        differences(item, server),
        h('div', { class: 'actions' },
          h('button', { type: 'button', onclick: () => keepMine(item.id) }, 'Keep my version'),
          h('button', { type: 'button', class: 'secondary', onclick: () => discard(item.id) }, 'Use the server copy')));
    }
    const neverSent = item.version == null;
    const box = h('div', { class: 'warning' },
      h('p', {}, h('strong', {}, 'Not accepted by the server. '), describeError(result.error) || 'The server refused this change.',
        ' Edit it to fix the problem, or discard the change.'));
    const actions = h('div', { class: 'actions' },
      h('a', { class: 'button', href: `#/log/${item.id}` }, 'Fix it'),
      h('button', { type: 'button', class: 'secondary', onclick: () => (neverSent ? askDiscard(box, item) : discard(item.id)) }, 'Discard the change'));
    box.append(actions);
    return box;
  }

  /**
   * A delete made on this phone that the server set aside: changed elsewhere since the copy
   * it was made on (shown), or refused (confirmed by the school meanwhile). Until the officer
   * chooses, the activity stays on the server and on this list.
   */
  function deletionBox(item, result) {
    const server = globalThis.OutboxRules.newest(item.server, result.activity);
    const keep = (words) => h('button', { type: 'button', class: 'secondary', onclick: () => discard(item.id) }, words);
    if (server?.deleted) {
      return h('div', { class: 'warning' },
        h('p', {}, h('strong', {}, 'Deleted on the server too. '), 'Nothing of yours is waiting: it can be removed from this phone.'),
        h('div', { class: 'actions' }, keep('Remove it from this phone')));
    }
    if (result.status === 'conflict') {
      return h('div', { class: 'warning' },
        h('p', {}, h('strong', {}, 'Changed elsewhere, not deleted. '), 'You deleted this activity on this phone, but it had changed on the server since your copy (on your other phone, or by an admin). Delete it anyway, or keep the server copy (your delete is dropped).'),
        differences(item, server),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'danger', onclick: () => keepMine(item.id) }, 'Delete it anyway'),
          keep('Keep the server copy')));
    }
    return h('div', { class: 'warning' },
      h('p', {}, h('strong', {}, 'Not deleted. '), describeError(result.error) || 'The server refused to delete it.',
        ' The activity stays as the server has it.'),
      h('div', { class: 'actions' }, keep('Keep the activity')));
  }

  /** The details that differ between this phone's version and the server copy. */
  function differences(item, server) {
    if (!server) return null;
    const rows = FIELDS.filter(([key]) => JSON.stringify(item[key] ?? null) !== JSON.stringify(server[key] ?? null))
      .map(([key, label]) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, shown(key, item[key])), h('td', {}, shown(key, server[key]))));
    if (!rows.length) return null;
    return h('table', { class: 'compare' },
      h('caption', {}, 'What differs'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Detail'), h('th', { scope: 'col' }, 'On this phone'), h('th', { scope: 'col' }, 'On the server'))),
      h('tbody', {}, rows));
  }

  function shown(key, value) {
    if (value == null || value === '' || (Array.isArray(value) && !value.length)) return '—';
    if (key === 'category') return categoryLabel(value, categories);
    if (key === 'school_id') return schools.get(value) || `School ${value}`;
    if (key === 'started_at') return formatDateTime(value);
    if (key === 'duration_minutes') return plural(value, 'minute');
    if (key === 'audience') return value.map((a) => AUDIENCES[a] || a).join(', ');
    if (key === 'referral_to') return REFERRALS[value] || value;
    if (key === 'outcome') return OUTCOMES[value] || value;
    return String(value);
  }

  /** Discarding an activity the server never accepted deletes it: ask, and say what is lost. */
  function askDiscard(box, item) {
    const label = `${categoryLabel(item.category, categories)} on ${formatDateTime(item.started_at)}`;
    const question = h('div', { class: 'warning', role: 'group', 'aria-label': 'Confirm discard' },
      h('p', {}, `The server never accepted this activity (${label}). Discarding deletes it from this phone: its details${item.summary ? ' and summary' : ''} are lost for good.`),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: async () => {
          await discard(item.id);
          flashEl.textContent = `Discarded from this phone: ${label}. It never reached the server.`;
          flashEl.hidden = false;
        } }, 'Yes, discard it'),
        h('button', { type: 'button', class: 'secondary', onclick: () => question.remove() }, 'Keep it')));
    box.append(question);
    question.querySelector('button').focus();
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
