" Vim filetype plugin for kgpc's .kgp live-patch specs: comments and indentation.

if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

let s:cpo_save = &cpo
set cpo&vim

" Spec comments are # to the end of the line. (C blocks inside a spec take C comments, which
" the spec's comment settings do not describe; gc-style commenting uses the spec's.)
setlocal comments=:# commentstring=#\ %s
" Format comments with gq and continue them on a new line, never wrap code.
setlocal formatoptions-=t formatoptions+=croql
" The examples and the generated code's spec lines use four spaces.
setlocal shiftwidth=4 softtabstop=4 expandtab

let b:undo_ftplugin = 'setlocal comments< commentstring< formatoptions< shiftwidth< softtabstop<'
      \ . ' expandtab<'

let &cpo = s:cpo_save
unlet s:cpo_save
