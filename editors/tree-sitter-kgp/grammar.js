/**
 * @file tree-sitter grammar of kgpc's .kgp live-patch specs.
 *
 * grammar/kgp.pest (in the kgpc repository) is the language's only real grammar; this one
 * follows its structure and node names so that editors get the same tree. Differences:
 * - pest's bad_item and bad_entry (error recovery) are left to tree-sitter's own recovery,
 *   which marks them as ERROR nodes;
 * - C code is not parsed here: a C block is a brace-balanced c_block whose contents are
 *   injected as C (queries/injections.scm), and a prototype's parameters are a
 *   parenthesis-balanced c_parens.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

// Names of patches and objects may contain dashes (`patch cve-2024-26581`).
const NAME = /[A-Za-z][A-Za-z0-9_-]*/;

module.exports = grammar({
  name: 'kgp',

  // `#` comments may appear between any two tokens of the spec (never inside C blocks, where
  // the C tokens below outrank them).
  extras: $ => [/\s/, $.comment],

  // Keywords are only keywords where the spec expects them: `id`, `data` or `in` can still
  // name a C type, a parameter or a shadow variable.
  word: $ => $.identifier,

  rules: {
    source_file: $ => repeat($._item),

    _item: $ => choice(
      $.patch_block,
      $.target_block,
      $.import_item,
      $.include_item,
      $.fix_item,
      $.object_block,
      $.shadow_block,
      $.template_block,
      $.state_block,
      $.helper_item,
      $.data_item,
      $.api_item,
      $.test_block,
      $.requires_item,
    ),

    // ------------------------------------------------------------------ patch
    patch_block: $ => seq(
      'patch', field('name', alias(NAME, $.name)),
      '{', repeat($._patch_entry), '}',
    ),
    _patch_entry: $ => choice($.description, $.reference, $.author, $.cumulative),
    description: $ => seq('description', $.string),
    reference: $ => seq('reference', field('kind', $.identifier), field('value', $.string)),
    author: $ => seq('author', $.string),
    cumulative: _ => 'cumulative',

    // ------------------------------------------------------------------ target
    target_block: $ => seq('target', '{', repeat($._target_entry), '}'),
    _target_entry: $ => choice($.release, $.arch, $.version, $.build_id),
    release: $ => seq('release', repeat1($.string)),
    arch: $ => seq('arch', $.identifier),
    version: $ => seq('version', $.version_number),
    build_id: $ => seq('build_id', $.string),
    version_number: _ => /[0-9]+(\.[0-9]+)?(\.[0-9]+)?/,

    // ------------------------------------------------------------------ imports
    import_item: $ => seq('import', choice($.string, $.std_path)),
    std_path: _ => token(seq('std/', /[A-Za-z_][A-Za-z0-9_]*/, repeat(seq('/', /[A-Za-z_][A-Za-z0-9_]*/)))),
    include_item: $ => seq('include', $.header),
    header: _ => token(seq('<', /[^>\n]+/, '>')),

    // ------------------------------------------------------------------ the upstream fix
    // `fix "FILE.patch"`: the unified diff, next to the spec, that the live patch applies;
    // or `fix """ ... """`, the diff written in the spec as a text block.
    fix_item: $ => seq('fix', $._diff_text),
    _diff_text: $ => choice($.text_block, $.string),
    // Everything from `"""` to the next `"""`, as it is: no escapes, no comments.
    text_block: _ => token(seq('"""', /([^"]|"[^"]|""[^"])*/, '"""')),

    // ------------------------------------------------------------------ objects
    object_block: $ => seq(
      'object', field('name', alias(NAME, $.name)),
      '{', repeat($._object_entry), '}',
    ),
    _object_entry: $ => choice($.replacement, $.callback, $.extern_decl, $.requires_item),

    // `replace PROTOTYPE` or, without the signature, `replace NAME`.
    replacement: $ => seq(
      'replace',
      choice($.prototype, field('name', $.identifier)),
      repeat(choice($.in_file, $.sympos, $.allow_inlined)),
      choice(field('body', $.c_block), $.body_file, $.function_fix),
    ),
    in_file: $ => seq('in', $.string),
    sympos: $ => seq('sympos', $.number),
    allow_inlined: $ => seq('allow_inlined', repeat1($.string)),
    body_file: $ => seq('body', $.string),
    // The function's part of an upstream fix, instead of a body.
    function_fix: $ => seq('fix', $._diff_text),

    callback: $ => seq($.callback_kind, field('body', $.c_block)),
    callback_kind: _ => choice('pre_patch', 'post_patch', 'pre_unpatch', 'post_unpatch'),

    // `extern DECLARATION [sympos N];`: a function's prototype or a variable's declarator.
    extern_decl: $ => seq('extern', choice($.prototype, $.declarator), optional($.sympos), ';'),
    declarator: $ => seq(repeat($._decl_word), field('name', $.identifier), optional($.c_brackets)),

    // ------------------------------------------------------------------ kernel config
    // `requires CONFIG_NAME[=VALUE] [else skip|error]`: an option of the build's kernel config,
    // for the whole build at the top level and for the object inside an object block.
    requires_item: $ => seq(
      'requires', field('option', alias($.identifier, $.config_option)),
      optional($.config_value), optional($.requires_else),
    ),
    config_value: $ => seq('=', choice($.string, $.config_word)),
    config_word: _ => /-?[A-Za-z0-9_]+/,
    requires_else: $ => seq('else', field('action', $.identifier)),

    // ------------------------------------------------------------------ shadows
    shadow_block: $ => seq(
      'shadow', field('name', $.identifier),
      'for', $.c_type, optional($.like),
      '{', repeat($._shadow_entry), '}',
    ),
    template_block: $ => seq(
      'template', field('name', $.identifier),
      '{', repeat($._shadow_entry), '}',
    ),
    like: $ => seq('like', field('template', $.identifier)),
    c_type: $ => repeat1($._decl_word),
    _shadow_entry: $ => choice($.shadow_id, $.gfp, $.payload, $.ctor, $.dtor, $.keep),
    shadow_id: $ => seq('id', $.number),
    gfp: $ => seq('gfp', $.gfp_expr),
    gfp_expr: $ => seq($.identifier, repeat(seq('|', $.identifier))),
    payload: $ => seq('payload', field('body', $.c_block)),
    ctor: $ => seq('ctor', field('body', $.c_block)),
    dtor: $ => seq('dtor', field('body', $.c_block)),
    keep: _ => 'keep',

    // ------------------------------------------------------------------ states
    state_block: $ => seq(
      'state', field('name', $.identifier),
      '{', repeat(choice($.shadow_id, $.state_version)), '}',
    ),
    state_version: $ => seq('version', $.number),

    // ------------------------------------------------------------------ new code
    helper_item: $ => seq('helper', $.prototype, field('body', $.c_block)),
    data_item: $ => seq('data', field('body', $.c_block)),

    // ------------------------------------------------------------------ API table (std/api)
    api_item: $ => seq('api', field('name', $.identifier), 'since', $.version_number),

    // ------------------------------------------------------------------ tests under QEMU
    // `kgpc test` boots the target kernel and runs these around loading the patch.
    test_block: $ => seq('test', '{', repeat($._test_entry), '}'),
    _test_entry: $ => choice(
      $.test_load, $.test_patch_first, $.test_file, $.test_program, $.test_setup,
      $.test_reload, $.test_check, $.test_dmesg, $.test_refused, $.test_workload,
    ),
    test_load: $ => seq('load', $.string),
    test_patch_first: $ => seq('patch_first', $.string),
    test_file: $ => seq('file', $.string),
    test_program: $ => seq('program', $.string),
    test_setup: $ => seq('setup', field('script', $._script)),
    test_reload: $ => seq('reload', $.string),
    _script: $ => choice($.text_block, $.string),
    test_check: $ => seq($.check_kind, field('command', $._script), repeat1($._expectation)),
    check_kind: _ => choice('fixed', 'always'),
    _expectation: $ => choice($.expect_contains, $.expect_lacks, $.expect_exits),
    expect_contains: $ => seq('contains', field('text', $.string)),
    expect_lacks: $ => seq('lacks', field('text', $.string)),
    expect_exits: $ => seq('exits', field('status', $.number)),
    test_dmesg: $ => seq('dmesg', $.dmesg_phase, repeat1($.string)),
    dmesg_phase: _ => choice('loaded', 'unloaded'),
    test_refused: $ => seq('refused', $.string),
    test_workload: $ => seq('workload', $.string),

    // ------------------------------------------------------------------ C fragments
    // A C declaration as the spec writes it: type words and stars, the name, the parameters.
    prototype: $ => seq(repeat($._decl_word), field('name', $.identifier), $.c_parens),
    _decl_word: $ => choice(
      $.primitive_type,
      $.c_keyword,
      alias($.identifier, $.type_identifier),
      $.star,
    ),
    // The C words that a theme shows as types or keywords in prototypes and types.
    primitive_type: _ => choice(
      'void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned',
      'bool', '_Bool',
    ),
    c_keyword: _ => choice(
      'struct', 'union', 'enum', 'const', 'volatile', 'restrict', 'static', 'inline',
    ),
    star: _ => '*',

    // Parameters: balanced parentheses around comma-separated parameters. A parameter's name
    // is its last identifier (before , ) or [), the words before it are its type:
    // the precedences make an identifier there a name rather than one more type word.
    c_parens: $ => seq('(', optional(seq($.parameter, repeat(seq(',', $.parameter)))), ')'),
    parameter: $ => prec(1, choice(
      seq(repeat1($._param_piece), optional($._parameter_name)),
      $._parameter_name,
    )),
    _parameter_name: $ => prec(1, seq(field('name', $.identifier), repeat($.c_brackets))),
    _param_piece: $ => prec(-1, choice(
      $._decl_word, $.c_parens, $.c_brackets, $._c_string, $._c_char, $._c_comment,
      alias(token(prec(-1, /[^()\[\]A-Za-z_*,"'\/\s]+|\//)), $.c_text),
    )),
    c_brackets: _ => token(seq('[', /[^\]]*/, ']')),

    // A C block: the braces and everything between them, with nested blocks, strings,
    // character constants and comments that may contain braces. The whole block is injected
    // as C (queries/injections.scm), so its pieces are hidden. They outrank `#` comments,
    // which are spec syntax: `#define` in a C block is C.
    c_block: $ => seq('{', repeat($._c_piece), '}'),
    _c_nested_block: $ => seq('{', repeat($._c_piece), '}'),
    _c_piece: $ => choice($._c_nested_block, $._c_string, $._c_char, $._c_comment, $._c_text),
    _c_text: _ => token(prec(1, choice(/[^{}"'\/]+/, /["'\/]/))),
    _c_string: _ => token(prec(2, seq('"', repeat(choice(/[^"\\\n]/, /\\(.|\n)/)), '"'))),
    _c_char: _ => token(prec(2, seq('\'', repeat(choice(/[^'\\\n]/, /\\(.|\n)/)), '\''))),
    _c_comment: _ => token(prec(2, choice(
      seq('//', /[^\n]*/),
      seq('/*', /[^*]*\*+([^/*][^*]*\*+)*/, '/'),
    ))),

    // ------------------------------------------------------------------ tokens
    identifier: _ => /[A-Za-z_][A-Za-z0-9_]*/,
    number: _ => /0x[0-9a-fA-F]+|[0-9]+/,
    // The escapes kgpc accepts are \" \\ \n \t; others are an error of kgpc's, not a syntax error.
    string: $ => seq('"', repeat(choice($.string_content, $.escape_sequence)), '"'),
    string_content: _ => token.immediate(prec(1, /[^"\\\n]+/)),
    escape_sequence: _ => token.immediate(/\\./),
    comment: _ => token(seq('#', /[^\n]*/)),
  },
});
