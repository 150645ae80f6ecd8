" Vim syntax file
" Language:    kgp, the live-patch specs of kgpc (grammar/kgp.pest is the real grammar)
" Filenames:   *.kgp
"
" Spec syntax is keywords, names, strings, numbers and # comments. The C blocks ({ ... }
" after replace, helper, data, payload, ctor, dtor and the four callbacks) are regions
" highlighted with Vim's C syntax; they are only entered through the keyword or header
" before them (nextgroup), so the braces of patch, target, object, shadow, template and
" state blocks stay spec syntax. C's own block rule keeps nested braces balanced, and C
" strings, characters and comments hide the braces they contain.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" C, for C blocks and prototypes. c.vim sets b:current_syntax, which must not stay set.
syntax include @kgpC syntax/c.vim
unlet! b:current_syntax

syntax case match

" ---------------------------------------------------------------- comments and literals
syntax match   kgpComment    "#.*$" contains=@Spell
syntax region  kgpString     start=+"+ skip=+\\\\\|\\"+ end=+"+ end=+$+ contains=kgpBadEscape,kgpEscape
" kgpc accepts \" \\ \n \t and rejects any other escape (KGP0004).
syntax match   kgpBadEscape  +\\.+ contained
syntax match   kgpEscape     +\\[\\"nt]+ contained
syntax match   kgpNumber     "\<\%(0x\x\+\|\d\+\%(\.\d\+\)\{0,2}\)\>"
syntax match   kgpStdPath    "\<std/\h\w*\%(/\h\w*\)*"
syntax match   kgpHeader     "<[^>]\+>" contained

" ---------------------------------------------------------------- items
" patch and object names may contain dashes.
syntax keyword kgpItem       patch object nextgroup=kgpName skipwhite skipnl
syntax keyword kgpItem       shadow template state nextgroup=kgpTypeName skipwhite skipnl
syntax keyword kgpItem       target api test
" requires CONFIG_NAME[=VALUE] [else skip|error]: at the top level and in an object block.
syntax keyword kgpItem       requires nextgroup=kgpConfigOption skipwhite
syntax match   kgpConfigOption "\<CONFIG_\w\+" contained
syntax keyword kgpClause     else skip error
syntax keyword kgpItem       data nextgroup=kgpCBlock skipwhite skipnl
syntax keyword kgpInclude    import
" fix "FILE.patch": the upstream fix, a unified diff next to the spec; or fix """ ... """,
" the diff written in the spec as a text block (defined after kgpString, so it wins at """).
syntax keyword kgpInclude    fix
syntax region  kgpTextBlock  start=+"""+ end=+"""+ contains=kgpDiffAdded,kgpDiffRemoved,kgpDiffRange
syntax match   kgpDiffAdded   "^\s*+.*$" contained
syntax match   kgpDiffRemoved "^\s*-.*$" contained
syntax match   kgpDiffRange   "^\s*@@.*$" contained
syntax keyword kgpInclude    include nextgroup=kgpHeader skipwhite
syntax match   kgpName       "\a[[:alnum:]_-]*" contained
syntax match   kgpTypeName   "\h\w*" contained

" helper PROTOTYPE { C }: the prototype is C too.
syntax region  kgpHelperHead matchgroup=kgpItem start="\<helper\>" end="\ze{"
      \ contains=@kgpC,kgpComment nextgroup=kgpCBlock

" ---------------------------------------------------------------- entries
syntax keyword kgpEntry      description reference author cumulative
syntax keyword kgpEntry      release arch version build_id
syntax keyword kgpEntry      id gfp keep
syntax keyword kgpEntry      payload ctor dtor nextgroup=kgpCBlock skipwhite skipnl
syntax keyword kgpCallback   pre_patch post_patch pre_unpatch post_unpatch
      \ nextgroup=kgpCBlock skipwhite skipnl
syntax keyword kgpClause     in sympos body allow_inlined for like since
" The entries of a test block.
syntax keyword kgpEntry      load patch_first file program setup reload fixed always dmesg refused workload
syntax match   kgpClause     "\<\%(contains\|lacks\|exits\|loaded\|unloaded\)\>"

" replace PROTOTYPE [in "FILE"] [sympos N] ({ C } | body "FILE" | fix DIFF)
syntax region  kgpReplaceHead matchgroup=kgpEntry start="\<replace\>" end="\ze{" end="\ze\<body\>" end="\ze\<fix\>"
      \ contains=@kgpC,kgpClause,kgpString,kgpNumber,kgpComment nextgroup=kgpCBlock
" extern DECLARATION [sympos N];
syntax region  kgpExtern     matchgroup=kgpEntry start="\<extern\>" matchgroup=NONE end=";"
      \ contains=@kgpC,kgpClause,kgpNumber,kgpComment

" ---------------------------------------------------------------- C blocks
syntax region  kgpCBlock     matchgroup=kgpCBrace start="{" end="}" contained
      \ contains=@kgpC,kgpCNested
" Nested braces, so that the block ends at its matching brace whatever c.vim does.
syntax region  kgpCNested    matchgroup=kgpCNestedBrace start="{" end="}" contained transparent
      \ contains=@kgpC,kgpCNested

" ---------------------------------------------------------------- links
hi def link kgpComment     Comment
hi def link kgpString      String
hi def link kgpTextBlock   String
hi def link kgpDiffAdded   Identifier
hi def link kgpDiffRemoved Special
hi def link kgpDiffRange   Statement
hi def link kgpEscape      SpecialChar
hi def link kgpBadEscape   Error
hi def link kgpNumber      Number
hi def link kgpStdPath     String
hi def link kgpHeader      String
hi def link kgpItem        Keyword
hi def link kgpInclude     Include
hi def link kgpName        Identifier
hi def link kgpConfigOption Constant
hi def link kgpTypeName    Type
hi def link kgpEntry       Statement
hi def link kgpCallback    Statement
hi def link kgpClause      Keyword
hi def link kgpCBrace      Delimiter

let b:current_syntax = 'kgp'

let &cpo = s:cpo_save
unlet s:cpo_save
