" Headless test of the Vim runtime files for .kgp specs. Run from anywhere:
"
"   vim -Nu NONE -i NONE -es -S editors/vim/test/check.vim
"
" It loads this directory's parent as a runtime path, opens test/sample.kgp, and checks
" filetype detection, the ftplugin's options, the syntax group (and the highlight group it
" links to) at given places, and that = indents the sample as it is written. Every failure is
" printed to stdout, followed by a summary line; Vim exits non-zero if anything failed.

let s:dir = expand('<sfile>:p:h')
let s:failures = []
let s:checks = 0

function! s:Fail(message) abort
  call add(s:failures, 'FAIL ' . a:message)
endfunction

" Checks the syntax item at the first character of `word` in the first line that matches
" `line_pattern`: its own name (matched against the pattern `group`, since c.vim has
" variants of some items) and the name of the highlight group it finally links to.
function! s:CheckSyntax(line_pattern, word, group, linked) abort
  let s:checks += 1
  let lnum = search(a:line_pattern, 'nw')
  if lnum == 0
    call s:Fail(printf('no line matches /%s/', a:line_pattern))
    return
  endif
  let col = stridx(getline(lnum), a:word) + 1
  if col == 0
    call s:Fail(printf('line %d has no %s', lnum, string(a:word)))
    return
  endif
  let id = synID(lnum, col, 1)
  let got = synIDattr(id, 'name')
  let got_linked = synIDattr(synIDtrans(id), 'name')
  if got !~# '^\%(' . a:group . '\)$' || got_linked !=# a:linked
    call s:Fail(printf('%d:%d %s: expected %s/%s, got %s/%s (stack: %s)', lnum, col,
          \ string(a:word), a:group, a:linked, got, got_linked,
          \ join(map(synstack(lnum, col), 'synIDattr(v:val, "name")'), ' > ')))
  endif
endfunction

function! s:CheckOption(name, expected) abort
  let s:checks += 1
  let got = eval('&l:' . a:name)
  if got !=# a:expected
    call s:Fail(printf('&%s: expected %s, got %s', a:name, string(a:expected), string(got)))
  endif
endfunction

" The places to check: [line pattern, word on that line, syntax group, linked group].
let s:syntax_checks = [
      \ ['^# A spec', '#', 'kgpComment', 'Comment'],
      \ ['^patch', 'patch', 'kgpItem', 'Statement'],
      \ ['^patch', 'cve-2024', 'kgpName', 'Identifier'],
      \ ['description', 'description', 'kgpEntry', 'Statement'],
      \ ['description', '"A', 'kgpString', 'Constant'],
      \ ['description', '\"', 'kgpEscape', 'Special'],
      \ ['description', '\n', 'kgpEscape', 'Special'],
      \ ['description', '\q', 'kgpBadEscape', 'Error'],
      \ ['reference', 'reference', 'kgpEntry', 'Statement'],
      \ ['author', 'author', 'kgpEntry', 'Statement'],
      \ ['cumulative', 'cumulative', 'kgpEntry', 'Statement'],
      \ ['^target', 'target', 'kgpItem', 'Statement'],
      \ ['release', 'release', 'kgpEntry', 'Statement'],
      \ ['arch', 'arch', 'kgpEntry', 'Statement'],
      \ ['version 6', 'version', 'kgpEntry', 'Statement'],
      \ ['version 6', '6.1', 'kgpNumber', 'Constant'],
      \ ['build_id', 'build_id', 'kgpEntry', 'Statement'],
      \ ['^import std', 'import', 'kgpInclude', 'PreProc'],
      \ ['^import std', 'std/shadow_lock', 'kgpStdPath', 'Constant'],
      \ ['^import "', '"common', 'kgpString', 'Constant'],
      \ ['^include', 'include', 'kgpInclude', 'PreProc'],
      \ ['^include', '<linux', 'kgpHeader', 'Constant'],
      \ ['^fix', 'fix', 'kgpInclude', 'PreProc'],
      \ ['^fix', '"0001', 'kgpString', 'Constant'],
      \ ['^fix """', '"""', 'kgpTextBlock', 'Constant'],
      \ ['^@@ -7', '# not', 'kgpDiffRange', 'Statement'],
      \ ['seq_putc', '-', 'kgpDiffRemoved', 'Special'],
      \ ['seq_puts', '+', 'kgpDiffAdded', 'Identifier'],
      \ ['stripe_io_hints', 'in "drivers', 'kgpClause', 'Statement'],
      \ ['stripe_io_hints', 'fix', 'kgpInclude', 'PreProc'],
      \ ['x = 2', '+', 'kgpDiffAdded', 'Identifier'],
      \ ['^state', 'fix_state', 'kgpTypeName', 'Type'],
      \ ['^data', 'data', 'kgpItem', 'Statement'],
      \ ['^data', '{', 'kgpCBrace', 'Special'],
      \ ['#define', '#define', 'cDefine', 'PreProc'],
      \ ['open = ', 'static', 'cStorageClass', 'Type'],
      \ ['open = ', '"{"', 'c\%(Cpp\)\=String', 'Constant'],
      \ ['int count', 'int', 'cType', 'Type'],
      \ ['^shadow', 'shadow', 'kgpItem', 'Statement'],
      \ ['^shadow', 'leak', 'kgpTypeName', 'Type'],
      \ ['^shadow', 'for', 'kgpClause', 'Statement'],
      \ ['^shadow', 'like', 'kgpClause', 'Statement'],
      \ ['id 0x10', 'id', 'kgpEntry', 'Statement'],
      \ ['id 0x10', '0x10', 'kgpNumber', 'Constant'],
      \ ['gfp GFP_NOWAIT', 'gfp', 'kgpEntry', 'Statement'],
      \ ['^\s*keep', 'keep', 'kgpEntry', 'Statement'],
      \ ['payload', 'payload', 'kgpEntry', 'Statement'],
      \ ['payload', '{', 'kgpCBrace', 'Special'],
      \ ['ctor', 'ctor', 'kgpEntry', 'Statement'],
      \ ['dtor', 'dtor', 'kgpEntry', 'Statement'],
      \ ['^template', 'template', 'kgpItem', 'Statement'],
      \ ['^state', 'state', 'kgpItem', 'Statement'],
      \ ['^helper', 'helper', 'kgpItem', 'Statement'],
      \ ['^helper', 'unsigned', 'cType', 'Type'],
      \ ['^    return 0;', 'return', 'cStatement', 'Statement'],
      \ ['^requires CONFIG_BT', 'requires', 'kgpItem', 'Statement'],
      \ ['^requires CONFIG_BT', 'CONFIG_BT', 'kgpConfigOption', 'Constant'],
      \ ['^requires CONFIG_BT', 'else', 'kgpClause', 'Statement'],
      \ ['^requires CONFIG_BT', 'skip', 'kgpClause', 'Statement'],
      \ ['CONFIG_PROC_FS', 'requires', 'kgpItem', 'Statement'],
      \ ['^object', 'object', 'kgpItem', 'Statement'],
      \ ['^object', 'vmlinux', 'kgpName', 'Identifier'],
      \ ['saved_command_line', 'extern', 'kgpEntry', 'Statement'],
      \ ['saved_command_line', 'char', 'cType', 'Type'],
      \ ['some_static_function', 'sympos', 'kgpClause', 'Statement'],
      \ ['cmdline_proc_show', 'replace', 'kgpEntry', 'Statement'],
      \ ['cmdline_proc_show', 'static', 'cStorageClass', 'Type'],
      \ ['cmdline_proc_show', 'struct', 'cStructure', 'Type'],
      \ ['void \*v) in', 'in', 'kgpClause', 'Statement'],
      \ ['void \*v) in', '"fs/', 'kgpString', 'Constant'],
      \ ['void \*v) in', '{', 'kgpCBrace', 'Special'],
      \ ['brace = ', "'}'", 'cCharacter', 'Constant'],
      \ ['brace = ', '/*', 'cComment\%(Start\)\=', 'Comment'],
      \ ['seq_printf', '"%s', 'c\%(Cpp\)\=String', 'Constant'],
      \ ['meminfo_proc_show', 'body', 'kgpClause', 'Statement'],
      \ ['meminfo_proc_show', '"fix.c"', 'kgpString', 'Constant'],
      \ ['pre_patch', 'pre_patch', 'kgpCallback', 'Statement'],
      \ ['pre_patch', '{', 'kgpCBrace', 'Special'],
      \ ['post_patch', 'post_patch', 'kgpCallback', 'Statement'],
      \ ['pre_unpatch', 'pre_unpatch', 'kgpCallback', 'Statement'],
      \ ['post_unpatch', 'post_unpatch', 'kgpCallback', 'Statement'],
      \ ['^api', 'api', 'kgpItem', 'Statement'],
      \ ['^api', 'since', 'kgpClause', 'Statement'],
      \ ['^api', '5.5', 'kgpNumber', 'Constant'],
      \ ['^test', 'test', 'kgpItem', 'Statement'],
      \ ['^    load', 'load', 'kgpEntry', 'Statement'],
      \ ['patch_first', 'patch_first', 'kgpEntry', 'Statement'],
      \ ['^    fixed', 'fixed', 'kgpEntry', 'Statement'],
      \ ['^    fixed', 'contains', 'kgpClause', 'Statement'],
      \ ['^    always', 'always', 'kgpEntry', 'Statement'],
      \ ['^    file', 'file', 'kgpEntry', 'Statement'],
      \ ['^    program', 'program', 'kgpEntry', 'Statement'],
      \ ['^    setup', 'setup', 'kgpEntry', 'Statement'],
      \ ['^    reload', 'reload', 'kgpEntry', 'Statement'],
      \ ['exits 0', 'exits', 'kgpClause', 'Statement'],
      \ ['exits 0', 'lacks', 'kgpClause', 'Statement'],
      \ ['dmesg loaded', 'dmesg', 'kgpEntry', 'Statement'],
      \ ['dmesg loaded', 'loaded', 'kgpClause', 'Statement'],
      \ ['dmesg unloaded', 'unloaded', 'kgpClause', 'Statement'],
      \ ['dmesg loaded', "'livepatch_sample'", 'kgpString', 'Constant'],
      \ ['refused', 'refused', 'kgpEntry', 'Statement'],
      \ ['workload', 'workload', 'kgpEntry', 'Statement'],
      \ ]

try
  let &runtimepath = fnamemodify(s:dir, ':h') . ',' . &runtimepath
  filetype plugin indent on
  syntax on
  execute 'edit' fnameescape(s:dir . '/sample.kgp')

  " Detection and the ftplugin.
  call s:CheckOption('filetype', 'kgp')
  call s:CheckOption('syntax', 'kgp')
  call s:CheckOption('commentstring', '# %s')
  call s:CheckOption('comments', ':#')
  call s:CheckOption('shiftwidth', 4)
  call s:CheckOption('expandtab', 1)
  call s:CheckOption('indentexpr', 'GetKgpIndent(v:lnum)')

  " Syntax.
  for [pattern, word, group, linked] in s:syntax_checks
    call s:CheckSyntax(pattern, word, group, linked)
  endfor
  " A # inside a C block is C, never a spec comment.
  let s:checks += 1
  let lnum = search('#define', 'nw')
  if synIDattr(synID(lnum, stridx(getline(lnum), '#') + 1, 1), 'name') ==# 'kgpComment'
    call s:Fail('#define in a C block is highlighted as a spec comment')
  endif

  " Indentation: with every line's indentation removed, = on the whole sample gives the
  " sample back. The lines of a text block keep theirs, which is part of the text, and =
  " must leave it so.
  let s:checks += 1
  let expected = getline(1, '$')
  for lnum in range(1, line('$'))
    let col = max([1, indent(lnum) + 1])
    if synIDattr(synID(lnum, col, 0), 'name') !~# '^kgp\%(TextBlock\|Diff\)'
      call setline(lnum, substitute(getline(lnum), '^\s\+', '', ''))
    endif
  endfor
  normal! gg=G
  let got = getline(1, '$')
  for i in range(len(expected))
    if got[i] !=# expected[i]
      call s:Fail(printf('indent of line %d: expected %s, got %s', i + 1,
            \ string(expected[i]), string(got[i])))
    endif
  endfor
catch
  call s:Fail('error: ' . v:exception . ' at ' . v:throwpoint)
endtry

let s:summary = printf('vim check: %d checks, %d failures', s:checks, len(s:failures))
" Appending, so that a redirected stdout is not truncated.
call writefile(s:failures + [s:summary], '/dev/stdout', 'a')
if empty(s:failures)
  qall!
else
  cquit!
endif
