// The anonymous survey page (/survey): no sign-in. The code comes from the address's
// fragment (/survey#CODE), which browsers never send to the server, or is typed in; it is
// sent only in the body of the check and submit requests.
import { h, uid } from './ui.js';

const WORDS = {
  en: {
    title: 'School safety survey',
    codeIntro: 'Type the code from your paper slip.',
    code: 'Code',
    codeHint: 'It looks like ABCDE-23456.',
    noCode: 'Type the code from your paper slip first.',
    start: 'Start',
    checking: 'Checking your code…',
    intro: 'There are 5 questions. Pick the answer that fits best. You can skip a question.',
    private: 'This survey is private. We do not ask your name. No one can tell which answers are yours.',
    aboutTitle: 'About you (you can skip this)',
    aboutHint: 'Check any that describe you.',
    submit: 'Submit',
    sending: 'Sending…',
    thanks: 'Thank you! Your answers were sent.',
    thanksMore: 'You can close this page now.',
    not_found: 'We could not find this code. Check it and try again.',
    code_used: 'This code was already used. Each code works one time.',
    survey_closed: 'This survey is closed.',
    survey_not_open: 'This survey is not open yet.',
    rate_limited: 'Too many tries. Wait one minute, then try again.',
    offline: 'We could not reach the survey. Check your connection and try again.',
    failed: 'Something went wrong. Try again.',
  },
  fr: {
    title: "Sondage sur la sécurité à l'école",
    codeIntro: 'Écris le code de ton billet.',
    code: 'Code',
    codeHint: 'Il ressemble à ABCDE-23456.',
    noCode: "Écris d'abord le code de ton billet.",
    start: 'Commencer',
    checking: 'Vérification du code…',
    intro: 'Il y a 5 questions. Choisis la réponse qui te va le mieux. Tu peux sauter une question.',
    private: 'Ce sondage est privé. On ne demande pas ton nom. Personne ne peut savoir quelles réponses sont les tiennes.',
    aboutTitle: 'À propos de toi (tu peux sauter cette partie)',
    aboutHint: 'Coche ce qui te décrit.',
    submit: 'Envoyer',
    sending: 'Envoi…',
    thanks: 'Merci! Tes réponses ont été envoyées.',
    thanksMore: 'Tu peux fermer cette page.',
    not_found: "Nous ne trouvons pas ce code. Vérifie-le et essaie encore.",
    code_used: 'Ce code a déjà servi. Chaque code marche une seule fois.',
    survey_closed: 'Ce sondage est fermé.',
    survey_not_open: "Ce sondage n'est pas encore ouvert.",
    rate_limited: 'Trop d’essais. Attends une minute, puis essaie encore.',
    offline: 'Nous ne pouvons pas joindre le sondage. Vérifie ta connexion et essaie encore.',
    failed: 'Un problème est survenu. Essaie encore.',
  },
};

/** The first of the browser's preferred languages that the survey speaks (English if none). */
function browserLanguage() {
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
  const spoken = preferred.map((tag) => tag.toLowerCase().slice(0, 2)).find((l) => l in WORDS);
  return spoken || 'en';
}

const main = document.getElementById('main');
const state = {
  lang: browserLanguage(),
  code: '',
  survey: null,
  answers: {},
  identity: new Set(),
  error: '',
  done: false,
  busy: false,
};

function t(key) {
  return WORDS[state.lang][key];
}

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, code: 'offline' };
  }
  const data = await response.json().catch(() => ({}));
  if (response.ok) return { ok: true, data };
  return { ok: false, code: data?.error?.code || 'failed' };
}

async function checkCode(code) {
  state.code = code;
  state.error = '';
  state.busy = true;
  render();
  const result = await post('/api/v1/survey-codes/check', { code });
  state.busy = false;
  if (result.ok) state.survey = result.data;
  else state.error = result.code; // a key: said in the language shown, also after a switch
  render(true);
}

async function submit(event) {
  event.preventDefault();
  state.busy = true;
  render();
  const answers = {};
  for (const item of state.survey.items) answers[item.key] = state.answers[item.key] ?? null;
  const result = await post('/api/v1/survey-responses', {
    code: state.code,
    language: state.lang,
    answers,
    identity: [...state.identity],
  });
  state.busy = false;
  if (result.ok) {
    state.done = true;
    state.code = '';
    state.error = '';
  } else {
    state.error = result.code; // a key: said in the language shown, also after a switch
  }
  render(true);
}

function errorBox(id = null) {
  if (!state.error) return null;
  return h('div', { class: 'error-box', role: 'alert', id }, t(state.error) || t('failed'));
}

function codeForm() {
  const input = h('input', {
    id: 'survey-code',
    name: 'code',
    class: 'code-input',
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    maxlength: '20',
    required: true,
    value: state.code,
    oninput: (event) => {
      state.code = event.target.value; // kept when the page is drawn again (a language switch)
    },
    // A code the server refused: the field says so, its message is part of its description.
    'aria-invalid': state.error ? 'true' : null,
    'aria-describedby': state.error ? 'survey-code-hint survey-code-error' : 'survey-code-hint',
  });
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        if (input.value.trim()) checkCode(input.value.trim());
        else sayNoCode();
      },
    },
    h('p', {}, t('codeIntro')),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'survey-code' }, t('code')),
      h('span', { class: 'hint', id: 'survey-code-hint' }, t('codeHint')),
      input,
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', disabled: state.busy }, t('start'))),
  );
  return [errorBox('survey-code-error'), state.busy ? h('p', { role: 'status' }, t('checking')) : null, form];
}

/** Start with nothing typed: said in words at the field (WCAG 3.3.1), which keeps focus. */
function sayNoCode() {
  state.error = 'noCode';
  render();
  document.getElementById('survey-code').focus();
}

function question(item, number) {
  const legendId = uid('q');
  const options = state.survey.scale.map((step) =>
    h(
      'label',
      {},
      h('input', {
        type: 'radio',
        name: item.key,
        value: String(step.value),
        checked: state.answers[item.key] === step.value,
        onchange: () => {
          state.answers[item.key] = step.value;
        },
      }),
      h('span', {}, step.text[state.lang]),
    ),
  );
  return h(
    'fieldset',
    { class: 'question', role: 'radiogroup', 'aria-labelledby': legendId },
    // The number is for the eye; the group's accessible name is the question's text alone.
    h('legend', { id: legendId }, h('span', { 'aria-hidden': 'true' }, `${number}. `), item.text[state.lang]),
    h('div', { class: 'scale' }, options),
  );
}

function aboutYou() {
  const boxes = state.survey.identity_options.map((option) => {
    const input = h('input', {
      type: 'checkbox',
      name: 'identity',
      value: option.key,
      checked: state.identity.has(option.key),
      onchange: (event) => toggleIdentity(option.key, event.target.checked),
    });
    return h('label', {}, input, h('span', {}, option.text[state.lang]));
  });
  return h(
    'fieldset',
    { class: 'about', 'aria-describedby': 'about-hint' },
    h('legend', {}, t('aboutTitle')),
    h('p', { class: 'hint', id: 'about-hint' }, t('aboutHint')),
    boxes,
  );
}

function toggleIdentity(key, checked) {
  if (!checked) {
    state.identity.delete(key);
    return;
  }
  // "Prefer not to say" stands alone.
  if (key === 'prefer_not_to_say') state.identity.clear();
  else state.identity.delete('prefer_not_to_say');
  state.identity.add(key);
  for (const box of main.querySelectorAll('input[name="identity"]')) {
    box.checked = state.identity.has(box.value);
  }
}

function surveyForm() {
  const survey = state.survey;
  return [
    h('p', { class: 'lead' }, survey.school_name),
    h('p', {}, t('intro')),
    h('p', { class: 'notice' }, t('private')),
    errorBox(),
    h(
      'form',
      { class: 'survey', onsubmit: submit, novalidate: true },
      survey.items.map((item, index) => question(item, index + 1)),
      aboutYou(),
      h(
        'div',
        { class: 'actions primary' },
        h('button', { type: 'submit', disabled: state.busy }, state.busy ? t('sending') : t('submit')),
      ),
    ),
  ];
}

function thanks() {
  return [h('p', { class: 'ok-box thanks', role: 'status' }, t('thanks')), h('p', {}, t('thanksMore'))];
}

function render(moveFocus = false) {
  document.documentElement.lang = state.lang;
  document.title = t('title');
  document.getElementById('brand').textContent = t('title');
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === state.lang));
  }
  let body;
  if (state.done) body = thanks();
  else if (state.survey) body = surveyForm();
  else body = codeForm();
  main.replaceChildren(h('h1', {}, t('title')), ...body.flat().filter(Boolean));
  if (moveFocus) {
    const target = main.querySelector('[role="alert"]') || main.querySelector('h1');
    target.tabIndex = -1;
    target.focus();
  }
}


/** The code a slip's link carries in its fragment; a badly encoded one is taken as typed
 * (the server then says it is not known), never an error that stops the page. */
function codeInLink(fragment) {
  try {
    return decodeURIComponent(fragment).trim();
  } catch {
    return fragment.trim();
  }
}

/** Open the code in the address's fragment, if any, for a new person: nothing of an
 * earlier answer sheet is kept (students take turns on one Chromebook, and a second slip's
 * link opened in this tab changes only the fragment, so the page is not loaded again). */
function openLink() {
  const fromLink = codeInLink(location.hash.replace(/^#/, ''));
  if (!fromLink) return false;
  // Keep the code out of the history and off the screen's address bar.
  history.replaceState(null, '', location.pathname);
  Object.assign(state, { survey: null, answers: {}, identity: new Set(), done: false });
  checkCode(fromLink);
  return true;
}

function start() {
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => {
      state.lang = button.dataset.lang;
      render();
    });
  }
  window.addEventListener('hashchange', openLink);
  if (!openLink()) render();
}

start();
