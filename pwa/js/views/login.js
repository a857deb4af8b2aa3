// Sign in: Email and Password, or a button for each identity provider ("Sign in with
// <label>"). Also the "sign in again" screen when a session has ended, and the return from a
// provider (#/sso?grant=...), whose one-time grant is exchanged for a session.
import { exchangeGrant, login, providers } from '../api.js';
import { getMeta, setMeta } from '../db.js';
import { outboxSummary } from '../sync.js';
import { field, h, plural, setFieldError } from '../ui.js';

const HOME = { officer: 'log', school_leader: 'review', program_manager: 'dashboard', admin: 'admin' };
// What went wrong at a provider, in words (the callback's error codes).
const PROVIDER_ERRORS = {
  sso_no_account: 'No account uses this email; ask your administrator.',
  sso_failed:
    'Signing in with your organisation’s account did not work. Try again, or sign in with your email and password.',
};

export async function render(container, context) {
  if (context.query?.has('grant')) return finishProviderSignIn(container, context);
  return renderForm(container, context);
}

/** Back from a provider: exchange the grant (once) and go on as after a password sign-in. */
async function finishProviderSignIn(container, { query, onSignedIn, navigate }) {
  const grant = query.get('grant');
  // The grant works once: keep it out of the history and of a reload.
  history.replaceState(null, '', '#/sso');
  const status = h('p', { role: 'status' }, 'Signing you in…');
  container.append(h('h1', {}, 'Signing in'), status);
  let result;
  const enter = async (signIn) => {
    await onSignedIn(signIn);
    navigate(HOME[signIn.user.role]);
  };
  try {
    result = await exchangeGrant(grant);
    await enter(result);
  } catch (error) {
    if (error.code !== 'unsaved_draft') return backToSignIn(error);
    // As after a password: the previous officer's form goes only when this officer says so.
    status.textContent = '';
    const question = dropDraftQuestion(error.message, {
      confirm: () => enter({ ...result, dropDrafts: true }).catch(backToSignIn),
      cancel: () => location.replace('#/login'),
    });
    container.append(question);
    setTimeout(() => question.querySelector('button').focus()); // once the view is shown
  }
}

function backToSignIn(error) {
  const words =
    error.status === 401 ? 'That sign-in has expired or was already used. Sign in again.' : error.message;
  sessionStorage.setItem('sro-sign-in-problem', words || '');
  location.replace(`#/login?error=${words ? 'sso_exchange' : 'sso_failed'}`);
}

/** Another officer's unsaved form is on this phone: deleted only when this officer says so. */
function dropDraftQuestion(message, { confirm, cancel }) {
  const question = h('div', { class: 'warning', role: 'alertdialog', 'aria-label': 'Unsaved form on this phone' },
    h('p', {}, message),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'danger', onclick: confirm }, 'Sign in and delete it'),
      h('button', { type: 'button', class: 'secondary', onclick: () => { question.remove(); cancel(); } }, 'Cancel')));
  return question;
}

/** The providers to offer, from the server, or from the last answer when offline. */
async function providerList() {
  try {
    const list = await providers();
    await setMeta('providers', list);
    return list;
  } catch {
    return (await getMeta('providers')) || [];
  }
}

function providerProblem(query) {
  const code = query?.get('error');
  if (!code) return null;
  if (code === 'sso_exchange') return sessionStorage.getItem('sro-sign-in-problem') || PROVIDER_ERRORS.sso_failed;
  return PROVIDER_ERRORS[code] || PROVIDER_ERRORS.sso_failed;
}

async function renderForm(container, { param, query, onSignedIn, navigate }) {
  const previous = await getMeta('session');
  const again = param === 'again';
  const summary = await outboxSummary();
  const email = h('input', {
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
    value: previous?.user?.email || '',
  });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const problem = h('div', { class: 'error-box', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { novalidate: true, onsubmit: onSubmit },
    field('Email', email),
    field('Password', password),
    problem,
    h('div', { class: 'actions primary' }, submit),
  );
  const waiting = summary.waiting + summary.attention;
  const list = await providerList();
  const buttons = list.map((provider) =>
    h(
      'button',
      { type: 'button', class: 'secondary provider', onclick: () => location.assign(provider.start_url) },
      `Sign in with ${provider.label}`,
    ),
  );
  const failure = providerProblem(query);
  const parts = [
    h('h1', {}, again ? 'Sign in again' : 'Sign in'),
    again
      ? h('div', { class: 'warning' },
          previous?.user?.role === 'officer' ? 'Your session has ended. Sign in again to sync.' : 'Your session has ended. Sign in again.',
          waiting ? ` ${plural(waiting, 'activity', 'activities')} stay saved on this phone until then.` : '')
      : h('p', { class: 'lead' }, 'Log activities on your phone, even with no signal.'),
    failure ? h('div', { class: 'error-box', role: 'alert' }, failure) : null,
    buttons.length ? h('div', { class: 'actions providers' }, buttons) : null,
    buttons.length ? h('p', { class: 'or' }, 'Or sign in with your email and password:') : null,
    form,
  ];
  container.append(...parts.filter(Boolean));

  async function onSubmit(event) {
    event.preventDefault();
    problem.hidden = true;
    // An empty field says so at the field (aria-invalid, and its message as its description).
    setFieldError(email, email.value.trim() ? null : 'Enter your email.');
    setFieldError(password, password.value ? null : 'Enter your password.');
    if (!email.value.trim() || !password.value) {
      showProblem('Enter your email and password.');
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    try {
      const result = await login(email.value.trim(), password.value);
      await signedIn(result);
    } catch (error) {
      showProblem(
        navigator.onLine ? error.message || 'Could not sign in.' : 'You are offline. Signing in needs a connection.',
      );
    } finally {
      submit.disabled = false;
    }
  }

  async function signedIn(result) {
    try {
      await onSignedIn(result);
    } catch (error) {
      if (error.code !== 'unsaved_draft') throw error;
      askToDropDraft(result, error.message);
      return;
    }
    navigate(HOME[result.user.role]);
  }

  function askToDropDraft(result, message) {
    const question = dropDraftQuestion(message, {
      confirm: () => signedIn({ ...result, dropDrafts: true }).catch((e) => showProblem(e.message)),
      cancel: () => {},
    });
    form.after(question);
    question.querySelector('button').focus();
  }

  function showProblem(text) {
    problem.textContent = text;
    problem.hidden = false;
  }
}
