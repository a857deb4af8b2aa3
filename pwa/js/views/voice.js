// Community voice: survey rounds, codes printed as slips, results by group beside the
// activity mix, and one printable evaluation page per round (voice.md).
import { get, getAll, post } from '../api.js';
import { barChart, figure, table } from '../chart.js';
import { getRef } from '../db.js';
import {
  CATEGORIES, LEVELS, OUTCOMES, describeError, field, formatDate, h, placeFieldErrors, scrollBox, select, setFieldError,
  uid,
} from '../ui.js';

export const AUDIENCE_LABELS = {
  students_4_6: 'Students, grades 4-6',
  students_7_9: 'Students, grades 7-9',
  students_10_12: 'Students, grades 10-12',
  staff: 'Staff',
  families: 'Families',
};
export const GROUP_LABELS = {
  indigenous: 'Indigenous',
  black: 'Black',
  racialized_other: 'Another racialized group',
  '2slgbtq': '2SLGBTQ+',
  disability: 'Disability',
  prefer_not_to_say: 'Prefer not to say',
};
const ITEM_SHORT = {
  safe_at_school: 'Feel safe at school',
  safe_with_officer: 'Feel safe with the officer',
  would_ask_for_help: 'Would ask the officer for help',
  treated_fairly: 'Officer treats students fairly',
  knows_role: "Know the officer's role",
};
const STATUS_LABELS = { scheduled: 'Scheduled', open: 'Open', closed: 'Closed' };
const MANAGERS = ['program_manager', 'admin'];

const pctText = (value) => (value == null ? '' : `${value}%`);

function hiddenText(k) {
  return `Hidden: fewer than ${k} answers`;
}

function gapText(gap) {
  if (gap == null) return '';
  if (gap === 0) return 'No gap';
  const size = `${Math.abs(gap)} points`;
  return gap < 0 ? `▼ ${size} lower than everyone else` : `▲ ${size} higher than everyone else`;
}

export function groupLabel(groupBy, key, schools) {
  if (groupBy === 'identity') return GROUP_LABELS[key] || key;
  if (groupBy === 'audience') return AUDIENCE_LABELS[key] || key;
  if (groupBy === 'school_level') return LEVELS[key] || key;
  return schools.find((s) => s.id === key)?.name || `School ${key}`;
}

const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** "N answers from M codes issued (response rate R%)." */
export function participationText(results) {
  const issued = results.participation.reduce((sum, p) => sum + p.issued, 0);
  const rate = issued ? `${Math.round((1000 * results.responses) / issued) / 10}%` : '—';
  return `${count(results.responses, 'answer', 'answers')} from ${count(issued, 'code', 'codes')} issued (response rate ${rate}).`;
}

/** Participation: codes issued, answers and the response rate, per school and audience. */
export function participationTable(results, schools) {
  const names = new Map(schools.map((s) => [s.id, s.name]));
  return [
    h('p', { class: 'participation' }, participationText(results)),
    scrollBox('Participation: table', table('Participation by school and audience',
      ['School', 'Audience', 'Codes issued', 'Answers', 'Response rate'],
      results.participation.map((p) => [
        names.get(p.school_id) || `School ${p.school_id}`,
        AUDIENCE_LABELS[p.audience] || p.audience,
        String(p.issued), String(p.responses),
        p.response_rate == null ? '—' : `${p.response_rate}%`,
      ]))),
  ];
}

/** Each item: the agree share overall and by group, gaps marked, hidden cells in words. */
export function itemFigures(results, schools) {
  const k = results.suppress_below;
  return results.items.map((item) => {
    const title = ITEM_SHORT[item.key] || item.key;
    const overall = item.overall;
    const rows = [{ label: 'Everyone', figures: overall, gap: null }].concat(
      item.groups.map((g) => ({ label: groupLabel(results.group_by, g.group, schools), figures: g, gap: g.gap_pts })));
    const shown = rows.filter((r) => r.figures.n != null);
    const description = `${item.text.en} Share who agree: ` + rows.map((r) =>
      `${r.label} ${r.figures.n == null ? 'hidden (too few answers)' : `${r.figures.agree_pct}%`}`).join(', ') + '.';
    return figure({
      title: `${title}: share who agree`,
      chart: barChart({
        title: `${title}: share who agree (%)`,
        description,
        rows: shown.map((r) => ({ label: r.label, value: r.figures.agree_pct ?? 0 })),
        empty: `${hiddenText(k)} in every group.`,
      }),
      extra: h('p', { class: 'meta' }, `“${item.text.en}”`),
      table: table(`${title} (numbers)`,
        ['Group', 'Answers', 'Agree', 'Disagree', 'Mean (1-5)', 'Gap'],
        rows.map((r) => (r.figures.n == null
          ? [r.label, hiddenText(k), '', '', '', '']
          : [r.label, String(r.figures.n), pctText(r.figures.agree_pct), pctText(r.figures.disagree_pct),
            r.figures.mean == null ? '' : String(r.figures.mean), gapText(r.gap)]))),
    });
  });
}

const agreeShare = (results, key) => results?.items.find((i) => i.key === key)?.overall.agree_pct ?? null;

/** The agree share of each item, round by round: the officer item drawn, every item in the table. */
export function trendFigure(rounds, resultsByRound) {
  const keys = Object.keys(ITEM_SHORT);
  const label = (round) => `${round.title} (${formatDate(round.opens_on)})`;
  const drawn = rounds.filter((round) => agreeShare(resultsByRound.get(round.id), 'safe_with_officer') != null)
    .map((round) => ({ label: round.title, value: agreeShare(resultsByRound.get(round.id), 'safe_with_officer') }));
  const title = `${ITEM_SHORT.safe_with_officer}: share who agree, round by round`;
  return figure({
    title,
    chart: barChart({
      title: `${title} (%)`,
      description: `${title}: ${drawn.map((r) => `${r.label} ${r.value}%`).join(', ') || 'hidden (too few answers)'}.`,
      rows: drawn,
      empty: 'Hidden: too few answers in every round.',
    }),
    table: table('Share who agree, round by round',
      ['Round', ...keys.map((key) => ITEM_SHORT[key])],
      rounds.map((round) => [label(round), ...keys.map((key) => {
        const share = agreeShare(resultsByRound.get(round.id), key);
        return share == null ? 'Hidden: too few answers' : `${share}%`;
      })])),
  });
}

/**
 * A round's schools in words: the names this user may see (a leader sees only their own
 * schools), the rest counted ("and 3 other schools"), never a made-up "School 12".
 */
export function roundSchools(round, schools) {
  const names = round.school_ids.map((id) => schools.find((s) => s.id === id)?.name).filter(Boolean);
  const others = round.school_ids.length - names.length;
  if (!others) return names.join(', ');
  const more = `${others} other school${others === 1 ? '' : 's'}`;
  return names.length ? `${names.join(', ')} and ${more}` : more;
}

const period = (round) => `${formatDate(round.opens_on)} to ${formatDate(round.closes_on)}`;

function roundCard(round, schools) {
  return h('li', { class: 'card' },
    h('h2', {}, h('a', { class: 'go', href: `#/voice/${round.id}` }, round.title)),
    h('p', {}, `${STATUS_LABELS[round.status]}: ${period(round)}`),
    h('p', { class: 'meta' }, `${roundSchools(round, schools)} · ${round.audiences.map((a) => AUDIENCE_LABELS[a]).join(', ')}`));
}

// The new-round form's fields by the API's names, and the words the form gives them.
const ROUND_LABELS = { title: 'Title', opens_on: 'Opens on', closes_on: 'Closes on', school_ids: 'Schools', audiences: 'Audiences' };

/** A group of checkboxes with its legend and a slot for its error message. */
function choiceGroup(legend, boxes) {
  const errorId = uid('group-error');
  const group = h('fieldset', {}, h('legend', {}, legend), h('div', { class: 'choices' }, boxes),
    h('span', { class: 'field-error', id: errorId, hidden: true }));
  group.setError = (message) => {
    const slot = group.querySelector(`#${errorId}`);
    slot.textContent = message || '';
    slot.hidden = !message;
    if (message) group.setAttribute('aria-describedby', errorId);
    else group.removeAttribute('aria-describedby');
  };
  return group;
}

function newRoundForm(schools, onMade) {
  const title = h('input', { name: 'title', required: true, maxlength: '200' });
  const opens = h('input', { type: 'date', name: 'opens_on', required: true });
  const closes = h('input', { type: 'date', name: 'closes_on', required: true });
  const schoolBoxes = schools.map((s) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'school_ids', value: String(s.id) }), s.name));
  const audienceBoxes = Object.entries(AUDIENCE_LABELS).map(([key, label]) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'audiences', value: key }), label));
  const schoolGroup = choiceGroup('Schools', schoolBoxes);
  const audienceGroup = choiceGroup('Audiences', audienceBoxes);
  const controls = { title, opens_on: opens, closes_on: closes };
  const groups = { school_ids: schoolGroup, audiences: audienceGroup };
  const problem = h('div', { class: 'error-box', role: 'alert', hidden: true });
  const form = h('form', { novalidate: true },
    field('Title', title), field('Opens on', opens), field('Closes on', closes),
    schoolGroup, audienceGroup,
    problem, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Open round')));
  const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);

  /** Each message at its field (or group); what belongs to none in the box below them. */
  function showErrors(errors, rest = null) {
    for (const [key, control] of Object.entries(controls)) setFieldError(control, errors[key] || null);
    for (const [key, group] of Object.entries(groups)) group.setError(errors[key] || null);
    problem.textContent = rest || (Object.keys(errors).length ? 'Check the fields marked above.' : '');
    problem.hidden = !problem.textContent;
    const first = Object.keys(controls).find((key) => errors[key]);
    if (first) controls[first].focus();
    else (Object.entries(groups).find(([key]) => errors[key])?.[1].querySelector('input'))?.focus();
  }

  function check(body) {
    const errors = {};
    if (!body.title) errors.title = 'Give the round a title.';
    if (!body.opens_on) errors.opens_on = 'Choose the first day of the round.';
    if (!body.closes_on) errors.closes_on = 'Choose the last day of the round.';
    else if (body.opens_on && body.closes_on < body.opens_on) errors.closes_on = 'The last day cannot be before the first.';
    if (!body.school_ids.length) errors.school_ids = 'Choose at least one school.';
    if (!body.audiences.length) errors.audiences = 'Choose at least one audience.';
    return errors;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      title: title.value.trim(), opens_on: opens.value, closes_on: closes.value,
      school_ids: checked('school_ids').map(Number), audiences: checked('audiences'),
    };
    const errors = check(body);
    showErrors(errors);
    if (Object.keys(errors).length) return;
    try {
      onMade(await post('/surveys', body));
    } catch (error) {
      const placed = {};
      const unplaced = {};
      for (const [key, messages] of Object.entries(error.details || {})) {
        if (controls[key] || groups[key]) placed[key] = [messages].flat(Infinity).join(' ');
        else unplaced[key] = messages;
      }
      const rest = Object.keys(unplaced).length || !Object.keys(placed).length
        ? describeError({ message: error.message, details: unplaced }, ROUND_LABELS) : null;
      showErrors(placed, rest);
    }
  });
  return h('section', { 'aria-labelledby': 'new-round' }, h('h2', { id: 'new-round' }, 'Open a new round'), form);
}

async function renderList(container, context, schools) {
  const rounds = (await getAll('/surveys')).sort((a, b) => b.opens_on.localeCompare(a.opens_on));
  container.append(h('h1', {}, 'Community voice'),
    h('p', { class: 'lead' }, 'Anonymous surveys of students, staff and families: do they feel safe with the officer?'));
  container.append(rounds.length
    ? h('ul', { class: 'cards' }, rounds.map((round) => roundCard(round, schools)))
    : h('p', { class: 'notice' }, 'No survey rounds yet.'));
  if (context.user.role === 'school_leader' && rounds.length) {
    // Leaders have no dashboard: the latest results of their schools and the trend are here.
    container.append(await dashboardSection(schools, 'Latest results for your schools'));
  }
  if (MANAGERS.includes(context.user.role)) {
    container.append(newRoundForm(schools, (made) => context.navigate(`voice/${made.id}`)));
  }
}

function slipsBlock(issued, round) {
  const label = AUDIENCE_LABELS[issued.audience];
  return h('section', { class: 'slips', 'aria-labelledby': 'slips-heading' },
    h('h2', { id: 'slips-heading' }, `${issued.codes.length} new codes`),
    h('p', { class: 'warning no-print' }, 'These codes are shown only once. Print them now; each code works one time.'),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', onclick: () => window.print() }, 'Print slips')),
    h('ul', { class: 'slip-list' }, issued.slips.map((slip) => h('li', { class: 'slip' },
      h('img', { src: slip.qr, alt: `QR code for the survey address with code ${slip.code}`, width: '132', height: '132' }),
      h('div', {},
        h('p', { class: 'slip-title' }, `${round.title} · ${label}`),
        h('p', {}, 'Scan the code, or go to: / Scanne le code, ou va à :'),
        h('p', { class: 'slip-address' }, issued.address),
        h('p', {}, 'and type this code / et écris ce code :'),
        h('p', { class: 'slip-code' }, slip.code))))));
}

function codesForm(round, schools, user, onIssued) {
  if (round.status === 'closed') {
    // A code of a closed round can never be used, and would lower its response rate.
    return [h('h2', { class: 'no-print' }, 'Print codes'),
      h('p', { class: 'notice no-print' }, 'This round is closed: its codes can no longer be used, so no new ones are made.')];
  }
  // Leaders issue codes for their own schools only (their school list is just those).
  const mine = user.role === 'school_leader' ? new Set(schools.map((s) => s.id)) : null;
  const options = round.school_ids.filter((id) => !mine || mine.has(id))
    .map((id) => [id, schools.find((s) => s.id === id)?.name || `School ${id}`]);
  const school = select('school_id', options, options[0]?.[0]);
  const audience = select('audience', round.audiences.map((a) => [a, AUDIENCE_LABELS[a]]), round.audiences[0]);
  const count = h('input', { type: 'number', name: 'count', min: '1', max: '1000', value: '30', inputmode: 'numeric' });
  const problem = h('div', { class: 'error-box', role: 'alert', hidden: true });
  const form = h('form', { class: 'toolbar no-print', novalidate: true },
    field('School', school), field('Audience', audience), field('How many codes', count),
    h('button', { type: 'submit' }, 'Make codes'));
  const controls = { school_id: school, audience, count };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.hidden = true;
    for (const control of Object.values(controls)) setFieldError(control, null);
    const howMany = Number(count.value);
    if (!Number.isInteger(howMany) || howMany < Number(count.min) || howMany > Number(count.max)) {
      setFieldError(count, `Enter a whole number from ${count.min} to ${count.max}.`);
      count.focus();
      return;
    }
    try {
      onIssued(await post(`/surveys/${round.id}/codes`, {
        school_id: Number(school.value), audience: audience.value, count: howMany,
      }));
    } catch (error) {
      // A message about a field is said at it; the rest below the form.
      const unplaced = placeFieldErrors(error, controls);
      problem.textContent = describeError({ message: error.message, details: unplaced });
      problem.hidden = false;
    }
  });
  return [h('h2', { class: 'no-print' }, 'Print codes'), form, problem];
}

async function renderRound(container, context, schools, roundId) {
  const round = await get(`/surveys/${roundId}`);
  const slipsHere = h('div', { class: 'slips-host' });
  const resultsHere = h('div');
  const groupBy = select('group_by', [['identity', 'Self-described group'], ['audience', 'Audience'],
    ['school_level', 'School level'], ['school', 'School']], 'identity');
  container.append(
    h('p', { class: 'no-print' }, h('a', { class: 'go', href: '#/voice' }, 'All rounds')),
    h('h1', {}, round.title),
    h('p', { class: 'lead' }, `${STATUS_LABELS[round.status]}: ${period(round)}`),
    h('p', { class: 'no-print' }, h('a', { class: 'go', href: `#/voice/${round.id}/report` }, 'Printable evaluation page')),
    ...codesForm(round, schools, context.user, (issued) => {
      slipsHere.replaceChildren(slipsBlock(issued, round));
      load();
    }),
    slipsHere,
    h('h2', { class: 'no-print' }, 'Results'),
    h('div', { class: 'toolbar no-print' }, field('Compare by', groupBy)),
    resultsHere);
  const load = async () => {
    let results;
    try {
      results = await get(`/surveys/${round.id}/results?group_by=${groupBy.value}`);
    } catch (error) {
      resultsHere.replaceChildren(h('div', { class: 'error-box', role: 'alert' },
        `The results could not be loaded. ${describeError(error)} Choose again to retry.`));
      return;
    }
    resultsHere.replaceChildren(h('div', { class: 'no-print' }, ...participationTable(results, schools),
      h('div', { class: 'grid' }, itemFigures(results, schools))));
  };
  groupBy.addEventListener('change', load);
  await load();
}

function sumRows(report, key, schoolIds) {
  const totals = new Map();
  for (const row of report.rows) {
    if (!schoolIds.has(row.school_id)) continue;
    totals.set(row[key], (totals.get(row[key]) || 0) + (row.count ?? 0));
  }
  return [...totals.entries()].map(([group, count]) => ({ group, count }));
}

function mixFigure(title, rows, labelOf) {
  const labelled = rows.map((r) => ({ label: labelOf(r.group), value: r.count }));
  return figure({
    title,
    chart: barChart({ title, description: `${title}: ${labelled.map((r) => `${r.label} ${r.value}`).join(', ') || 'none'}.`, rows: labelled }),
    table: table(`${title} (numbers)`, ['Group', 'Activities'], labelled.map((r) => [r.label, String(r.value)])),
  });
}

async function activityMix(round) {
  const schoolIds = new Set(round.school_ids);
  // Confirmed activities: the view evaluation uses (api.md), what the schools agree happened.
  const range = `from=${round.opens_on}&to=${round.closes_on}&status=confirmed`;
  const [byCategory, byLevel, byOutcome] = await Promise.all(['category', 'school_level', 'outcome'].map((key) =>
    get(`/reports/activity-mix?group_by=school,${key}&${range}`)));
  const categories = (await getRef('categories')) || CATEGORIES;
  return [
    mixFigure('Activities by category', sumRows(byCategory, 'category', schoolIds),
      (k) => categories.find((c) => c.key === k)?.label || k),
    mixFigure('Activities by school level', sumRows(byLevel, 'school_level', schoolIds), (k) => LEVELS[k] || k),
    mixFigure('Activities by outcome', sumRows(byOutcome, 'outcome', schoolIds),
      (k) => OUTCOMES[k] || (k == null || k === 'none_recorded' ? 'Not recorded' : k)),
  ];
}

async function renderReport(container, context, schools, roundId) {
  const round = await get(`/surveys/${roundId}`);
  const results = await get(`/surveys/${round.id}/results?group_by=identity`);
  container.classList.add('evaluation');
  container.append(
    h('p', { class: 'no-print' }, h('a', { class: 'go', href: `#/voice/${round.id}` }, 'Back to the round')),
    h('h1', {}, `Evaluation: ${round.title}`),
    h('p', { class: 'lead' }, `${period(round)} · ${roundSchools(round, schools)}`),
    h('div', { class: 'actions no-print' }, h('button', { type: 'button', onclick: () => window.print() }, 'Print this page')),
    h('h2', {}, 'Community voice'),
    ...participationTable(results, schools),
    h('div', { class: 'grid' }, itemFigures(results, schools)));
  if (MANAGERS.includes(context.user.role)) {
    container.append(h('h2', {}, 'What officers did: the activity mix of the same schools and dates'),
      h('p', {}, 'Activities the schools confirmed, logged from the day the round opened to the day it closed.'),
      h('div', { class: 'grid' }, await activityMix(round)));
  }
}

export async function render(container, context) {
  if (!navigator.onLine) {
    container.append(h('h1', {}, 'Community voice'), h('p', { class: 'error-box', role: 'alert' }, 'You are offline. Survey results need a connection.'));
    return;
  }
  const schools = (await getRef('schools')) || [];
  const [roundId, page] = (context.param || '').split('/');
  if (!roundId) return renderList(container, context, schools);
  if (page === 'report') return renderReport(container, context, schools, roundId);
  return renderRound(container, context, schools, roundId);
}

/** The dashboard's "Community voice" section: the last finished round (the open one while none
 * has finished) with its items, how many have answered an open round so far, and the trend. */
export async function dashboardSection(schools, title = 'Community voice') {
  const rounds = (await getAll('/surveys')).sort((a, b) => a.opens_on.localeCompare(b.opens_on));
  const heading = h('h2', { id: 'voice-heading' }, title);
  const section = h('section', { 'aria-labelledby': 'voice-heading' }, heading);
  const started = rounds.filter((r) => r.status !== 'scheduled');
  if (!started.length) {
    section.append(h('p', { class: 'notice' }, 'No survey results yet. Open a round under Community voice.'));
    return section;
  }
  const finished = started.filter((r) => r.status === 'closed');
  const shown = (finished.length ? finished : started).at(-1);
  const open = started.filter((r) => r.status === 'open' && r !== shown);
  const trend = started.slice(-6);
  const resultsByRound = new Map();
  for (const round of new Set([shown, ...open, ...trend])) {
    resultsByRound.set(round.id, await get(`/surveys/${round.id}/results?group_by=identity`));
  }
  const results = resultsByRound.get(shown.id);
  section.append(
    ...open.map((round) => h('p', { class: 'notice' }, 'Open now: ',
      h('a', { class: 'go', href: `#/voice/${round.id}` }, round.title), ` (until ${formatDate(round.closes_on)}): `,
      participationText(resultsByRound.get(round.id)))),
    h('p', {}, `${shown.status === 'closed' ? 'Last finished round' : 'Open round'}: `,
      h('a', { class: 'go', href: `#/voice/${shown.id}` }, shown.title), ` (${period(shown)}) · `,
      h('a', { class: 'go', href: `#/voice/${shown.id}/report` }, 'Printable evaluation page')),
    ...participationTable(results, schools),
    h('div', { class: 'grid' }, itemFigures(results, schools)),
    h('h3', {}, 'Trend across rounds'),
    trendFigure(trend, resultsByRound));
  return section;
}
