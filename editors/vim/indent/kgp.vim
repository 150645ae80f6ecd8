" Vim indent file for kgpc's .kgp live-patch specs.
"
" Indentation follows the braces, in spec blocks and C blocks alike: one 'shiftwidth' per
" enclosing brace, and a line that starts with } goes back to the level of its {. Inside an
" unclosed parenthesis (a prototype over several lines) a line lines up after the (.
" Braces and parentheses in strings, characters and comments do not count. Two C habits
" are followed too: the body of an if, else, for, while or do without braces is one level
" deeper, and the * lines of a /* comment line up under its first *.

if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal indentexpr=GetKgpIndent(v:lnum)
setlocal indentkeys=0{,0},0),!^F,o,O
setlocal nolisp nosmartindent nocindent autoindent

let b:undo_indent = 'setlocal indentexpr< indentkeys< lisp< smartindent< cindent< autoindent<'

if exists('*GetKgpIndent')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" True when the character under the cursor is in a string, character constant or comment,
" of the spec or of C.
function! s:InLiteral() abort
  let name = synIDattr(synID(line('.'), col('.'), 0), 'name')
  return name =~? 'string\|character\|comment\|escape\|special\|textblock\|diff'
endfunction

" True when line lnum starts inside a text block, or closes one.
function! s:InTextBlock(lnum) abort
  let col = max([1, indent(a:lnum) + 1])
  return synIDattr(synID(a:lnum, col, 0), 'name') =~# '^kgp\%(TextBlock\|Diff\)'
        \ || synIDattr(synID(a:lnum, 1, 0), 'name') ==# 'kgpTextBlock'
endfunction

" The line on which the statement holding line lnum's column 1 starts: if that position is
" inside unclosed parentheses, the line of the outermost (.
function! s:StatementStart(lnum) abort
  let lnum = a:lnum
  while 1
    call cursor(lnum, 1)
    let [pline, pcol] = searchpairpos('(', '', ')', 'bnW', 's:InLiteral()')
    if pline <= 0 || pline == lnum
      return lnum
    endif
    let lnum = pline
  endwhile
endfunction

" C statements whose body may be a single statement without braces.
let s:control = '^\s*\%(}\s*\)\=\%(if\|else\|for\|while\|do\)\>'
" A line that ends a statement or opens or closes a block (before any comment).
let s:closed = '[;{}]\s*\%(/\*.*\*/\s*\|//.*\)\=$'

function! GetKgpIndent(lnum) abort
  let save_cursor = getcurpos()
  try
    " A line of a text block (""" ... """) is text, whose indentation is part of it:
    " it stays as it is, and so does the line that closes the block.
    if s:InTextBlock(a:lnum)
      return indent(a:lnum)
    endif
    " The middle or end of a /* comment: under the comment's first *.
    let first = indent(a:lnum) + 1
    if getline(a:lnum) =~# '^\s*\*' && synIDattr(synID(a:lnum, first, 0), 'name') =~? 'comment'
      call cursor(a:lnum, 1)
      let [cline, ccol] = searchpos('/\*', 'bnW')
      if cline > 0
        return ccol
      endif
    endif

    " Inside parentheses: line up after the innermost (.
    call cursor(a:lnum, 1)
    let [pline, pcol] = searchpairpos('(', '', ')', 'bnW', 's:InLiteral()')
    if pline > 0
      return pcol
    endif

    " Otherwise one level deeper than the line that opens the innermost enclosing {, or
    " the level of that line for the } that closes it.
    call cursor(a:lnum, 1)
    let [bline, bcol] = searchpairpos('{', '', '}', 'bnW', 's:InLiteral()')
    if bline <= 0
      return 0
    endif
    let base = indent(s:StatementStart(bline))
    if getline(a:lnum) =~# '^\s*}'
      return base
    endif

    " The body of a braceless if, else, for, while or do, inside the same block.
    let prev = prevnonblank(a:lnum - 1)
    if prev > bline && getline(prev) !~# s:closed && getline(a:lnum) !~# '^\s*{'
      let start = s:StatementStart(prev)
      if getline(start) =~# s:control
        return indent(start) + shiftwidth()
      endif
    endif
    return base + shiftwidth()
  finally
    call setpos('.', save_cursor)
  endtry
endfunction

let &cpo = s:cpo_save
unlet s:cpo_save
