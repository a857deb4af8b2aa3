// Sign in: Email and Password. Also the "sign in again" screen when a session has ended.
import { login } from '../api.js';
import { getMeta } from '../db.js';
import { outboxSummary } from '../sync.js';
import { field, h, plural } from '../ui.js';

export async function render(container, { param, onSignedIn, navigate }) {
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
  container.append(
    h('h1', {}, again ? 'Sign in again' : 'Sign in'),
    again
      ? h('div', { class: 'warning' }, 'Your session has ended. Sign in again to sync.',
          waiting ? ` ${plural(waiting, 'activity', 'activities')} stay saved on this phone until then.` : '')
      : h('p', { class: 'lead' }, 'Log activities on your phone, even with no signal.'),
    form,
  );

  async function onSubmit(event) {
    event.preventDefault();
    problem.hidden = true;
    if (!email.value.trim() || !password.value) {
      showProblem('Enter your email and password.');
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
    navigate({ officer: 'log', school_leader: 'review', program_manager: 'dashboard', admin: 'admin' }[result.user.role]);
  }

  /** Another officer's unsaved form is on this phone: deleted only when this officer says so. */
  function askToDropDraft(result, message) {
    const question = h('div', { class: 'warning', role: 'alertdialog', 'aria-label': 'Unsaved form on this phone' },
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: () => signedIn({ ...result, dropDrafts: true }).catch((e) => showProblem(e.message)) }, 'Sign in and delete it'),
        h('button', { type: 'button', class: 'secondary', onclick: () => question.remove() }, 'Cancel')));
    form.after(question);
    question.querySelector('button').focus();
  }

  function showProblem(text) {
    problem.textContent = text;
    problem.hidden = false;
  }
}
