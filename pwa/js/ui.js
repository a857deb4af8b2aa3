// Small DOM helpers and the words the app shows for each stored value.
const PROPS = new Set(['value', 'checked', 'selected', 'hidden', 'disabled', 'required', 'multiple']);
let nextId = 0;

/** Create an element: h('p', {class: 'x', onclick: fn}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled control with an optional hint and a slot for its error message. */
export function field(label, control, { hint, id } = {}) {
  const controlId = control.id || id || uid();
  control.id = controlId;
  const hintEl = hint ? h('span', { class: 'hint', id: `${controlId}-hint` }, hint) : null;
  const errorEl = h('span', { class: 'field-error', id: `${controlId}-error`, hidden: true });
  const described = [hintEl && hintEl.id].filter(Boolean).join(' ');
  if (described) control.setAttribute('aria-describedby', described);
  return h('div', { class: 'field' }, h('label', { for: controlId }, label), hintEl, control, errorEl);
}

/** Show (or clear, with null) a field's error message next to it. */
/** Say each of an API error's field messages at its control; returns the details no control takes. */
export function placeFieldErrors(error, controls) {
  const unplaced = {};
  for (const [key, messages] of Object.entries(error.details || {})) {
    if (controls[key]) setFieldError(controls[key], [messages].flat(Infinity).join(' '));
    else unplaced[key] = messages;
  }
  return unplaced;
}

export function setFieldError(control, message) {
  // Found in the control's own field first: a view still being built is not in the document.
  const scope = control.closest('.field');
  const find = (id) => scope?.querySelector(`[id="${id}"]`) || document.getElementById(id);
  const errorEl = find(`${control.id}-error`);
  const hintId = `${control.id}-hint`;
  const ids = [find(hintId) ? hintId : null];
  if (message) {
    control.setAttribute('aria-invalid', 'true');
    ids.push(errorEl.id);
    errorEl.textContent = message;
    errorEl.hidden = false;
  } else {
    control.removeAttribute('aria-invalid');
    errorEl.textContent = '';
    errorEl.hidden = true;
  }
  const described = ids.filter(Boolean).join(' ');
  if (described) control.setAttribute('aria-describedby', described);
  else control.removeAttribute('aria-describedby');
}

export function select(name, options, value, attrs = {}) {
  return h(
    'select',
    { name, ...attrs },
    options.map(([optionValue, label]) =>
      h('option', { value: optionValue, selected: String(optionValue) === String(value ?? '') }, label),
    ),
  );
}

/**
 * A table that may scroll sideways on a phone: a labelled region keyboard users can focus and
 * scroll, with a visible cue ("Scroll sideways…", an edge shadow) only while it is too wide.
 */
export function scrollBox(label, content) {
  const cueId = uid('scroll-cue');
  const cue = h('p', { class: 'scroll-cue', id: cueId, hidden: true }, 'Scroll sideways to see every column →');
  const region = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, content);
  const check = () => {
    const overflows = region.scrollWidth > region.clientWidth + 1;
    const atEnd = region.scrollLeft + region.clientWidth >= region.scrollWidth - 1;
    cue.hidden = !overflows;
    region.classList.toggle('overflows', overflows);
    region.classList.toggle('scrolls', overflows && !atEnd);
    if (overflows) region.setAttribute('aria-describedby', cueId);
    else region.removeAttribute('aria-describedby');
  };
  region.addEventListener('scroll', check, { passive: true });
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(check).observe(region);
  return h('div', { class: 'table-box' }, cue, region);
}

export const CATEGORIES = [
  { key: 'education', label: 'Education' },
  { key: 'counselling', label: 'Counselling' },
  { key: 'mediation', label: 'Mediation' },
  { key: 'emergency_response', label: 'Emergency response' },
  { key: 'community_referral', label: 'Community referral' },
];
export const AUDIENCES = { students: 'Students', staff: 'Staff', families: 'Families', community: 'Community' };
export const REFERRALS = {
  mental_health: 'Mental health',
  youth_services: 'Youth services',
  family_services: 'Family services',
  addictions: 'Addictions',
  housing: 'Housing',
  victim_services: 'Victim services',
  other: 'Other',
};
export const OUTCOMES = {
  none: 'No further action',
  follow_up: 'Follow-up',
  referral_made: 'Referral made',
  alternative_measures: 'Alternative measures',
  charge_laid: 'Charge laid',
};
export const STATUSES = { submitted: 'Submitted', confirmed: 'Confirmed', disputed: 'Disputed' };
export const SYNC_STATES = { pending: 'Pending sync', synced: 'Synced', attention: 'Needs attention' };
export const LEVELS = {
  elementary: 'Elementary',
  junior_high: 'Junior high',
  senior_high: 'Senior high',
  k_to_12: 'K to 12',
  other: 'Other',
};
export const ROLES = {
  officer: 'Officer',
  school_leader: 'School leader',
  program_manager: 'Program manager',
  admin: 'Admin',
};

/** An activity's sync state and review state, in words (never colour alone). */
export function stateBadges(item) {
  return h('ul', { class: 'badges', 'aria-label': 'State' },
    h('li', { class: `badge ${item.sync}` }, SYNC_STATES[item.sync]),
    h('li', { class: `badge ${item.status}` }, STATUSES[item.status] || item.status));
}

export function categoryLabel(key, categories = CATEGORIES) {
  return categories.find((c) => c.key === key)?.label || CATEGORIES.find((c) => c.key === key)?.label || key;
}

/** The one locale setting for every date, number and percent the app shows: the page's language. */
export const LOCALE = (typeof document !== 'undefined' && document.documentElement.lang) || 'en';

export function formatDateTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
}

const dateFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });

/** A calendar date ("2026-12-17") in words ("Dec 17, 2026"); anything else unchanged. */
export function formatDate(day) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day ?? ''));
  if (!match) return String(day ?? '');
  return dateFormat.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))));
}

const numberFormat = new Intl.NumberFormat(LOCALE);
const percentFormat = new Intl.NumberFormat(LOCALE, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const monthFormat = new Intl.DateTimeFormat(LOCALE, { month: 'short', year: 'numeric', timeZone: 'UTC' });

/** A count with the locale's thousands separators ("97,588"); '' for none. */
export function formatNumber(value) {
  return value === null || value === undefined ? '' : numberFormat.format(value);
}

/** A share (0..1) as a percent, always with one decimal ("18.5%", "40.0%"); '' for none. */
export function formatPercent(share) {
  return share === null || share === undefined ? '' : percentFormat.format(share);
}

/** A report month ("2026-08") in words ("Aug 2026"); anything else unchanged. */
export function formatMonth(month) {
  const match = /^(\d{4})-(\d{2})$/.exec(String(month ?? ''));
  if (!match) return String(month ?? '');
  return monthFormat.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1))).replace(' ', '\u00a0');
}

const unitFormats = Object.fromEntries(['minute', 'hour', 'day'].map((unit) =>
  [unit, new Intl.NumberFormat(LOCALE, { style: 'unit', unit, unitDisplay: 'long' })]));

/**
 * How long something has waited, in words and whole units rounded down ("45 minutes",
 * "3 hours", "1 day", "4 days"); the caller says what waited ("oldest 3 hours ago").
 */
export function formatWait(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return unitFormats.minute.format(minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return unitFormats.hour.format(hours);
  return unitFormats.day.format(Math.floor(hours / 24));
}

/** A Date as the value of a datetime-local input (local time, minutes). */
export function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** An activity's duration, participants, audience, referral and outcome, in one line. */
export function activityDetails(item) {
  return [
    plural(item.duration_minutes, 'minute'),
    plural(item.participant_count ?? 0, 'participant'),
    (item.audience || []).map((a) => AUDIENCES[a] || a).join(', '),
    item.referral_to ? `Referred to ${REFERRALS[item.referral_to] || item.referral_to}` : null,
    item.outcome ? `Outcome: ${OUTCOMES[item.outcome] || item.outcome}` : null,
  ].filter(Boolean).join(' · ');
}

export { identifierProblems } from './privacy.js';

const flattenMessages = (value) =>
  Array.isArray(value) ? value.flatMap(flattenMessages)
    : value && typeof value === 'object' ? Object.values(value).flatMap(flattenMessages)
      : [String(value)];

/**
 * A human sentence for an API error, with its field details. With `labels` (API field name ->
 * the label on screen), details are named by their label, and a field with no label by none.
 */
export function describeError(error, labels) {
  const details = Object.entries(error?.details || {})
    .map(([key, messages]) => {
      const name = labels ? labels[key] : key.replaceAll('_', ' ');
      return name ? `${name}: ${flattenMessages(messages).join(' ')}` : flattenMessages(messages).join(' ');
    })
    .join(' ');
  return [error?.message, details].filter(Boolean).join(' ');
}

/** The messages an API error gives for any of these fields, as one sentence; null when none. */
export function fieldMessages(error, keys) {
  const found = keys.flatMap((key) => (error?.details?.[key] ? flattenMessages(error.details[key]) : []));
  return found.length ? found.join(' ') : null;
}
