// The program manager's dashboard: the activity mix as SVG charts, each with its table.
import { get, request } from '../api.js';
import { barChart, figure, legend, stackedChart, table } from '../chart.js';
import { getRef, setRef } from '../db.js';
import {
  CATEGORIES, LEVELS, OUTCOMES, STATUSES, describeError, field, formatMonth, formatNumber, formatPercent, h, scrollBox,
  placeFieldErrors, select, setFieldError,
} from '../ui.js';
import { dashboardSection } from './voice.js';

const pct = (share) => formatPercent(share);
const num = (value) => (value == null ? 'suppressed' : formatNumber(value));

/** The program's time zone (PROGRAM_TIMEZONE) from the signed-in user record (/me). */
async function programZone() {
  const me = await getRef('me');
  if (me?.program_timezone || !navigator.onLine) return me?.program_timezone;
  try {
    const fresh = await get('/me');
    await setRef('me', fresh);
    return fresh.program_timezone;
  } catch {
    return undefined; // the device's own zone, below
  }
}

/** Today's date (YYYY-MM-DD) in a time zone; the device's zone when it is not known. */
export function dateIn(zone, now = new Date()) {
  let format;
  try {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
  } catch {
    format = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

export async function render(container) {
  const categories = (await getRef('categories')) || CATEGORIES;
  const schools = (await getRef('schools')) || [];
  // The server's dates are dates in the program's time zone: so are the defaults.
  const today = dateIn(await programZone());
  const [year, month, day] = today.split('-').map(Number);
  const yearAgo = new Date(Date.UTC(year - 1, month - 1, day + 1)).toISOString().slice(0, 10);
  const from = h('input', { type: 'date', name: 'from', value: yearAgo });
  const to = h('input', { type: 'date', name: 'to', value: today });
  const school = select('school_id', [['', 'All schools'], ...schools.map((s) => [s.id, s.name])], '');
  const status = select('status', [['', 'All (not deleted)'], ...Object.entries(STATUSES)], '');
  const problem = h('div', { class: 'error-box', role: 'alert', hidden: true });
  const charts = h('div', { class: 'grid' });
  const confirmation = h('section', { 'aria-labelledby': 'confirmation-heading' });
  const totalsEl = h('p', { role: 'status' });
  const voice = h('div');
  const filters = h('form', { class: 'toolbar', novalidate: true },
    field('From', from), field('To', to), field('School', school), field('Status', status),
    h('button', { type: 'submit' }, 'Show'),
    h('button', { type: 'button', class: 'secondary', onclick: downloadCsv }, 'Download CSV'));
  // The filters by the API's names, and the words the form gives them.
  const controls = { from, to, school_id: school, status };
  const LABELS = { from: 'From', to: 'To', school_id: 'School', status: 'Status', group_by: 'Grouping' };

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  container.append(
    h('h1', {}, 'Dashboard'),
    h('p', { class: 'lead' }, 'Where SRO time goes: the activity mix by category, school level, month and outcome.'),
    filters, problem, totalsEl, charts, confirmation, voice);
  if (!navigator.onLine) {
    problem.textContent = 'You are offline. The dashboard needs a connection.';
    problem.hidden = false;
    return;
  }
  await load();
  try {
    voice.replaceChildren(await dashboardSection(schools));
  } catch (error) {
    voice.replaceChildren(h('p', { class: 'error-box' }, `Community voice: ${describeError(error)}`));
  }

  function query(groupBy) {
    const params = new URLSearchParams({ group_by: groupBy });
    if (from.value) params.set('from', from.value);
    if (to.value) params.set('to', to.value);
    if (school.value) params.set('school_id', school.value);
    if (status.value) params.set('status', status.value);
    return params;
  }

  /** A refused or failed load: said at the filters it concerns, and nothing of the last one left. */
  function showProblem(error) {
    const unplaced = placeFieldErrors(error, controls);
    const placed = Object.keys(error.details || {}).length - Object.keys(unplaced).length;
    problem.textContent = placed && !Object.keys(unplaced).length
      ? 'Check the filters marked above.'
      : describeError({ message: error.message, details: unplaced }, LABELS);
    problem.hidden = false;
    totalsEl.textContent = '';
    charts.replaceChildren();
    confirmation.replaceChildren();
  }

  async function load() {
    problem.hidden = true;
    for (const control of Object.values(controls)) setFieldError(control, null);
    if (from.value && to.value && to.value < from.value) {
      showProblem({ details: { to: ['The end date cannot be before the start date.'] } });
      to.focus();
      return;
    }
    try {
      const [byCategory, byLevel, byMonth, byOutcome, review] = await Promise.all([
        get(`/reports/activity-mix?${query('category')}`),
        get(`/reports/activity-mix?${query('school_level')}`),
        get(`/reports/activity-mix?${query('month,category')}`),
        get(`/reports/activity-mix?${query('outcome')}`),
        get(`/reports/confirmation?${new URLSearchParams({ from: from.value, to: to.value })}`),
      ]);
      const total = byCategory.totals.count ?? 0;
      totalsEl.textContent = `${formatNumber(total)} activities, ${formatNumber(byCategory.totals.minutes ?? 0)} minutes in total.`;
      confirmation.replaceChildren(...confirmationTable(review));
      if (!total && !byCategory.rows.length) {
        // Nothing to draw: say so once instead of four empty charts.
        charts.replaceChildren(h('div', { class: 'notice empty-state' },
          h('p', {}, h('strong', {}, 'No activities to show yet. ')),
          h('p', {}, schools.length
            ? 'Nothing logged matches these filters. Widen the dates or choose another school or status; charts appear as soon as officers log and sync activities.'
            : 'No schools and no activities yet. An admin adds schools and officers; charts appear once officers log activities.')));
        return;
      }
      charts.replaceChildren(
        mixFigure('By category', byCategory, 'category', (k) => categories.find((c) => c.key === k)?.label || k),
        mixFigure('By school level', byLevel, 'school_level', (k) => LEVELS[k] || k),
        monthFigure(byMonth),
        mixFigure('By outcome', byOutcome, 'outcome', (k) => OUTCOMES[k] || (k == null || k === 'none_recorded' ? 'Not recorded' : k)),
      );
    } catch (error) {
      showProblem(error);
    }
  }

  function mixFigure(title, report, key, labelOf) {
    const rows = report.rows.map((row) => ({ label: labelOf(row[key]), row }));
    const chartRows = rows.map(({ label, row }) => ({ label, value: row.count ?? 0 }));
    const description = rows.length
      ? `Activities ${title.toLowerCase()}: ${rows.map(({ label, row }) => `${label} ${num(row.count)}`).join(', ')}.`
      : 'No activities match the filters.';
    return figure({
      title: `Activities ${title.toLowerCase()}`,
      chart: barChart({ title: `Activities ${title.toLowerCase()}`, description, rows: chartRows }),
      table: table(`Activities ${title.toLowerCase()} (numbers)`,
        [title.replace('By ', '').replace(/^./, (c) => c.toUpperCase()), 'Activities', 'Minutes', 'Share'],
        rows.map(({ label, row }) => [label, num(row.count), num(row.minutes), pct(row.share_of_count)])),
    });
  }

  function monthFigure(report) {
    const months = [...new Set(report.rows.map((r) => r.month))].sort();
    const keys = categories.map((c) => ({ key: c.key, label: c.label }));
    const groups = months.map((month) => {
      const values = {};
      for (const row of report.rows.filter((r) => r.month === month)) values[row.category] = row.count ?? 0;
      return { label: formatMonth(String(month).slice(0, 7)), values };
    });
    const description = groups.length
      ? `Activities by month, stacked by category: ${groups.map((g) => `${g.label} ${Object.values(g.values).reduce((a, b) => a + b, 0)}`).join(', ')}.`
      : 'No activities match the filters.';
    return figure({
      title: 'Activities by month and category',
      wide: true,
      chart: stackedChart({ title: 'Activities by month and category', description, groups, keys }),
      extra: legend(keys),
      table: table('Activities by month and category (numbers)',
        ['Month', ...keys.map((k) => k.label), 'Total'],
        groups.map((g) => [g.label, ...keys.map((k) => formatNumber(g.values[k.key] || 0)),
          formatNumber(keys.reduce((sum, k) => sum + (g.values[k.key] || 0), 0))])),
    });
  }

  function confirmationTable(report) {
    const chosen = school.value ? Number(school.value) : null;
    const rows = (report.rows || []).filter((row) => chosen == null || row.school_id === chosen);
    const names = new Map(schools.map((s) => [s.id, s.name]));
    const heading = h('h2', { id: 'confirmation-heading' }, 'Confirmation by school');
    if (!rows.length) return [heading, h('p', { class: 'notice' }, 'No schools to report on yet.')];
    return [
      heading,
      scrollBox('Confirmation by school: table', table('Review of logged activities by school',
        ['School', 'Submitted', 'Confirmed', 'Disputed', 'Overdue', 'Confirmed share', 'Median hours to review'],
        rows.map((row) => [
          row.school_name || names.get(row.school_id) || `School ${row.school_id}`,
          num(row.submitted), num(row.confirmed), num(row.disputed), num(row.overdue),
          row.confirmation_rate == null ? '—' : pct(row.confirmation_rate),
          row.median_hours_to_review == null ? '—' : formatNumber(Math.round(row.median_hours_to_review * 10) / 10),
        ]))),
    ];
  }

  async function downloadCsv() {
    try {
      const params = query('category,school,month');
      params.set('format', 'csv');
      const response = await request('GET', `/reports/activity-mix?${params}`, { raw: true, accept: 'text/csv' });
      const blob = await response.blob();
      const link = h('a', { href: URL.createObjectURL(blob), download: `activity-mix-${from.value}-to-${to.value}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      problem.textContent = describeError(error);
      problem.hidden = false;
    }
  }
}
