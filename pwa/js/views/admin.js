// Admin: schools, users, and which officers and leaders serve which schools.
import { getAll, patch, post } from '../api.js';
import { setRef } from '../db.js';
import { LEVELS, ROLES, describeError, field, h, scrollBox, select } from '../ui.js';

export async function render(container) {
  const feedback = h('div', { role: 'status' });
  const schoolsSection = h('section', { 'aria-labelledby': 'schools-heading' });
  const usersSection = h('section', { 'aria-labelledby': 'users-heading' });
  container.append(h('h1', {}, 'Admin'), feedback, schoolsSection, usersSection);
  if (!navigator.onLine) {
    feedback.textContent = 'You are offline. Admin needs a connection.';
    return;
  }
  let schools = [];
  let users = [];
  await load();

  async function load() {
    [schools, users] = await Promise.all([getAll('/schools'), getAll('/users')]);
    await setRef('schools', schools);
    drawSchools();
    drawUsers();
  }

  function say(text) {
    feedback.textContent = text;
  }

  async function attempt(action, done) {
    say('');
    try {
      await action();
      await load();
      say(done);
    } catch (error) {
      say(describeError(error));
    }
  }

  function drawSchools() {
    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const code = h('input', { name: 'code', required: true, autocomplete: 'off' });
    const level = select('level', Object.entries(LEVELS), 'junior_high');
    const add = h('form', { novalidate: true },
      h('h3', {}, 'Add a school'),
      h('div', { class: 'row' }, field('School name', name), field('Code', code, { hint: 'Letters, digits, . _ -' })),
      field('Level', level),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add school')));
    add.addEventListener('submit', (event) => {
      event.preventDefault();
      attempt(() => post('/schools', { name: name.value.trim(), code: code.value.trim(), level: level.value }), 'School added.');
    });
    schoolsSection.replaceChildren(
      h('h2', { id: 'schools-heading' }, 'Schools'),
      scrollBox('Schools: table', h('table', {},
        h('caption', {}, `${schools.length} schools`),
        h('thead', {}, h('tr', {}, ['Name', 'Code', 'Level', 'Active', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, schools.map((school) => h('tr', {},
          h('th', { scope: 'row' }, school.name), h('td', {}, school.code), h('td', {}, LEVELS[school.level] || school.level),
          h('td', {}, school.active ? 'Yes' : 'No'),
          h('td', {}, h('button', {
            type: 'button', class: 'secondary', 'aria-label': `${school.active ? 'Deactivate' : 'Activate'} ${school.name}`,
            onclick: () => attempt(() => patch(`/schools/${school.id}`, { active: !school.active }), 'School updated.'),
          }, school.active ? 'Deactivate' : 'Activate'))))))),
      add);
  }

  function schoolBoxes(selected, prefix) {
    return h('fieldset', {}, h('legend', {}, 'Schools'),
      h('div', { class: 'choices' }, schools.map((school) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: `${prefix}-school`, value: school.id, checked: selected.includes(school.id) }),
        school.name))));
  }

  const picked = (form, prefix) => [...form.querySelectorAll(`input[name="${prefix}-school"]:checked`)].map((b) => Number(b.value));

  function drawUsers() {
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'off', required: true });
    const name = h('input', { name: 'display_name', autocomplete: 'off', required: true });
    const role = select('role', Object.entries(ROLES), 'officer');
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password' });
    const add = h('form', { novalidate: true },
      h('h3', {}, 'Add a user'),
      h('div', { class: 'row' }, field('User email', email), field('Display name', name)),
      h('div', { class: 'row' }, field('Role', role), field('New password', password, {
        hint: 'At least 12 characters. Leave it empty for someone who signs in only with their organisation’s account.',
      })),
      schoolBoxes([], 'new'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add user')));
    add.addEventListener('submit', (event) => {
      event.preventDefault();
      attempt(() => post('/users', {
        email: email.value.trim(), display_name: name.value.trim(), role: role.value,
        school_ids: picked(add, 'new'), ...(password.value ? { password: password.value } : {}),
      }), 'User added.');
    });
    const names = new Map(schools.map((s) => [s.id, s.name]));
    usersSection.replaceChildren(
      h('h2', { id: 'users-heading' }, 'Users and assignments'),
      h('ul', { class: 'cards' }, users.map((user) => {
        const prefix = `u${user.id}`;
        const edit = h('form', { novalidate: true, hidden: true },
          schoolBoxes(user.school_ids || [], prefix),
          h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'active', checked: user.active }), 'Active'),
          h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save assignments')));
        edit.addEventListener('submit', (event) => {
          event.preventDefault();
          attempt(() => patch(`/users/${user.id}`, {
            school_ids: picked(edit, prefix), active: edit.querySelector('input[name="active"]').checked,
          }), 'User updated.');
        });
        const toggle = h('button', {
          type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': `Edit ${user.display_name}`,
          onclick: () => {
            edit.hidden = !edit.hidden;
            toggle.setAttribute('aria-expanded', String(!edit.hidden));
          },
        }, 'Edit');
        return h('li', { class: 'card' },
          h('h3', {}, `${user.display_name}`),
          h('p', { class: 'meta' }, `${user.email} · ${ROLES[user.role] || user.role}${user.active ? '' : ' · inactive'}`),
          h('p', {}, 'Schools: ', (user.school_ids || []).map((id) => names.get(id) || id).join(', ') || 'none'),
          h('div', { class: 'actions' }, toggle), edit);
      })),
      add);
  }
}
