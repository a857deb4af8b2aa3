// The school leader's review queue: overdue first, Confirm or Dispute each, or confirm in bulk.
import { get, patch, post } from '../api.js';
import { getMeta, getRef, setMeta } from '../db.js';
import {
  AUDIENCES, CATEGORIES, OUTCOMES, REFERRALS, STATUSES, categoryLabel, describeError, field, formatDateTime,
  h, plural, select,
} from '../ui.js';

const OVERDUE_DAYS = 7;

export function officerName(item) {
  return item.officer_name || `Officer #${item.officer_id}`;
}

/** The leader's own choice: an email when activities wait for review (PATCH /me). */
function reminderSetting(user) {
  const box = h('input', { type: 'checkbox', id: 'email-reminders', checked: user?.email_reminders !== false });
  const said = h('span', { role: 'status', class: 'feedback' });
  box.addEventListener('change', async () => {
    box.disabled = true;
    try {
      const me = await patch('/me', { email_reminders: box.checked });
      box.checked = me.email_reminders;
      const current = await getMeta('session');
      if (current?.user) await setMeta('session', { ...current, user: { ...current.user, email_reminders: me.email_reminders } });
      said.textContent = me.email_reminders ? 'Reminders on.' : 'Reminders off.';
    } catch (error) {
      box.checked = !box.checked;
      said.textContent = describeError(error);
    } finally {
      box.disabled = false;
    }
  });
  return h('div', { class: 'toolbar' },
    h('label', { class: 'check', for: 'email-reminders' }, box, 'Email me once a day when activities wait for my review'),
    said);
}

export async function render(container, { user } = {}) {
  const categories = (await getRef('categories')) || CATEGORIES;
  const schools = (await getRef('schools')) || [];
  const schoolNames = new Map(schools.map((s) => [s.id, s.name]));
  const schoolFilter = select('school', [['', 'All my schools'], ...schools.map((s) => [s.id, s.name])], '');
  const statusFilter = select('status', [['submitted', 'To review'], ['disputed', 'Disputed'], ['confirmed', 'Confirmed']], 'submitted');
  const feedback = h('div', { role: 'status', class: 'feedback' });
  const selectAll = h('input', { type: 'checkbox', id: 'select-all' });
  const bulkButton = h('button', { type: 'button', onclick: confirmSelected }, 'Confirm selected');
  const bulkBar = h('div', { class: 'toolbar' },
    h('label', { class: 'check', for: 'select-all' }, selectAll, 'Select all'),
    bulkButton);
  const sections = h('div');
  let items = [];
  let loading = 0;

  container.append(
    h('h1', {}, 'Review queue'),
    h('p', { class: 'lead' }, 'Confirm that each activity happened at your school, or dispute it with a reason.'),
    h('div', { class: 'toolbar' }, field('School', schoolFilter), field('Show', statusFilter)),
    feedback,
    bulkBar,
    sections,
    reminderSetting(user),
  );
  schoolFilter.addEventListener('change', load);
  statusFilter.addEventListener('change', load);
  selectAll.addEventListener('change', () => {
    for (const box of sections.querySelectorAll('input[name="pick"]')) box.checked = selectAll.checked;
  });
  await load();

  async function load() {
    if (!navigator.onLine) {
      sections.replaceChildren(h('div', { class: 'notice' }, 'You are offline. The review queue needs a connection.'));
      return;
    }
    if (!schools.length) {
      bulkBar.hidden = true;
      sections.replaceChildren(h('div', { class: 'notice' },
        'You do not lead any school yet, so there is nothing to review. An admin assigns schools to school leaders.'));
      return;
    }
    const query = new URLSearchParams({ status: statusFilter.value, limit: '500' });
    if (schoolFilter.value) query.set('school_id', schoolFilter.value);
    const token = ++loading;
    const body = await get(`/activities?${query}`);
    if (token !== loading) return;  // a newer filter choice is already loading
    const now = Date.now();
    items = body.items.map((item) => ({
      ...item,
      overdue: item.status === 'submitted' && now - Date.parse(item.created_at) > OVERDUE_DAYS * 86400000,
    }));
    items.sort((a, b) => (b.overdue - a.overdue) || a.created_at.localeCompare(b.created_at));
    bulkBar.hidden = statusFilter.value !== 'submitted' || items.length === 0;
    selectAll.checked = false;
    const bySchool = new Map();
    for (const item of items) {
      if (!bySchool.has(item.school_id)) bySchool.set(item.school_id, []);
      bySchool.get(item.school_id).push(item);
    }
    const parts = [];
    if (!items.length) {
      const where = schoolFilter.value ? ` at ${schoolNames.get(Number(schoolFilter.value))}` : '';
      const what = { submitted: 'Nothing waiting for review', disputed: 'No disputed activities', confirmed: 'No confirmed activities' };
      parts.push(h('p', { class: 'notice' }, `${what[statusFilter.value]}${where}.`));
    }
    for (const [schoolId, group] of bySchool) {
      const overdue = group.filter((i) => i.overdue).length;
      parts.push(h('section', {},
        h('h2', {}, `${schoolNames.get(schoolId) || `School ${schoolId}`} · ${plural(group.length, 'activity', 'activities')}${overdue ? ` · ${overdue} overdue` : ''}`),
        h('ul', { class: 'cards' }, group.map(card))));
    }
    sections.replaceChildren(...parts);
  }

  function card(item) {
    const label = `${categoryLabel(item.category, categories)}, ${formatDateTime(item.started_at)}, by ${officerName(item)}`;
    const actions = h('div', { class: 'actions' });
    if (item.status !== 'confirmed') {
      actions.append(h('button', { type: 'button', 'aria-label': `Confirm ${label}`, onclick: () => review(item, 'confirm') }, 'Confirm'));
    }
    if (item.status !== 'disputed') {
      actions.append(h('button', { type: 'button', class: 'secondary', 'aria-label': `Dispute ${label}`, onclick: () => askReason(actions, item, label) }, 'Dispute'));
    }
    actions.append(h('a', { class: 'button secondary', href: `#/history/${item.id}`, 'aria-label': `History of ${label}` }, 'History'));
    const pick = item.status === 'submitted'
      ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'pick', value: item.id }), `Select ${label}`)
      : null;
    const details = [
      plural(item.duration_minutes, 'minute'),
      plural(item.participant_count ?? 0, 'participant'),
      (item.audience || []).map((a) => AUDIENCES[a] || a).join(', '),
      item.referral_to ? `Referred to ${REFERRALS[item.referral_to] || item.referral_to}` : null,
      item.outcome ? `Outcome: ${OUTCOMES[item.outcome] || item.outcome}` : null,
    ].filter(Boolean).join(' · ');
    return h('li', { class: `card${item.overdue ? ' overdue' : ''}`, 'data-id': item.id },
      h('h3', {}, `${categoryLabel(item.category, categories)} · ${formatDateTime(item.started_at)}`),
      h('p', { class: 'meta' }, `${officerName(item)} · ${details}`),
      item.summary ? h('p', {}, item.summary) : null,
      h('ul', { class: 'badges', 'aria-label': 'State' },
        h('li', { class: `badge ${item.status}` }, STATUSES[item.status] || item.status),
        item.overdue ? h('li', { class: 'badge overdue' }, 'Overdue') : null),
      item.status === 'disputed' && item.review_note ? h('p', { class: 'reason' }, `Your reason: ${item.review_note}`) : null,
      pick,
      actions);
  }

  function askReason(actions, item, label) {
    const reason = h('textarea', { name: 'reason', rows: '3', maxlength: '500', required: true });
    const form = h('form', { class: 'warning', novalidate: true },
      field('Reason for dispute', reason, { hint: 'The officer sees this. Do not name students.' }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit' }, 'Send dispute'),
        h('button', { type: 'button', class: 'secondary', onclick: () => form.remove() }, 'Cancel')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!reason.value.trim()) {
        feedback.textContent = 'Say why you dispute this activity.';
        reason.focus();
        return;
      }
      await review(item, 'dispute', reason.value.trim());
    });
    actions.after(form);
    reason.focus();
    void label;
  }

  async function review(item, action, reason) {
    feedback.textContent = '';
    try {
      const body = action === 'dispute' ? { reason } : {};
      await post(`/activities/${item.id}/${action}`, body);
      await load();
      feedback.textContent = action === 'confirm' ? 'Confirmed.' : 'Dispute sent. The officer will see your reason.';
    } catch (error) {
      feedback.textContent = describeError(error);
    }
  }

  async function confirmSelected() {
    const ids = [...sections.querySelectorAll('input[name="pick"]:checked')].map((box) => box.value);
    if (!ids.length) {
      feedback.textContent = 'Select the activities to confirm first.';
      return;
    }
    feedback.textContent = '';
    try {
      const body = await post('/activities/review', { ids, action: 'confirm', note: null });
      const failed = body.results.filter((r) => !r.ok);
      await load();
      feedback.textContent = `Confirmed ${plural(ids.length - failed.length, 'activity', 'activities')}.` +
        (failed.length ? ` ${failed.length} could not be confirmed.` : '');
    } catch (error) {
      feedback.textContent = describeError(error);
    }
  }
}
