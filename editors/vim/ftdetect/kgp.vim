" Vim filetype detection for kgpc's .kgp live-patch specs.
autocmd BufNewFile,BufRead *.kgp setfiletype kgp
