// Log an activity (or edit one): saved on the phone first, then synced. After a new entry
// is saved the officer stays here with a fresh form, above a short list of recent entries.
import { db, deleteDraft, getDraft, getMeta, getRef, setDraft, setMeta } from '../db.js';
import FORM_RULES from '../form-rules.json' with { type: 'json' };
import { CONTENT_FIELDS, localActivities, saveActivity } from '../sync.js';
import {
  AUDIENCES, CATEGORIES, OUTCOMES, REFERRALS, categoryLabel, field, formatDateTime, h,
  identifierProblems, plural, select, setFieldError, stateBadges, toLocalInput,
} from '../ui.js';

// Limits, choices and the referral rule are the server's (form-rules.json, generated from
// its OpenAPI document); only the words for each choice are the app's.
const RULES = FORM_RULES.activity;
const SUMMARY_MAX = RULES.summary.maxLength;
const DURATION = RULES.duration_minutes;
const PARTICIPANTS = RULES.participant_count;
const REFERRAL_WHEN = RULES.referral_to.required_when;
const choices = (name, words) => RULES[name].enum.map((key) => [key, words[key] || key]);
// The server's plausible start (api/schemas/activity.py): from 2000 on, at most 2 days ahead.
const EARLIEST_START = Date.UTC(2000, 0, 1);
const FUTURE_SLACK_MS = 2 * 86400000;
const RECENT = 5;
const DEFAULT_AUDIENCE = ['students'];

export async function render(container, { param, navigate }) {
  const editing = param ? await (await db()).get('activities', param) : null;
  if (param && !editing) {
    container.append(h('h1', {}, 'Activity not found'), h('p', {}, h('a', { class: 'go', href: '#/mine' }, 'Back to my activities')));
    return;
  }
  const draftKey = editing ? `edit:${editing.id}` : 'new';
  const categories = (await getRef('categories')) || CATEGORIES;
  const stored = (await getRef('schools')) || [];
  const schools = stored.filter((s) => s.active !== false || s.id === editing?.school_id);
  const lastSchool = await getMeta('last_school_id');
  const draft = await getDraft(draftKey);
  const defaultSchool = (preferred) => (schools.some((s) => s.id === preferred) ? preferred : schools[0]?.id);
  // The copy the form was opened on: the edit is sent on its version with the fields changed
  // since, whatever a pull brings while the form is open (a restored draft keeps its own).
  const opened = editing ? draft?.opened || { version: editing.version, content: contentOf(editing) } : null;
  const start = draft || (editing ? fromRecord(editing) : {
    school_id: defaultSchool(lastSchool),
    started_local: toLocalInput(new Date()),
    audience: DEFAULT_AUDIENCE,
    participant_count: '',
  });
  // An edit always offers the activity's own school (and a restored draft's), even one the
  // phone's list lacks (an officer given a school since the list was stored): the select
  // would otherwise show another school, and saving would move the activity there.
  if (editing) {
    const me = await getRef('me');
    for (const id of new Set([editing.school_id, start.school_id])) {
      if (id == null || schools.some((s) => s.id === id)) continue;
      const known = stored.find((s) => s.id === id) || me?.schools?.find((s) => s.id === id);
      schools.push({ id, name: known?.name || `School ${id}` });
    }
  }

  const c = {
    category: select('category', [['', 'Choose a category'], ...categories.map((x) => [x.key, x.label])], start.category, { required: true }),
    school: select('school_id', schools.map((s) => [s.id, s.name]), start.school_id, { required: true }),
    started: h('input', { type: 'datetime-local', name: 'started', required: true, value: start.started_local || '' }),
    duration: h('input', { type: 'number', name: 'duration_minutes', inputmode: 'numeric', min: DURATION.minimum, max: DURATION.maximum, step: '1', required: true, value: start.duration_minutes ?? '' }),
    participants: h('input', { type: 'number', name: 'participant_count', inputmode: 'numeric', min: PARTICIPANTS.minimum, max: PARTICIPANTS.maximum, step: '1', value: start.participant_count ?? '' }),
    summary: h('textarea', { name: 'summary', maxlength: SUMMARY_MAX, rows: '4' }),
    referral: select('referral_to', [['', 'Choose where'], ...choices('referral_to', REFERRALS)], start.referral_to),
    outcome: select('outcome', [['', 'Not recorded'], ...choices('outcome', OUTCOMES)], start.outcome),
  };
  c.summary.value = start.summary || '';
  const audienceBoxes = choices('audience', AUDIENCES).map(([key, label]) =>
    h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'audience', value: key, checked: (start.audience || []).includes(key) }),
      label),
  );
  // The group carries the visible legend as its label (aria-labelledby: every tool resolves it).
  const audience = h('fieldset', { id: 'audience-group', 'aria-labelledby': 'audience-legend' },
    h('legend', { id: 'audience-legend' }, 'Audience'),
    h('div', { class: 'choices' }, audienceBoxes),
    h('span', { class: 'field-error', id: 'audience-group-error', hidden: true }),
  );
  const counter = h('p', { class: 'counter', 'aria-live': 'off' });
  const referralField = field('Referred to', c.referral);
  const problem = h('div', { class: 'error-box', role: 'alert', hidden: true });
  // Seen, not announced: the status region says "Saved on this phone · N waiting to sync".
  const savedNote = h('div', { class: 'ok-box', hidden: true });
  let draftNote = draft
    ? h('div', { class: 'notice' }, 'A draft you had not saved was restored. ',
        h('button', { type: 'button', class: 'secondary', onclick: discardDraft }, 'Discard draft'))
    : null;

  const form = h('form', { novalidate: true, onsubmit: onSubmit, oninput: onInput, onchange: onInput },
    field('Category', c.category),
    referralField,
    field('School', c.school),
    h('div', { class: 'row' },
      field('Started', c.started),
      field('Duration (minutes)', c.duration)),
    audience,
    field('Participants', c.participants, { hint: 'How many people took part (a count only).' }),
    field('Summary', c.summary, {
      hint: 'Do not name students or write anything that identifies anyone: no names, student numbers, emails or phone numbers.',
    }),
    counter,
    field('Outcome', c.outcome),
    problem,
    h('div', { class: 'actions primary' },
      h('button', { type: 'submit' }, 'Save'),
      editing ? h('a', { class: 'button secondary', href: '#/mine', onclick: onCancel }, 'Cancel') : null),
  );
  if (!schools.length) {
    problem.textContent = 'No schools are stored on this phone yet. Connect and sign in again to load them.';
    problem.hidden = false;
  }
  const reviewNote = editing?.status === 'disputed' && editing.review_note
    ? h('div', { class: 'error-box' }, h('strong', {}, 'Disputed by the school: '), editing.review_note,
        ' Correct the details and save: the school will review it again.')
    : null;

  const recent = editing ? null : recentSection();
  container.append(...[
    h('h1', {}, editing ? 'Edit activity' : 'Log activity'), reviewNote, draftNote, savedNote, form, recent?.section,
  ].filter(Boolean));
  updateVisibility();
  if (recent) {
    await recent.fill();
    const refresh = () => {
      if (!container.isConnected) window.removeEventListener('sro:changed', refresh);
      else recent.fill();
    };
    window.addEventListener('sro:changed', refresh);
  }

  // Every keystroke is kept at once (one small IndexedDB write): a phone may be put away,
  // or the page reloaded, a moment after the last one.
  let schoolChanged = false;
  let cancelled = false;
  let keeping = Promise.resolve();
  function onInput(event) {
    if (event?.target === c.school) schoolChanged = true;
    updateVisibility();
    savedNote.hidden = true;
    if (!cancelled) keeping = keepDraft();
  }

  // Cancel leaves the edit unmade: what was typed is dropped (the draft, once any write of it
  // under way has finished), so reopening Edit shows the activity as it is, and signing out
  // has no unsaved form to warn about.
  async function onCancel(event) {
    event.preventDefault();
    cancelled = true;
    await keeping;
    try {
      await deleteDraft(draftKey);
    } catch {
      // Storage refused: the draft stays and is offered again; nothing is lost.
    }
    navigate('mine');
  }

  async function keepDraft() {
    try {
      await setDraft(draftKey, { ...readForm(), opened });
    } catch (error) {
      problem.textContent = `This phone could not keep a draft of the form: ${storageProblem(error)} Save the activity to keep it.`;
      problem.hidden = false;
    }
  }

  function updateVisibility() {
    const isReferral = c.category.value === REFERRAL_WHEN.category;
    referralField.hidden = !isReferral;
    c.referral.required = isReferral;
    counter.textContent = `${c.summary.value.length} of ${SUMMARY_MAX} characters`;
  }

  function readForm() {
    return {
      category: c.category.value,
      school_id: c.school.value ? Number(c.school.value) : null,
      started_local: c.started.value,
      duration_minutes: c.duration.value,
      audience: audienceBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value),
      participant_count: c.participants.value,
      summary: c.summary.value,
      referral_to: c.referral.value,
      outcome: c.outcome.value,
    };
  }

  function validate(values) {
    const errors = new Map();
    if (!values.category) errors.set(c.category, 'Choose a category.');
    if (values.category === REFERRAL_WHEN.category && !values.referral_to) errors.set(c.referral, 'Say where you referred them.');
    if (!values.school_id) errors.set(c.school, 'Choose a school.');
    const started = values.started_local ? new Date(values.started_local) : null;
    if (!started || Number.isNaN(started.getTime())) errors.set(c.started, 'Enter when it started.');
    else if (started.getTime() > Date.now() + FUTURE_SLACK_MS) errors.set(c.started, 'This is too far in the future.');
    else if (started.getTime() < EARLIEST_START) errors.set(c.started, 'This is too far in the past: check the year.');
    const duration = Number(values.duration_minutes);
    if (!within(duration, DURATION)) errors.set(c.duration, `Enter whole minutes from ${DURATION.minimum} to ${DURATION.maximum}.`);
    const count = values.participant_count === '' ? 0 : Number(values.participant_count);
    if (!within(count, PARTICIPANTS)) errors.set(c.participants, `Enter a count from ${PARTICIPANTS.minimum} to ${PARTICIPANTS.maximum}.`);
    const problems = identifierProblems(values.summary);
    if (problems.length) errors.set(c.summary, problems.join(' '));
    return errors;
  }

  let saving = false;
  async function onSubmit(event) {
    event.preventDefault();
    if (saving) return;
    const values = readForm();
    const errors = validate(values);
    for (const control of [c.category, c.referral, c.school, c.started, c.duration, c.participants, c.summary]) {
      setFieldError(control, errors.get(control) || null);
    }
    if (errors.size) {
      problem.textContent = `Check ${errors.size === 1 ? 'one field' : `${errors.size} fields`} before saving.`;
      problem.hidden = false;
      errors.keys().next().value.focus();
      return;
    }
    problem.hidden = true;
    const content = {
      // An edit sends the school only when the officer changed it (changedFields then finds
      // it differs); otherwise the school the form was opened with.
      school_id: editing && !schoolChanged ? (start.school_id ?? values.school_id) : values.school_id,
      category: values.category,
      // Unchanged in the form (which shows whole minutes): the opened time, to the second.
      started_at: opened && values.started_local === toLocalInput(new Date(opened.content.started_at))
        ? opened.content.started_at
        : new Date(values.started_local).toISOString(),
      duration_minutes: Number(values.duration_minutes),
      audience: values.audience,
      participant_count: values.participant_count === '' ? 0 : Number(values.participant_count),
      summary: values.summary.trim() || null,
      referral_to: values.category === REFERRAL_WHEN.category ? values.referral_to : null,
      outcome: values.outcome || null,
    };
    saving = true;
    savedNote.hidden = true;
    try {
      await saveActivity(editing?.id || null, content, opened);
    } catch (error) {
      // Nothing was stored: say so at once; the form keeps what the officer typed.
      problem.textContent = `Not saved: ${storageProblem(error)} What you typed is still in the form; try Save again.`;
      problem.hidden = false;
      saving = false;
      return;
    }
    saving = false;
    try {
      await setMeta('last_school_id', values.school_id);
      await deleteDraft(draftKey);
    } catch {
      // The activity is saved; a leftover draft or school preference is harmless.
    }
    if (editing) {
      sessionStorage.setItem('sro-flash', 'Changes saved on this phone.');
      navigate('mine');
      return;
    }
    // Stay here for the next entry: the status region announces the save and the queue.
    resetForm(values.school_id);
    savedNote.textContent = 'Saved. The form is ready for the next activity.';
    savedNote.hidden = false;
    c.category.focus();
    window.dispatchEvent(new CustomEvent('sro:saved'));
    await recent?.fill();
  }

  /** A fresh form for the next entry: the school just used, started now, nothing else. */
  function resetForm(schoolId) {
    for (const control of [c.category, c.referral, c.school, c.started, c.duration, c.participants, c.summary]) {
      setFieldError(control, null);
    }
    c.category.value = '';
    c.school.value = String(defaultSchool(schoolId) ?? '');
    c.started.value = toLocalInput(new Date());
    c.duration.value = '';
    c.participants.value = '';
    c.summary.value = '';
    c.referral.value = '';
    c.outcome.value = '';
    for (const box of audienceBoxes.map((l) => l.querySelector('input'))) box.checked = DEFAULT_AUDIENCE.includes(box.value);
    problem.hidden = true;
    draftNote?.remove();
    draftNote = null;
    updateVisibility();
  }

  async function discardDraft() {
    await deleteDraft(draftKey);
    navigate(editing ? `log/${editing.id}` : 'log');
  }

  /** The latest few activities on this phone, with their states in words; kept live. */
  function recentSection() {
    const schoolNames = new Map(schools.map((s) => [s.id, s.name]));
    const list = h('ul', { class: 'cards recent', 'aria-labelledby': 'recent-heading' });
    const more = h('a', { class: 'go', href: '#/mine' });
    const section = h('section', { class: 'recent-section', 'aria-labelledby': 'recent-heading', hidden: true },
      h('h2', { id: 'recent-heading' }, 'Recent on this phone'),
      list,
      h('p', {}, more));
    async function fill() {
      const items = (await localActivities())
        .sort((a, b) => (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0));
      section.hidden = items.length === 0;
      more.textContent = `All activities on this phone (${items.length})`;
      list.replaceChildren(...items.slice(0, RECENT).map((item) => {
        const classes = ['card', item.sync === 'attention' ? 'attention' : item.status === 'disputed' ? 'disputed' : ''];
        return h('li', { class: classes.join(' ').trim() },
          h('h3', {}, `${categoryLabel(item.category, categories)} · ${schoolNames.get(item.school_id) || `School ${item.school_id}`}`),
          h('p', { class: 'meta' }, `${formatDateTime(item.started_at)} · ${plural(item.duration_minutes, 'minute')}`),
          stateBadges(item),
          item.status === 'disputed' && item.review_note
            ? h('p', { class: 'reason' }, `The school's reason: ${item.review_note}`)
            : null);
      }));
    }
    return { section, fill };
  }
}

function contentOf(record) {
  const content = {};
  for (const key of CONTENT_FIELDS) content[key] = record[key] ?? null;
  return content;
}

/** A whole number inside a field's bounds. */
function within(value, bounds) {
  return Number.isInteger(value) && value >= bounds.minimum && value <= bounds.maximum;
}

/** Why the phone's storage refused a write, in words. */
function storageProblem(error) {
  if (error?.name === 'QuotaExceededError' || /quota/i.test(error?.message || '')) {
    return "this phone's storage is full. Free up space (delete photos or apps you do not need).";
  }
  return "this phone's storage refused it (it may have been cleared or blocked by the browser).";
}

function fromRecord(record) {
  return {
    ...record,
    started_local: record.started_at ? toLocalInput(new Date(record.started_at)) : '',
    referral_to: record.referral_to || '',
    outcome: record.outcome || '',
  };
}
