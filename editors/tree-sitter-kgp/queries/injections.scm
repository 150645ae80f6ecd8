; The C blocks of a spec (bodies of replace, helper and callbacks; data; payload, ctor and
; dtor) are C. The block is injected with its braces, which C parses as a compound
; statement; its pieces are hidden nodes of the kgp tree, included anyway for safety.
((c_block) @injection.content
  (#set! injection.language "c")
  (#set! injection.include-children))

; A diff written in the spec (`fix """ ... """`) is a unified diff.
((text_block) @injection.content
  (#set! injection.language "diff"))
