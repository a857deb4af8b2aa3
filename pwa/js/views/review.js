// The school leader's review queue: overdue first, Confirm or Dispute each, or confirm in bulk.
import { getAll, patch, post } from '../api.js';
import { getMeta, getRef, setMeta } from '../db.js';
import FORM_RULES from '../form-rules.json' with { type: 'json' };
import {
  CATEGORIES, STATUSES, activityDetails, categoryLabel, describeError, field, fieldMessages, formatDateTime, h,
  identifierProblems, plural, select, setFieldError, uid,
} from '../ui.js';
import { dateIn } from './dashboard.js';

const OVERDUE_DAYS = 7; // the server's default; a signed-in user has review_overdue_days
const DAY_MS = 86400000;
const CHANGED_AFTER = { confirmed: 'Changed after you confirmed', disputed: 'Changed after you disputed' };
// The API's field names, in the words this view uses.
const REVIEW_FIELDS = { reason: 'Reason', note: 'Reason' };

/**
 * Overdue as the server counts it (the confirmation report, the reminders): submitted more than
 * OVERDUE_DAYS calendar days ago in the program's time zone, so on 9 October what was submitted
 * on 1 October or before; never a rolling 7 x 24 hours.
 */
function isOverdue(submittedAt, now, user) {
  if (Number.isNaN(Date.parse(submittedAt ?? ''))) return false;
  const zone = user?.program_timezone;
  const days = (Date.parse(dateIn(zone, now)) - Date.parse(dateIn(zone, new Date(submittedAt)))) / DAY_MS;
  return days > (user?.review_overdue_days ?? OVERDUE_DAYS);
}

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
    h('label', { class: 'check', for: 'email-reminders' }, box, 'Send me a daily reminder when activities wait for my review'),
    said);
}

export async function render(container, { user } = {}) {
  const categories = (await getRef('categories')) || CATEGORIES;
  const schools = (await getRef('schools')) || [];
  const schoolNames = new Map(schools.map((s) => [s.id, s.name]));
  const schoolFilter = select('school', [['', 'All my schools'], ...schools.map((s) => [s.id, s.name])], '');
  const statusFilter = stateFilter();
  const selectAll = h('input', { type: 'checkbox', id: 'select-all' });
  // Shown while something is selected (unseen otherwise, its place kept): until then each
  // card's own Confirm is the only one.
  const bulkButton = h('button', { type: 'button', class: 'spent', onclick: confirmSelected }, 'Confirm selected');
  const bulkSaid = h('p', { role: 'status', class: 'card-status' });
  const bulkBar = h('div', { class: 'toolbar' },
    h('label', { class: 'check', for: 'select-all' }, selectAll, 'Select all'),
    bulkButton, bulkSaid);
  const sections = h('div');
  let items = [];
  let loading = 0;

  container.append(
    h('h1', {}, 'Review queue'),
    h('p', { class: 'lead' }, 'Confirm that each activity happened at your school, or dispute it with a reason.'),
    // Above the queue, never below it: a card that closes must not leave this under the thumb.
    reminderSetting(user),
    h('div', { class: 'toolbar' }, field('School', schoolFilter), field('Show', statusFilter)),
    bulkBar,
    sections,
  );
  schoolFilter.addEventListener('change', load);
  statusFilter.addEventListener('change', load);
  selectAll.addEventListener('change', () => {
    for (const box of sections.querySelectorAll('input[name="pick"]:not(:disabled)')) box.checked = selectAll.checked;
    showBulkButton();
  });
  sections.addEventListener('change', (event) => {
    if (event.target.name === 'pick') showBulkButton();
  });
  function showBulkButton() {
    bulkButton.classList.toggle('spent', !sections.querySelector('input[name="pick"]:checked'));
  }
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
    const query = new URLSearchParams({ status: statusFilter.value });
    if (schoolFilter.value) query.set('school_id', schoolFilter.value);
    const token = ++loading;
    let found;
    try {
      found = await getAll(`/activities?${query}`);  // every page: the whole queue
    } catch (error) {
      if (token !== loading) return;
      // Never the previous list under the new filter: what failed is said instead.
      items = [];
      bulkBar.hidden = true;
      sections.replaceChildren(h('div', { class: 'error-box', role: 'alert' },
        `The queue could not be loaded. ${describeError(error)} Choose a filter again to retry.`));
      return;
    }
    if (token !== loading) return;  // a newer filter choice is already loading
    const now = new Date();
    // Waiting since it last went to the school (logged, or sent back by an officer's edit),
    // as the confirmation report and the reminders count it; the longest wait first.
    items = found.map((item) => ({
      ...item,
      overdue: item.status === 'submitted' && isOverdue(item.submitted_at, now, user),
    }));
    items.sort((a, b) => (b.overdue - a.overdue) || Date.parse(a.submitted_at) - Date.parse(b.submitted_at));
    bulkBar.hidden = statusFilter.value !== 'submitted' || items.length === 0;
    bulkSaid.textContent = '';
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
    showBulkButton();
  }

  function card(item) {
    const label = `${categoryLabel(item.category, categories)}, ${formatDateTime(item.started_at)}, by ${officerName(item)}`;
    // The buttons are named Confirm and Dispute, as the contract says; which activity they
    // act on is their description (the card's heading).
    const headingId = uid('card');
    const actions = h('div', { class: 'actions' });
    // Said inside the card, where the leader is looking.
    // Feedback is said inside the card, where the leader is looking, and never moves a control:
    // a success replaces the "Select" row just above the buttons (its height kept), anything
    // longer (an error) goes below the buttons.
    const said = h('p', { role: 'status', class: 'card-status' });
    const pick = item.status === 'submitted'
      ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'pick', value: item.id }), `Select ${label}`)
      : null;
    const slot = h('div', { class: 'card-slot' }, pick, pick ? h('p', { role: 'status', class: 'card-status' }) : null);
    if (item.status !== 'confirmed') {
      const confirm = h('button', { type: 'button', class: 'confirm', 'aria-describedby': headingId }, 'Confirm');
      confirm.addEventListener('click', () => confirmOne(item, confirm, said));
      actions.append(confirm);
    }
    if (item.status !== 'disputed') {
      actions.append(h('button', { type: 'button', class: 'secondary dispute', 'aria-describedby': headingId, onclick: () => askReason(actions, item, said) }, 'Dispute'));
    }
    actions.append(h('a', { class: 'button secondary', href: `#/history/${item.id}`, 'aria-label': `History of ${label}` }, 'History'));
    const details = activityDetails(item);
    return h('li', { class: `card${item.overdue ? ' overdue' : ''}`, 'data-id': item.id },
      h('h3', { id: headingId }, `${categoryLabel(item.category, categories)} · ${formatDateTime(item.started_at)}`),
      h('p', { class: 'meta' }, `${officerName(item)} · ${details}`),
      item.summary ? h('p', {}, item.summary) : null,
      h('ul', { class: 'badges', 'aria-label': 'State' },
        h('li', { class: `badge ${item.status}` }, STATUSES[item.status] || item.status),
        item.overdue ? h('li', { class: 'badge overdue' }, 'Overdue') : null,
        // The officer changed it after the school's review, which sent it back here.
        item.status === 'submitted' && CHANGED_AFTER[item.reopened_from]
          ? h('li', { class: 'badge changed' }, CHANGED_AFTER[item.reopened_from]) : null),
      item.status === 'disputed' && item.review_note ? h('p', { class: 'reason' }, `Your reason: ${item.review_note}`) : null,
      slot,
      actions,
      said);
  }

  /** The card stays where it is: its state says Confirmed and its Confirm is spent (unseen,
   * its place kept), so a second tap lands on nothing and nothing slides under the thumb. */
  function markConfirmed(item, cardEl) {
    item.status = 'confirmed';
    cardEl.classList.add('confirmed');
    cardEl.querySelector('.badge.submitted, .badge.disputed')?.replaceWith(h('li', { class: 'badge confirmed' }, STATUSES.confirmed));
    cardEl.querySelector('.badge.overdue')?.remove();
    cardEl.querySelector('.badge.changed')?.remove();  // reviewed again: no longer news
    spend(cardEl.querySelector('.actions > button.confirm'));
    settlePick(cardEl);
    sayInSlot(cardEl, 'Review saved.');
  }

  /** A short success in the row above the buttons, in place of "Select …", its height kept. */
  function sayInSlot(cardEl, text) {
    const slot = cardEl.querySelector('.card-slot');
    const status = slot?.querySelector('.card-status');
    if (!status) return false;
    slot.classList.add('said'); // the Select row keeps its height, unseen; the words overlay it
    status.textContent = text;
    return true;
  }

  async function confirmOne(item, button, said) {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await post(`/activities/${item.id}/confirm`, {});
      const cardEl = button.closest('.card');
      const inSlot = cardEl.querySelector('.card-slot .card-status');
      markConfirmed(item, cardEl);
      said.textContent = inSlot ? '' : 'Review saved. The officer sees it on their phone.';
      // Keyboard focus stays in the card: on its Dispute, the next thing one may do there.
      cardEl.querySelector('.actions > button.dispute:not(.spent)')?.focus({ preventScroll: true });
    } catch (error) {
      button.disabled = false;
      said.textContent = `Not confirmed: ${describeError(error, REVIEW_FIELDS)}`;
    }
  }

  function askReason(actions, item, said) {
    const existing = actions.parentElement.querySelector('form.dispute');
    if (existing?.querySelector('textarea')) {
      existing.querySelector('textarea').focus();
      return;
    }
    existing?.remove();
    said.textContent = '';
    const reason = h('textarea', { name: 'reason', rows: '3', maxlength: FORM_RULES.dispute.reason.maxLength, required: true });
    const formSaid = h('p', { role: 'status', class: 'card-status' });
    const form = h('form', { class: 'warning dispute', novalidate: true },
      formSaid,
      field('Reason for dispute', reason, { hint: 'The officer sees this. Do not name students or give contact details.' }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit' }, 'Dispute'),
        h('button', { type: 'button', class: 'secondary', onclick: cancel }, 'Cancel')));
    function cancel() {
      // Emptied at once (no stale message), collapsed a moment later: a second tap on Cancel
      // lands on the empty space, not on whatever the collapse would slide under the thumb.
      setFieldError(reason, null);
      formSaid.textContent = '';
      form.classList.add('closing'); // unseen, still its height
      said.textContent = '';
      setTimeout(() => form.remove(), 700);
      const dispute = actions.querySelector('button.dispute');
      dispute?.classList.remove('spent');
      dispute?.focus({ preventScroll: true });
    }
    reason.addEventListener('input', () => setFieldError(reason, null));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      const problem = !text ? 'Say why you dispute this activity.'
        : identifierProblems(text, 'reasons').join(' ') || null;
      setFieldError(reason, problem);
      if (problem) {
        reason.focus();
        return;
      }
      const send = form.querySelector('button[type="submit"]');
      send.disabled = true;
      try {
        await post(`/activities/${item.id}/dispute`, { reason: text });
        markDisputed(item, actions);
        // The form becomes its own receipt, at the same height: nothing slides under the thumb.
        form.classList.add('sent'); // its controls unseen, still their height
        form.append(h('p', { class: 'reason' }, `Your reason: ${text}`));
        formSaid.textContent = 'Dispute sent. The officer will see your reason.';
      } catch (error) {
        send.disabled = false;
        const messages = fieldMessages(error, ['reason', 'note']);
        setFieldError(reason, messages || describeError(error, REVIEW_FIELDS));
        reason.focus();
      }
    });
    actions.after(form);
    // While the reason is asked, the form's own Dispute sends it: the card's is spent.
    spend(actions.querySelector('button.dispute'), { keepDisabled: false });
    reason.focus();
  }

  /** A disputed card stays in place too: its state in words, the reason shown, no second Dispute. */
  function markDisputed(item, actions) {
    const cardEl = actions.closest('.card');
    item.status = 'disputed';
    cardEl.classList.add('disputed');
    cardEl.querySelector('.badge.submitted, .badge.confirmed')?.replaceWith(h('li', { class: 'badge disputed' }, STATUSES.disputed));
    cardEl.querySelector('.badge.changed')?.remove();
    spend(actions.querySelector('button.dispute'));
    settlePick(cardEl);
  }

  /** A reviewed card can no longer be selected for the bulk confirm. */
  function settlePick(cardEl) {
    const pick = cardEl.querySelector('input[name="pick"]');
    if (pick) {
      pick.checked = false;
      pick.disabled = true;
    }
    showBulkButton();
  }

  async function confirmSelected() {
    const boxes = [...sections.querySelectorAll('input[name="pick"]:checked')];
    const ids = boxes.map((box) => box.value);
    if (!ids.length) {
      bulkSaid.textContent = 'Select the activities to confirm first.';
      return;
    }
    bulkSaid.textContent = 'Confirming…';
    try {
      const body = await post('/activities/review', { ids, action: 'confirm', note: null });
      const failed = body.results.filter((r) => !r.ok);
      for (const result of body.results.filter((r) => r.ok)) {
        const cardEl = sections.querySelector(`.card[data-id="${CSS.escape(String(result.id))}"]`);
        const item = items.find((i) => String(i.id) === String(result.id));
        if (cardEl && item) markConfirmed(item, cardEl);
      }
      selectAll.checked = false;
      bulkSaid.textContent = `Review saved for ${plural(ids.length - failed.length, 'activity', 'activities')}.` +
        (failed.length ? ` ${failed.length} could not be confirmed.` : '');
    } catch (error) {
      bulkSaid.textContent = describeError(error, REVIEW_FIELDS);
    }
  }
}

/** A button whose work is done: out of sight and of the accessibility tree, its place kept. */
function spend(button, { keepDisabled = true } = {}) {
  if (!button) return;
  button.classList.add('spent');
  if (keepDisabled) button.disabled = true;
}

/** Which activities to show. The states are the options' labels (not their text), so the
 * words Confirmed and Disputed on this screen are the cards' own states. */
function stateFilter() {
  const choices = [['submitted', 'To review'], ['disputed', 'Disputed'], ['confirmed', 'Confirmed']];
  return h('select', { name: 'status' },
    choices.map(([value, label]) => h('option', { value, label, 'aria-label': label, selected: value === 'submitted' })));
}
