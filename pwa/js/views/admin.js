// Admin: schools, users, and which officers and leaders serve which schools.
// Made for a phone: each message is said at the form it concerns, the user list is searched and
// shown a page at a time, and the school picker is a filter over checkboxes (selected ones first).
import { getAll, patch, post } from '../api.js';
import { setRef } from '../db.js';
import { LEVELS, ROLES, describeError, field, h, placeFieldErrors, scrollBox, select, setFieldError, uid } from '../ui.js';

const USERS_PER_PAGE = 20;
const SCHOOLS_SHOWN = 8;
const FIELD_LABELS = {
  name: 'School name', code: 'Code', level: 'Level', email: 'User email', display_name: 'Display name',
  role: 'Role', password: 'New password', school_ids: 'Schools', active: 'Active',
};

export async function render(container) {
  const offline = h('div', { role: 'status' });
  const schoolsSection = h('section', { 'aria-labelledby': 'schools-heading' });
  const usersSection = h('section', { 'aria-labelledby': 'users-heading' });
  container.append(h('h1', {}, 'Admin'), offline, schoolsSection, usersSection);
  if (!navigator.onLine) {
    offline.textContent = 'You are offline. Admin needs a connection.';
    return;
  }
  let schools = [];
  let users = [];
  let shown = USERS_PER_PAGE;
  const schoolTable = h('div');
  const schoolChange = h('div');
  const userList = h('div');
  const search = h('input', { type: 'search', name: 'user-search', autocomplete: 'off' });
  search.addEventListener('input', () => {
    shown = USERS_PER_PAGE;
    drawUsers();
  });
  schoolsSection.append(h('h2', { id: 'schools-heading' }, 'Schools'), addSchoolForm(), schoolTable, schoolChange);
  usersSection.append(h('h2', { id: 'users-heading' }, 'Users and assignments'), addUserForm(),
    h('h3', {}, 'Find a user'), field('Search users', search, { hint: 'Name, email or role.' }), userList);
  await load();

  async function load() {
    [schools, users] = await Promise.all([getAll('/schools'), getAll('/users')]);
    schools.sort((a, b) => a.name.localeCompare(b.name));
    users.sort((a, b) => b.id - a.id); // the newest first
    await setRef('schools', schools);
    drawSchools();
    drawUsers();
  }

  /**
   * Run a change and say how it went in `said` (inside the form it concerns); a field the API
   * names gets its message at that field. Resolves true when the change was made.
   */
  async function attempt(action, done, said, controls = {}, reload = true) {
    said.textContent = '';
    for (const control of Object.values(controls)) setFieldError(control, null);
    let result;
    try {
      result = await action();
    } catch (error) {
      const unplaced = placeFieldErrors(error, controls);
      said.textContent = describeError({ message: error.message, details: unplaced }, FIELD_LABELS);
      said.className = 'form-status error';
      return null;
    }
    if (reload) await load();
    said.textContent = done;
    said.className = 'form-status ok';
    return result || true;
  }

  function addSchoolForm() {
    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const code = h('input', { name: 'code', required: true, autocomplete: 'off' });
    const level = select('level', Object.entries(LEVELS), 'junior_high');
    const said = h('p', { role: 'status', class: 'form-status' });
    const form = h('form', { novalidate: true, class: 'panel' },
      h('h3', {}, 'Add a school'),
      h('div', { class: 'row' }, field('School name', name), field('Code', code, { hint: 'Letters, digits, . _ -' })),
      field('Level', level),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add school')),
      said);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), code: code.value.trim(), level: level.value };
      const ok = await attempt(() => post('/schools', body).catch((error) => {
        if (error.code === 'code_taken') error.details = { code: [error.message], ...error.details };
        throw error;
      }), `School added: ${body.name}.`, said, { name, code, level });
      if (ok) {
        name.value = '';
        code.value = '';
      }
    });
    return form;
  }

  function drawSchools() {
    schoolTable.replaceChildren(scrollBox('Schools: table', h('table', {},
      h('caption', {}, `${schools.length} schools`),
      h('thead', {}, h('tr', {}, ['Name', 'Code', 'Level', 'Active', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, schools.map(schoolRow)))));
  }

  function schoolRow(school) {
    const said = h('span', { role: 'status', class: 'form-status' });
    const button = h('button', {
      type: 'button', class: 'secondary', 'aria-label': `${school.active ? 'Deactivate' : 'Activate'} ${school.name}`,
    }, school.active ? 'Deactivate' : 'Activate');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await patch(`/schools/${school.id}`, { active: !school.active });
        school.active = !school.active;
        button.textContent = school.active ? 'Deactivate' : 'Activate';
        button.setAttribute('aria-label', `${button.textContent} ${school.name}`);
        row.querySelector('.active-cell').textContent = school.active ? 'Yes' : 'No';
        said.textContent = school.active ? 'Activated.' : 'Deactivated.';
      } catch (error) {
        said.textContent = describeError(error, FIELD_LABELS);
      }
      button.disabled = false;
    });
    const change = h('button', { type: 'button', class: 'secondary', 'aria-label': `Change ${school.name}`, onclick: () => changeSchoolForm(school) }, 'Change');
    const row = h('tr', {},
      h('th', { scope: 'row' }, school.name), h('td', {}, school.code), h('td', {}, LEVELS[school.level] || school.level),
      h('td', { class: 'active-cell' }, school.active ? 'Yes' : 'No'),
      h('td', {}, h('div', { class: 'actions' }, change, button), said));
    return row;
  }

  /** Correct a school's name, code or level (PATCH /schools/<id>), in a form below the table. */
  function changeSchoolForm(school) {
    const name = h('input', { name: 'name', required: true, autocomplete: 'off', value: school.name });
    const code = h('input', { name: 'code', required: true, autocomplete: 'off', value: school.code });
    const level = select('level', Object.entries(LEVELS), school.level);
    const said = h('p', { role: 'status', class: 'form-status' });
    const headingId = uid('change-school');
    const form = h('form', { novalidate: true, class: 'panel', 'aria-labelledby': headingId },
      h('h3', { id: headingId }, `Change ${school.name}`),
      h('div', { class: 'row' }, field('School name', name), field('Code', code, { hint: 'Letters, digits, . _ -' })),
      field('Level', level),
      h('div', { class: 'actions' },
        h('button', { type: 'submit' }, 'Save changes'),
        h('button', { type: 'button', class: 'secondary', onclick: () => form.remove() }, 'Close')),
      said);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), code: code.value.trim(), level: level.value };
      await attempt(() => patch(`/schools/${school.id}`, body).catch((error) => {
        if (error.code === 'code_taken') error.details = { code: [error.message], ...error.details };
        throw error;
      }), `School changed: ${body.name}.`, said, { name, code, level });
    });
    schoolChange.replaceChildren(form);
    name.focus();
  }

  /** A school picker for hundreds of schools: the selected ones first, then a filter's matches. */
  function schoolPicker(selected) {
    const chosen = new Set(selected);
    const filter = h('input', { type: 'search', autocomplete: 'off' });
    const list = h('div', { class: 'choices' });
    const count = h('p', { class: 'hint', role: 'status' });
    const draw = () => {
      const words = filter.value.trim().toLowerCase();
      const matches = (s) => !words || `${s.name} ${s.code}`.toLowerCase().includes(words);
      const picked = schools.filter((s) => chosen.has(s.id));
      const others = schools.filter((s) => !chosen.has(s.id) && matches(s));
      list.replaceChildren(...[...picked, ...others.slice(0, SCHOOLS_SHOWN)].map((school) => {
        const box = h('input', { type: 'checkbox', value: school.id, checked: chosen.has(school.id) });
        box.addEventListener('change', () => {
          if (box.checked) chosen.add(school.id);
          else chosen.delete(school.id);
          tell();
        });
        return h('label', { class: 'check' }, box, school.name);
      }));
      hidden = others.length - Math.min(others.length, SCHOOLS_SHOWN);
      tell();
    };
    let hidden = 0;
    const tell = () => {
      count.textContent = `${chosen.size} selected.` +
        (hidden ? ` ${hidden} more ${filter.value.trim() ? 'match' : 'schools'}: type to narrow the list.` : '');
    };
    filter.addEventListener('input', draw);
    draw();
    const legendId = uid('schools');
    const picker = h('fieldset', { class: 'picker', 'aria-labelledby': legendId },
      h('legend', { id: legendId }, 'Schools'),
      field('Find a school', filter, { hint: 'Selected schools are listed first.' }),
      list, count);
    picker.picked = () => [...chosen];
    return picker;
  }

  function addUserForm() {
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'off', required: true });
    const name = h('input', { name: 'display_name', autocomplete: 'off', required: true });
    const role = select('role', Object.entries(ROLES), 'officer');
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password' });
    const said = h('p', { role: 'status', class: 'form-status' });
    const holder = h('div');
    const form = h('form', { novalidate: true, class: 'panel' },
      h('h3', {}, 'Add a user'),
      h('div', { class: 'row' }, field('User email', email), field('Display name', name)),
      h('div', { class: 'row' }, field('Role', role), field('New password', password, {
        hint: 'At least 12 characters. Leave it empty for someone who signs in only with their organisation’s account.',
      })),
      holder,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add user')),
      said);
    let picker = null;
    const open = h('button', { type: 'button', class: 'secondary' }, 'Choose schools');
    open.addEventListener('click', () => {
      picker = picker || schoolPicker([]);
      holder.replaceChildren(picker);
      open.remove();
    });
    holder.append(open);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = {
        email: email.value.trim(), display_name: name.value.trim(), role: role.value,
        school_ids: picker ? picker.picked() : [], ...(password.value ? { password: password.value } : {}),
      };
      const ok = await attempt(() => post('/users', body).catch((error) => {
        if (error.code === 'email_taken') error.details = { email: [error.message], ...error.details };
        throw error;
      }), `User added: ${body.display_name}.`, said, { email, display_name: name, role, password });
      if (ok) form.reset();
    });
    return form;
  }

  function drawUsers() {
    const words = search.value.trim().toLowerCase();
    const found = users.filter((user) => !words ||
      `${user.display_name} ${user.email} ${ROLES[user.role] || user.role}`.toLowerCase().includes(words));
    const names = new Map(schools.map((s) => [s.id, s.name]));
    const more = h('button', { type: 'button', class: 'secondary' }, 'Show more users');
    more.addEventListener('click', () => {
      const first = found[shown];
      shown += USERS_PER_PAGE;
      drawUsers();
      userList.querySelector(`[data-user="${first.id}"] button`)?.focus();
    });
    userList.replaceChildren(
      h('p', { role: 'status', class: 'hint' },
        `Showing ${Math.min(shown, found.length)} of ${found.length} ${found.length === 1 ? 'user' : 'users'}` +
          `${words ? ` matching “${search.value.trim()}”` : ''}.`),
      h('ul', { class: 'cards' }, found.slice(0, shown).map((user) => userCard(user, names))),
      ...(found.length > shown ? [more] : []));
  }

  function userCard(user, names) {
    const said = h('p', { role: 'status', class: 'form-status' });
    const schoolsLine = h('p', {});
    const meta = h('p', { class: 'meta' });
    const describe = () => {
      meta.textContent = `${user.email} · ${ROLES[user.role] || user.role}${user.active ? '' : ' · inactive'}`;
      schoolsLine.textContent = `Schools: ${(user.school_ids || []).map((id) => names.get(id) || `School ${id}`).join(', ') || 'none'}`;
    };
    describe();
    const heading = h('h3', {}, user.display_name);
    const renamed = () => {
      heading.textContent = user.display_name;
      describe();
    };
    const [edit, editHolder] = disclosure('Edit', `Edit ${user.display_name}`, said,
      () => editForm(user, said, describe), { focus: false });
    const [details, detailsHolder] = disclosure('Details', `Change details of ${user.display_name}`, said,
      () => detailsForm(user, said, renamed));
    // A password reset (api.md: the password is set on create, or to reset), beside Edit.
    const [reset, resetHolder] = disclosure('Reset password', `Reset password of ${user.display_name}`, said,
      () => passwordForm(user, said));
    return h('li', { class: 'card', 'data-user': user.id },
      heading, meta, schoolsLine,
      h('div', { class: 'actions' }, edit, details, reset), editHolder, detailsHolder, resetHolder, said);
  }

  /** A button that shows and hides the form under it (made on first use), focusing its first field. */
  function disclosure(label, name, said, makeForm, { focus = true } = {}) {
    const holder = h('div', { hidden: true });
    const button = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': name }, label);
    button.addEventListener('click', () => {
      if (!holder.firstChild) holder.append(makeForm());
      holder.hidden = !holder.hidden;
      button.setAttribute('aria-expanded', String(!holder.hidden));
      said.textContent = '';
      if (!holder.hidden && focus) holder.querySelector('input')?.focus();
    });
    return [button, holder];
  }

  /** A user's name, email and role (the API's PATCH); the card's lines update in place. */
  function detailsForm(user, said, renamed) {
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'off', required: true, value: user.email });
    const name = h('input', { name: 'display_name', autocomplete: 'off', required: true, value: user.display_name });
    const role = select('role', Object.entries(ROLES), user.role);
    const form = h('form', { novalidate: true },
      h('div', { class: 'row' }, field('User email', email), field('Display name', name)),
      field('Role', role, { hint: 'An officer or a school leader keeps their schools; other roles have none.' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save details')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const wanted = { email: email.value.trim(), display_name: name.value.trim(), role: role.value };
      const body = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => value !== user[key]));
      if (!Object.keys(body).length) {
        said.textContent = 'Nothing to change.';
        said.className = 'form-status ok';
        return;
      }
      const saved = await attempt(() => patch(`/users/${user.id}`, body).catch((error) => {
        if (error.code === 'email_taken') error.details = { email: [error.message], ...error.details };
        throw error;
      }), `User updated: ${wanted.display_name}.`, said, { email, display_name: name, role }, false);
      if (saved) {
        Object.assign(user, typeof saved === 'object' ? saved : body);
        renamed();
      }
    });
    return form;
  }

  /** Set a new password for a user; said in the card's own message line. */
  function passwordForm(user, said) {
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
    const form = h('form', { novalidate: true },
      field('New password', password, { hint: 'At least 12 characters. Give it to the user yourself: it is not sent to them.' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save password')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!password.value) {
        setFieldError(password, 'Enter the new password.');
        password.focus();
        return;
      }
      const done = await attempt(() => patch(`/users/${user.id}`, { password: password.value }),
        `New password set for ${user.display_name}.`, said, { password }, false);
      if (done) password.value = '';
      else password.focus();
    });
    return form;
  }

  /** The form stays open where it is after Save; the card's lines and its message update in place. */
  function editForm(user, said, describe) {
    const picker = schoolPicker(user.school_ids || []);
    const active = h('input', { type: 'checkbox', name: 'active', checked: user.active });
    const edit = h('form', { novalidate: true },
      picker,
      h('label', { class: 'check' }, active, 'Active'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save assignments')));
    edit.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { school_ids: picker.picked(), active: active.checked };
      const saved = await attempt(() => patch(`/users/${user.id}`, body),
        `User updated: ${user.display_name}.`, said, {}, false);
      if (saved) {
        Object.assign(user, typeof saved === 'object' ? saved : body);
        describe();
      }
    });
    return edit;
  }
}
