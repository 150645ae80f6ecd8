// Checks what vscode-tmgrammar-test does not: that the extension's manifest, language
// configuration, grammar and snippets fit together. vscode-textmate silently ignores an
// include it cannot resolve and only compiles the regexes of the rules it reaches, so a typo
// there would go unnoticed. Run by `npm test` after the scope tests; exits 1 on any problem.
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.join(__dirname, '..');
const problems = [];
const problem = (what) => problems.push(what);
const readJson = (file) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));

// Grammars that the kgp grammar may include from outside: C for the C blocks, diff for
// the fixes' text blocks and the shell for a test's scripts.
const EXTERNAL_SCOPES = new Set(['source.c', 'source.diff', 'source.shell']);

async function main() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer);

  const pkg = readJson('package.json');
  const contributes = pkg.contributes;

  // -- The manifest: one language, its grammar and its snippets, each file present.
  const language = contributes.languages.find((l) => l.id === 'kgp');
  if (!language) problem('package.json: no language with id "kgp"');
  else if (!language.extensions.includes('.kgp')) problem('package.json: kgp does not claim .kgp');
  const files = [
    language && language.configuration,
    ...contributes.grammars.map((g) => g.path),
    ...contributes.snippets.map((s) => s.path),
  ];
  for (const file of files) {
    if (!file || !fs.existsSync(path.join(root, file))) problem(`package.json: missing file ${file}`);
  }
  const grammarEntry = contributes.grammars.find((g) => g.language === 'kgp');
  const grammar = readJson(grammarEntry.path);
  if (grammar.scopeName !== grammarEntry.scopeName) {
    problem(`grammar scopeName ${grammar.scopeName} is not the manifest's ${grammarEntry.scopeName}`);
  }
  if ((grammarEntry.embeddedLanguages || {})['meta.embedded.block.c'] !== 'c') {
    problem('package.json: meta.embedded.block.c is not mapped to the c language');
  }

  // -- The language configuration.
  const config = readJson(language.configuration);
  if (config.comments.lineComment !== '#') problem('language-configuration: lineComment is not #');
  for (const pair of ['{}', '()', '[]']) {
    if (!config.brackets.some(([open, close]) => open + close === pair)) {
      problem(`language-configuration: no bracket pair ${pair}`);
    }
  }
  for (const pair of config.autoClosingPairs) {
    for (const where of pair.notIn || []) {
      if (where !== 'string' && where !== 'comment') problem(`autoClosingPairs: bad notIn ${where}`);
    }
  }
  const configRegexes = [config.wordPattern, ...Object.values(config.indentationRules || {})];
  for (const source of configRegexes) {
    try {
      new RegExp(source);
    } catch (e) {
      problem(`language-configuration: bad regex ${source}: ${e.message}`);
    }
  }

  // -- The grammar: every include resolves, every regex compiles, every rule is used.
  const used = new Set();
  const visit = (rule, where) => {
    if (Array.isArray(rule)) return rule.forEach((r, i) => visit(r, `${where}[${i}]`));
    if (!rule || typeof rule !== 'object') return;
    for (const key of ['match', 'begin', 'end', 'while']) {
      if (typeof rule[key] === 'string') {
        try {
          new oniguruma.OnigScanner([rule[key]]).dispose();
        } catch (e) {
          problem(`${where}.${key}: ${e.message}: ${rule[key]}`);
        }
      }
    }
    if (typeof rule.include === 'string') {
      const include = rule.include;
      if (include.startsWith('#')) {
        if (!(include.slice(1) in grammar.repository)) problem(`${where}: unknown include ${include}`);
        used.add(include.slice(1));
      } else if (include !== '$self' && include !== '$base' && !EXTERNAL_SCOPES.has(include)) {
        problem(`${where}: unexpected external include ${include}`);
      }
    }
    for (const [key, value] of Object.entries(rule)) {
      if (key === 'repository') continue;
      if (typeof value === 'object') visit(value, `${where}.${key}`);
    }
  };
  visit(grammar.patterns, 'patterns');
  for (const [name, rule] of Object.entries(grammar.repository)) visit(rule, `repository.${name}`);
  for (const name of Object.keys(grammar.repository)) {
    if (!used.has(name)) problem(`grammar: repository.${name} is never included`);
  }

  // -- The snippets: well formed, and each expands to text that the grammar closes cleanly
  // (every block it opens ends) without marking anything invalid.
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scope) =>
      scope === grammar.scopeName
        ? vsctm.parseRawGrammar(JSON.stringify(grammar), 'kgp.tmLanguage.json')
        : null,
  });
  const kgp = await registry.loadGrammar(grammar.scopeName);
  for (const entry of contributes.snippets) {
    const snippets = readJson(entry.path);
    for (const [name, snippet] of Object.entries(snippets)) {
      if (!snippet.prefix || !Array.isArray(snippet.body) || !snippet.description) {
        problem(`snippet "${name}": needs prefix, body (lines) and description`);
        continue;
      }
      let text = expandSnippet(snippet.body.join('\n'));
      // Entries of an object are checked inside one.
      if (!/^(patch|shadow|template|state|helper|data|target|object|fix)\b/.test(text)) {
        text = `object vmlinux {\n${text}\n}\n`;
      }
      let stack = vsctm.INITIAL;
      for (const line of text.split('\n')) {
        const result = kgp.tokenizeLine(line, stack);
        stack = result.ruleStack;
        for (const token of result.tokens) {
          if (token.scopes.some((s) => s.startsWith('invalid'))) {
            problem(`snippet "${name}": invalid token in ${JSON.stringify(line)}`);
          }
        }
      }
      // An item's rule ends right after its closing brace, i.e. on the next token.
      const after = kgp.tokenizeLine('# end', stack);
      if (after.ruleStack.depth !== 1 || !after.tokens[0].scopes.includes('comment.line.number-sign.kgp')) {
        problem(`snippet "${name}": leaves a block open:\n${text}`);
      }
    }
  }

  if (problems.length) {
    for (const p of problems) console.error(`✖ ${p}`);
    process.exit(1);
  }
  console.log(`✓ package.json, language configuration, grammar and snippets are consistent`);
}

// Replaces each tabstop or placeholder ($1, ${1}, ${1:text}, ${1|a,b|}) by its default text.
function expandSnippet(body) {
  let previous;
  do {
    previous = body;
    body = body
      .replace(/\$\{\d+:([^${}]*)\}/g, '$1')
      .replace(/\$\{\d+\|([^,|]*)[^|]*\|\}/g, '$1')
      .replace(/\$\{\d+\}|\$\d+/g, '');
  } while (body !== previous);
  return body;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
