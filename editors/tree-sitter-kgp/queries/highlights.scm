; Highlights of .kgp specs. Only captures that Helix, Neovim and Zed all know are used:
; @keyword @string @comment @function @type @constant @number @operator
; @punctuation.bracket @variable @property. No node gets two captures, so the editors'
; different rules for overlapping patterns do not matter.

; Keywords of the spec: items, entries and clauses.
[
  "patch" "target" "import" "include" "fix" "object" "shadow" "template" "state" "helper"
  "data" "api"
  "description" "reference" "author" "release" "arch" "version" "build_id"
  "replace" "in" "sympos" "body" "allow_inlined" "extern"
  "for" "like" "id" "gfp" "payload" "ctor" "dtor" "since"
  "pre_patch" "post_patch" "pre_unpatch" "post_unpatch"
  "test" "load" "patch_first" "file" "program" "setup" "reload" "fixed" "always" "contains" "lacks"
  "exits" "dmesg" "loaded" "unloaded" "refused" "workload"
  "requires" "else"
] @keyword

; Entries that are one keyword.
(cumulative) @keyword
(keep) @keyword

; C words of prototypes, declarations and shadow types (C blocks are injected as C).
(c_keyword) @keyword
(primitive_type) @type
(type_identifier) @type
(star) @operator

; Names that items and entries define or refer to.
(patch_block name: (name) @constant)
(object_block name: (name) @type)
(shadow_block name: (identifier) @type)
(template_block name: (identifier) @type)
(state_block name: (identifier) @constant)
(like template: (identifier) @type)
(reference kind: (identifier) @property)
(arch (identifier) @constant)
(gfp_expr (identifier) @constant)
(api_item name: (identifier) @constant)
(requires_item option: (config_option) @constant)
(config_word) @constant
(requires_else action: (identifier) @keyword)
(prototype name: (identifier) @function)
(replacement name: (identifier) @function)
(declarator name: (identifier) @variable)
(parameter name: (identifier) @variable)

; Literals.
(string) @string
(text_block) @string
(header) @string
(std_path) @string
(number) @number
(version_number) @number
(comment) @comment

; Punctuation.
"|" @operator
["{" "}" "(" ")"] @punctuation.bracket
