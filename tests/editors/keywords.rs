//! Every keyword of `grammar/kgp.pest` is in every editor's grammar.

use super::*;

/// The keywords of the pest grammar: its quoted literals that are lowercase words, such as
/// "patch", "pre_patch" or "cumulative". Punctuation and C lexemes ("0x", "std/", "//") are
/// not words, so they are left out.
fn pest_keywords(grammar: &str) -> BTreeSet<String> {
    let mut keywords = BTreeSet::new();
    let mut chars = grammar.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A comment, to the end of the line.
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            // A string or character literal, with backslash escapes.
            '"' | '\'' => {
                let mut literal = String::new();
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                literal.push('\\');
                                literal.push(escaped);
                            }
                        }
                        d if d == c => break,
                        d => literal.push(d),
                    }
                }
                let is_word = literal.starts_with(|c: char| c.is_ascii_lowercase())
                    && literal.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                if c == '"' && is_word {
                    keywords.insert(literal);
                }
            }
            _ => {}
        }
    }
    keywords
}

/// The words (runs of ASCII letters, digits and `_`) of a text.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// Replaces each regex escape (a backslash and the character after it, as in `\b`, `\s`, `\<`)
/// by a space, so that `\bpatch\b` yields the word `patch`.
fn without_regex_escapes(regex: &str) -> String {
    let mut out = String::new();
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads the JSON string that starts at `text[0]` (a `"`): its decoded value and the rest.
fn json_string(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.strip_prefix('"')?.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 2..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'u' => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                escaped => value.push(escaped),
            },
            c => value.push(c),
        }
    }
    None
}

/// The keywords of the TextMate grammar: the words of the "match" and "begin" regexes of the
/// rules that give a `keyword.*` scope (themselves or through the rules nested in them).
/// Words that a regex only looks ahead for, in an "end" or in a rule with another scope, do
/// not count.
fn textmate_words(json: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    // The objects being read, outermost first: where each starts and its own regexes.
    let mut objects: Vec<(usize, Vec<String>)> = Vec::new();
    let mut at = 0;
    while let Some(c) = json[at..].chars().next() {
        match c {
            '"' => {
                let Some((string, rest)) = json_string(&json[at..]) else {
                    break;
                };
                at = json.len() - rest.len();
                let value = rest.trim_start().strip_prefix(':').map(str::trim_start);
                if let (true, Some(value)) = (string == "match" || string == "begin", value) {
                    if let Some((regex, rest)) = json_string(value) {
                        objects
                            .last_mut()
                            .expect("a key outside an object")
                            .1
                            .push(regex);
                        at = json.len() - rest.len();
                    }
                }
            }
            '{' => {
                objects.push((at, Vec::new()));
                at += 1;
            }
            '}' => {
                let (start, regexes) = objects.pop().expect("unbalanced braces");
                at += 1;
                if json[start..at].contains("\"keyword.") {
                    for regex in regexes {
                        found.extend(words(&without_regex_escapes(&regex)).map(String::from));
                    }
                }
            }
            c => at += c.len_utf8(),
        }
    }
    found
}

/// The patterns that follow `option=` in a Vim syntax command, each delimited by the
/// character after the `=` (as in `start="\<replace\>"` or `start=+"+`).
fn vim_patterns<'a>(command: &'a str, option: &str) -> Vec<&'a str> {
    let mut patterns = Vec::new();
    for (at, _) in command.match_indices(&format!("{option}=")) {
        let rest = &command[at + option.len() + 1..];
        let Some(delimiter) = rest.chars().next() else {
            continue;
        };
        let body = &rest[delimiter.len_utf8()..];
        let mut end = body.len();
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == delimiter {
                end = i;
                break;
            }
        }
        patterns.push(&body[..end]);
    }
    patterns
}

/// The keywords of the Vim syntax file: the words of its `syntax keyword` commands, of its
/// `syntax match` patterns and of the `start` patterns of its regions' `matchgroup`, for the
/// groups it links to Keyword, Statement or Include. Patterns that only end a region do not
/// count.
fn vim_words(script: &str) -> BTreeSet<String> {
    // The commands, with continuation lines joined and comment lines left out.
    let mut commands: Vec<String> = Vec::new();
    for line in script.lines().map(str::trim_start) {
        if let Some(continued) = line.strip_prefix('\\') {
            if let Some(last) = commands.last_mut() {
                last.push_str(continued);
            }
        } else if !line.starts_with('"') {
            commands.push(line.to_string());
        }
    }
    let keyword_groups: BTreeSet<&str> = commands
        .iter()
        .filter_map(|c| match c.split_whitespace().collect::<Vec<_>>()[..] {
            ["hi", "def", "link", group, "Keyword" | "Statement" | "Include"] => Some(group),
            _ => None,
        })
        .collect();

    let mut found = BTreeSet::new();
    for command in &commands {
        let fields: Vec<&str> = command.split_whitespace().collect();
        let (Some(&("syn" | "syntax")), Some(kind), Some(group)) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            continue;
        };
        match *kind {
            "keyword" if keyword_groups.contains(group) => {
                // Options have an `=` or are single words that are not keywords.
                let options = [
                    "contained",
                    "transparent",
                    "skipwhite",
                    "skipnl",
                    "skipempty",
                ];
                let keywords = fields[3..]
                    .iter()
                    .filter(|w| !w.contains('=') && !options.contains(w));
                found.extend(keywords.map(|w| w.to_string()));
            }
            "match" if keyword_groups.contains(group) => {
                let pattern = fields[3..].join(" ");
                found.extend(words(&without_regex_escapes(&pattern)).map(String::from));
            }
            "region" => {
                // Each matchgroup= applies to the start patterns after it.
                for part in command.split("matchgroup=").skip(1) {
                    if keyword_groups.contains(words(part).next().unwrap_or("")) {
                        for pattern in vim_patterns(part, "start") {
                            found.extend(words(&without_regex_escapes(pattern)).map(String::from));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// The strings of the Emacs mode's keyword lists: `(defconst kgp-...-keywords '("..." ...))`.
fn emacs_words(lisp: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in lisp.match_indices("(defconst kgp-") {
        let form = &lisp[at + "(defconst ".len()..];
        let name_end = form.find(char::is_whitespace).unwrap_or(form.len());
        if !form[..name_end].ends_with("-keywords") {
            continue;
        }
        let Some(list) = form.find("'(") else {
            continue;
        };
        let list = &form[list + 2..];
        let list = &list[..list.find(')').unwrap_or(list.len())];
        found.extend(list.split('"').skip(1).step_by(2).map(String::from));
    }
    found
}

/// The lines of a source file that are not comment lines (`//`, `/*` and ` *` in JavaScript,
/// `;` in queries).
fn code_lines(source: &str) -> impl Iterator<Item = &str> {
    source.lines().map(str::trim_start).filter(|l| {
        !(l.starts_with("//") || l.starts_with('*') || l.starts_with("/*") || l.starts_with(';'))
    })
}

/// The quoted strings (between two `quote` characters) of the code lines of a source file:
/// the `'...'` literals of grammar.js, say.
fn quoted_strings(source: &str, quote: char) -> BTreeSet<String> {
    code_lines(source)
        .flat_map(|l| {
            l.split(quote)
                .skip(1)
                .step_by(2)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What a tree-sitter highlight query captures: its quoted anonymous nodes (`"patch"`) and
/// the names of the named nodes it mentions (`(cumulative)`, a node that is one keyword).
fn query_words(query: &str) -> BTreeSet<String> {
    let mut found = quoted_strings(query, '"');
    for line in code_lines(query) {
        let nodes = line
            .split('(')
            .skip(1)
            .filter_map(|after| words(after).next());
        found.extend(nodes.map(String::from));
    }
    found
}

#[test]
fn every_keyword_of_the_grammar_is_in_every_editor_grammar() {
    let keywords = pest_keywords(&read(&root().join("grammar/kgp.pest")));
    // A sanity check of the extraction itself.
    for expected in ["patch", "replace", "pre_patch", "sympos", "cumulative"] {
        assert!(
            keywords.contains(expected),
            "no keyword {expected:?} found in grammar/kgp.pest: {keywords:?}"
        );
    }
    assert!(
        !keywords.iter().any(|k| k == "0x" || k.contains('/')),
        "{keywords:?}"
    );

    let e = editors();
    let grammars: [(&str, BTreeSet<String>); 5] = [
        (
            "editors/vscode/syntaxes/kgp.tmLanguage.json",
            textmate_words(&read(&e.join("vscode/syntaxes/kgp.tmLanguage.json"))),
        ),
        (
            "editors/vim/syntax/kgp.vim",
            vim_words(&read(&e.join("vim/syntax/kgp.vim"))),
        ),
        (
            "editors/emacs/kgp-mode.el",
            emacs_words(&read(&e.join("emacs/kgp-mode.el"))),
        ),
        (
            "editors/tree-sitter-kgp/grammar.js",
            quoted_strings(&read(&e.join("tree-sitter-kgp/grammar.js")), '\''),
        ),
        (
            "editors/tree-sitter-kgp/queries/highlights.scm",
            query_words(&read(&e.join("tree-sitter-kgp/queries/highlights.scm"))),
        ),
    ];

    let mut missing = Vec::new();
    for (file, known) in &grammars {
        let absent: Vec<&str> = keywords
            .iter()
            .filter(|k| !known.contains(*k))
            .map(String::as_str)
            .collect();
        if !absent.is_empty() {
            missing.push(format!("{file} lacks: {}", absent.join(" ")));
        }
    }
    assert!(
        missing.is_empty(),
        "keywords of grammar/kgp.pest that an editor grammar does not know:\n{}\n(keywords: {})",
        missing.join("\n"),
        keywords
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
