/**
 * The privacy screen for free text, from the table the server applies too
 * (privacy-rules.json; api/services/privacy.py reads the same file), so that the phone
 * and the server never disagree.
 */
import RULES from './privacy-rules.json' with { type: 'json' };

// What the table's placeholders stand for: Python's Unicode \w and \d.
const PLACEHOLDERS = { '{W}': '\\p{L}\\p{N}_', '{D}': '\\p{Nd}' };

function compile(rule, global = false) {
  let pattern = rule.pattern;
  for (const [placeholder, meaning] of Object.entries(PLACEHOLDERS)) {
    pattern = pattern.replaceAll(placeholder, meaning);
  }
  return new RegExp(pattern, `u${global ? 'g' : ''}${(rule.flags || '').includes('i') ? 'i' : ''}`);
}

const NORMALISE = RULES.normalise.map((rule) => [compile(rule, true), rule.replace, Boolean(rule.repeat)]);
const DIGIT_RUN = compile({ pattern: `\\+?{D}(?:[${RULES.digit_joiners}]*{D})*`.replaceAll('{D}', '[{D}]') }, true);
const SCREENS = RULES.screens.map((rule) => [compile(rule), rule.what]);
const FORMAT_CHARACTERS = /\p{Cf}/gu;
const DIGIT = /\p{Nd}/u;

/** The text as the screens read it (see privacy-rules.json). */
export function normalise(text) {
  let flat = text.normalize('NFKC').replace(FORMAT_CHARACTERS, '');
  for (const [pattern, replacement, repeat] of NORMALISE) {
    let found;
    do {
      found = false;
      flat = flat.replace(pattern, () => { found = true; return replacement; });
    } while (repeat && found);
  }
  return flat.replace(DIGIT_RUN, (run) => (run.startsWith('+') ? '+' : '') + [...run].filter((c) => DIGIT.test(c)).join(''));
}

/** Messages naming each kind of identifier found in the text; empty when clean. */
export function identifierProblems(text, noun = 'summaries') {
  if (!text) return [];
  const flat = normalise(text);
  const found = [...new Set(SCREENS.filter(([pattern]) => pattern.test(flat)).map(([, what]) => what))];
  return found.map((what) => `Remove ${what}: ${noun} must not contain anything that identifies a person.`);
}
