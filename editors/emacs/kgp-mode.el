;;; kgp-mode.el --- Major mode for .kgp live-patch specs  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1"))
;; Keywords: languages
;; SPDX-License-Identifier: GPL-2.0-only

;;; Commentary:

;; A .kgp spec states one Linux kernel live patch for kgpc: patch
;; metadata, the target kernels, the objects whose functions it
;; replaces, shadow variables, states, helpers and data.  The grammar
;; of the language is grammar/kgp.pest in the kgpc repository.
;;
;; Spec syntax is keywords, names, strings, numbers and # comments.
;; The C blocks ({ ... } after replace, helper, data, payload, ctor,
;; dtor and the four callbacks) are C: there # is the preprocessor's,
;; not a comment; C strings, character constants and comments hide
;; braces; spec keywords are not highlighted.  A { opens a C block
;; when it belongs to a top-level data or helper item, or when it is
;; inside a spec block (object, shadow, template), since spec blocks
;; hold no other braces.
;;
;; Indentation follows the braces, `kgp-indent-offset' columns per
;; enclosing brace in spec blocks and C blocks alike.  A line inside an
;; open parenthesis lines up after it, the body of a braceless C if,
;; else, for, while or do is one level deeper, and the * lines of a /*
;; comment line up under its first *.
;;
;; Install: put this file on `load-path' and (require 'kgp-mode).

;;; Code:

(defgroup kgp nil
  "Editing kgpc's .kgp live-patch specs."
  :group 'languages
  :prefix "kgp-")

(defcustom kgp-indent-offset 4
  "Columns per level of braces in `kgp-mode'."
  :type 'integer
  :safe #'integerp)

;;;; Words

;; These lists hold every keyword of grammar/kgp.pest: kgpc's tests
;; (tests/editors.rs) check it.

(defconst kgp-item-keywords
  '("patch" "target" "import" "include" "fix" "object" "shadow"
    "template" "state" "helper" "data" "api" "test" "requires")
  "Keywords that start a top-level item of a spec.")

(defconst kgp-entry-keywords
  '("description" "reference" "author" "cumulative"
    "release" "arch" "version" "build_id"
    "replace" "extern"
    "id" "gfp" "payload" "ctor" "dtor" "keep"
    "load" "patch_first" "file" "program" "setup" "reload" "fixed" "always" "dmesg" "refused"
    "workload")
  "Keywords that start an entry inside a block of a spec.")

(defconst kgp-clause-keywords
  '("in" "sympos" "body" "allow_inlined" "for" "like" "since" "contains" "lacks"
    "exits" "loaded" "unloaded" "else" "skip" "error")
  "Keywords inside an item or entry.")

(defconst kgp-callback-keywords
  '("pre_patch" "post_patch" "pre_unpatch" "post_unpatch")
  "The four callbacks an object may have.")

(defconst kgp-c-type-words
  '("void" "char" "short" "int" "long" "float" "double" "signed"
    "unsigned" "bool" "_Bool" "size_t" "ssize_t"
    "u8" "u16" "u32" "u64" "s8" "s16" "s32" "s64"
    "struct" "union" "enum")
  "C words shown as types in C blocks, prototypes and shadow types.")

(defconst kgp-c-other-words
  '("auto" "break" "case" "const" "continue" "default" "do" "else"
    "extern" "for" "goto" "if" "inline" "register" "restrict" "return"
    "sizeof" "static" "switch" "typedef" "volatile" "while")
  "C keywords, shown as keywords in C blocks.")

(defconst kgp-c-prototype-words
  '("const" "static" "inline" "volatile")
  "C keywords, shown as keywords in prototypes outside C blocks.")

;;;; Syntax

(defvar kgp-mode-syntax-table
  (let ((table (make-syntax-table)))
    ;; Spec comments: # to the end of the line (style a).
    (modify-syntax-entry ?# "<" table)
    (modify-syntax-entry ?\n ">" table)
    ;; C comments in C blocks: // (style a, to the end of the line)
    ;; and /* */ (style b).
    (modify-syntax-entry ?/ ". 124" table)
    (modify-syntax-entry ?* ". 23b" table)
    ;; Strings, and C character constants.
    (modify-syntax-entry ?\" "\"" table)
    (modify-syntax-entry ?' "\"" table)
    (modify-syntax-entry ?\\ "\\" table)
    ;; Patch and object names may contain dashes: one symbol each.
    (modify-syntax-entry ?_ "_" table)
    (modify-syntax-entry ?- "_" table)
    (dolist (c '(?+ ?= ?% ?< ?> ?& ?| ?! ?~ ?^ ?, ?\; ?. ??))
      (modify-syntax-entry c "." table))
    table)
  "Syntax table of `kgp-mode'.")

(defun kgp--top-level-item (pos)
  "The keyword of the top-level item that POS, at depth 0, is part of.
The match data is preserved, for font-lock matchers."
  (save-match-data
   (save-excursion
    (goto-char pos)
    (let ((regexp (concat "^[ \t]*\\_<\\(" (regexp-opt kgp-item-keywords)
                          "\\)\\_>"))
          found)
      (while (and (not found) (re-search-backward regexp nil t))
        (let ((ppss (save-excursion (syntax-ppss (match-beginning 1)))))
          (when (and (= (nth 0 ppss) 0) (not (nth 8 ppss)))
            (setq found (match-string-no-properties 1)))))
      found))))

(defun kgp--c-block-opener-p (brace opens)
  "Non-nil if the { at BRACE opens a C block.
OPENS are the positions of the parens around BRACE, outermost first."
  (if opens
      ;; In a spec block (or a C block) every { opens a C block.
      (eq (char-after (car opens)) ?{)
    (member (kgp--top-level-item brace) '("data" "helper"))))

(defun kgp--in-c-block-p (&optional ppss)
  "Non-nil if the position of PPSS (default: point) is in a C block."
  (let ((opens (nth 9 (or ppss (syntax-ppss))))
        (outer '())
        in-c)
    (while (and opens (not in-c))
      (let ((open (car opens)))
        (when (and (eq (char-after open) ?{)
                   (kgp--c-block-opener-p open (reverse outer)))
          (setq in-c t))
        (push open outer)
        (setq opens (cdr opens))))
    in-c))

(defun kgp--propertize-text-blocks (start end)
  "Make each text block that opens from START to END one string.
A text block runs from \"\"\" to the next \"\"\", with no escapes: the
first quote of its opening and the last of its closing become string
fences, so that the quotes, braces and #s between them are text."
  (goto-char start)
  (while (and (< (point) end) (re-search-forward "\"\"\"" end t))
    (let* ((open (match-beginning 0))
           (ppss (save-excursion (syntax-ppss open))))
      (if (or (nth 8 ppss) (kgp--in-c-block-p ppss))
          (goto-char (1+ open))
        (put-text-property open (1+ open)
                           'syntax-table (string-to-syntax "|"))
        (when (search-forward "\"\"\"" nil t)
          (put-text-property (1- (point)) (point)
                             'syntax-table (string-to-syntax "|")))))))

(defun kgp--syntax-propertize (start end)
  "Mark the text blocks from START to END, and make each # there that is
in a C block not a comment."
  (kgp--propertize-text-blocks start end)
  (goto-char start)
  (while (re-search-forward "#" end t)
    (let* ((hash (match-beginning 0))
           (ppss (save-excursion (syntax-ppss hash))))
      (when (and (not (nth 8 ppss)) (kgp--in-c-block-p ppss))
        (put-text-property hash (1+ hash)
                           'syntax-table (string-to-syntax "."))))))

;;;; Font lock

(defun kgp--matcher (regexp where)
  "A font-lock matcher for REGEXP outside strings and comments.
WHERE is `spec' to match outside C blocks only, `c' inside them only,
or `any'.  The checks keep the match data of REGEXP for font-lock."
  (lambda (limit)
    (let (found)
      (while (and (not found) (re-search-forward regexp limit t))
        (save-match-data
          (let ((ppss (save-excursion (syntax-ppss (match-beginning 0)))))
            (unless (nth 8 ppss)
              (setq found (pcase where
                            ('any t)
                            ('spec (not (kgp--in-c-block-p ppss)))
                            ('c (kgp--in-c-block-p ppss))))))))
      found)))

(defun kgp--match-escape (limit)
  "Font-lock matcher of the backslash escapes of spec strings before LIMIT."
  (let (found)
    (while (and (not found) (re-search-forward "\\\\." limit t))
      (save-match-data
        (let ((ppss (save-excursion (syntax-ppss (match-beginning 0)))))
          (setq found (and (nth 3 ppss) (not (kgp--in-c-block-p ppss)))))))
    found))

(defun kgp--escape-face ()
  "The face of the escape that `kgp--match-escape' just matched.
A warning for the escapes that kgpc rejects: all but \\\" \\\\ \\n, \\t."
  (if (memq (char-after (1+ (match-beginning 0))) '(?\" ?\\ ?n ?t))
      'font-lock-constant-face
    'font-lock-warning-face))

(defconst kgp--name "[[:alpha:]][[:alnum:]_-]*"
  "A patch or object name: a C identifier that may contain dashes.")

(defconst kgp--identifier "[[:alpha:]_][[:alnum:]_]*"
  "A C identifier.")

(defun kgp--after (keywords regexp)
  "A regexp for REGEXP, as group 1, after one of KEYWORDS."
  (concat "\\_<" (regexp-opt keywords) "\\_>[ \t\n]+\\(" regexp "\\)"))

(defvar kgp-font-lock-keywords
  `(;; Spec keywords, outside C blocks.
    (,(kgp--matcher (regexp-opt (append kgp-item-keywords
                                        kgp-entry-keywords
                                        kgp-clause-keywords
                                        kgp-callback-keywords)
                                'symbols)
                    'spec)
     . font-lock-keyword-face)
    ;; Names that items define or refer to.
    (,(kgp--matcher (kgp--after '("patch" "object") kgp--name) 'spec)
     1 font-lock-constant-face)
    (,(kgp--matcher (kgp--after '("shadow" "template" "state" "like")
                                kgp--identifier)
                    'spec)
     1 font-lock-type-face)
    (,(kgp--matcher (kgp--after '("requires") kgp--identifier) 'spec)
     1 font-lock-constant-face)
    (,(kgp--matcher (kgp--after '("reference" "arch" "api") kgp--identifier)
                    'spec)
     1 font-lock-constant-face)
    ;; include <header>, import std/path.
    (,(kgp--matcher "\\_<include[ \t]+\\(<[^>\n]*>\\)" 'spec)
     1 font-lock-string-face)
    (,(kgp--matcher (concat "\\_<std/" kgp--identifier
                            "\\(?:/" kgp--identifier "\\)*")
                    'spec)
     . font-lock-constant-face)
    ;; A prototype's function: the word before (, outside C blocks.
    (,(kgp--matcher (concat "\\_<\\(" kgp--identifier "\\)[ \t]*(") 'spec)
     1 font-lock-function-name-face)
    ;; Numbers: decimal, hexadecimal, versions.
    (,(kgp--matcher (concat "\\_<\\(?:0x[[:xdigit:]]+"
                            "\\|[0-9]+\\(?:\\.[0-9]+\\)*\\)\\_>")
                    'spec)
     . font-lock-constant-face)
    ;; Escapes in spec strings.
    (kgp--match-escape (0 (kgp--escape-face) t))
    ;; C: preprocessor lines and keywords in C blocks, types anywhere.
    (,(kgp--matcher "^[ \t]*#[ \t]*[[:alpha:]]+" 'c)
     . font-lock-preprocessor-face)
    (,(kgp--matcher (regexp-opt kgp-c-type-words 'symbols) 'any)
     . font-lock-type-face)
    (,(kgp--matcher (regexp-opt kgp-c-other-words 'symbols) 'c)
     . font-lock-keyword-face)
    (,(kgp--matcher (regexp-opt kgp-c-prototype-words 'symbols) 'spec)
     . font-lock-keyword-face))
  "Font-lock keywords of `kgp-mode'.")

;;;; Indentation

(defconst kgp--control-regexp
  "[ \t]*\\(?:}[ \t]*\\)?\\_<\\(?:if\\|else\\|for\\|while\\|do\\)\\_>"
  "A C statement whose body may be one statement without braces.")

(defconst kgp--closed-regexp
  "[;{}][ \t]*\\(?:/\\*.*\\*/[ \t]*\\|//.*\\)?$"
  "The end of a line that ends a statement or opens or closes a block.")

(defun kgp--statement-start ()
  "Move to the start of the line on which the statement at point starts.
That is the line itself, unless its start is inside parentheses: then
the line of the outermost of them."
  (beginning-of-line)
  (let (open)
    (while (and (setq open (nth 1 (syntax-ppss)))
                (eq (char-after open) ?\())
      (goto-char open)
      (beginning-of-line))))

(defun kgp--braceless-body-indentation (open)
  "The indentation of the current line if it is a braceless C body.
That is when the previous non-blank line, after the { at OPEN, does not
end a statement and its statement starts with if, else, for, while or
do; nil otherwise."
  (save-excursion
    (let ((open-line (line-number-at-pos open)))
      (forward-line -1)
      (while (and (> (line-number-at-pos) open-line) (looking-at "[ \t]*$"))
        (forward-line -1))
      (when (and (> (line-number-at-pos) open-line)
                 (not (progn (end-of-line)
                             (looking-back kgp--closed-regexp
                                           (line-beginning-position)))))
        (kgp--statement-start)
        (when (looking-at kgp--control-regexp)
          (+ (current-indentation) kgp-indent-offset))))))

(defun kgp--indentation ()
  "The column that the current line should be indented to."
  (save-excursion
    (back-to-indentation)
    (let* ((ppss (syntax-ppss))
           (open (nth 1 ppss)))
      (cond
       ;; The middle or end of a /* comment: under its first *.
       ((and (nth 4 ppss) (looking-at "\\*"))
        (goto-char (nth 8 ppss))
        (1+ (current-column)))
       ;; Inside a string (not valid in specs): leave the line alone.
       ((nth 3 ppss) (current-indentation))
       ((null open) 0)
       ;; Inside parentheses: after the (.
       ((eq (char-after open) ?\()
        (goto-char open)
        (1+ (current-column)))
       ;; Inside braces: one level deeper than the line that opens them.
       (t
        (let ((base (save-excursion (goto-char open)
                                    (kgp--statement-start)
                                    (current-indentation))))
          (cond
           ((looking-at "}") base)
           ((and (not (looking-at "{"))
                 (kgp--braceless-body-indentation open)))
           (t (+ base kgp-indent-offset)))))))))

(defun kgp-indent-line ()
  "Indent the current line of a .kgp spec."
  (interactive)
  (let ((column (kgp--indentation)))
    (if (<= (current-column) (current-indentation))
        (indent-line-to column)
      (save-excursion (indent-line-to column)))))

;;;; The mode

(defvar kgp-imenu-generic-expression
  `(("Objects" ,(concat "^[ \t]*object[ \t]+\\(" kgp--name "\\)") 1)
    ("Shadows" ,(concat "^[ \t]*\\(?:shadow\\|template\\)[ \t]+\\("
                        kgp--identifier "\\)")
     1)
    ("States" ,(concat "^[ \t]*state[ \t]+\\(" kgp--identifier "\\)") 1)
    ("Helpers" ,(concat "^[ \t]*helper[^(\n]*\\_<\\(" kgp--identifier
                        "\\)[ \t]*(")
     1)
    ("Replacements" ,(concat "^[ \t]*replace[^({\n]*\\_<\\(" kgp--identifier
                             "\\)[ \t]*[({]")
     1))
  "Imenu entries of a spec.")

;;;###autoload
(define-derived-mode kgp-mode prog-mode "kgp"
  "Major mode for kgpc's .kgp Linux live-patch specs.

\\{kgp-mode-map}"
  :syntax-table kgp-mode-syntax-table
  (setq-local comment-start "# ")
  (setq-local comment-end "")
  (setq-local comment-start-skip "#+[ \t]*")
  (setq-local syntax-propertize-function #'kgp--syntax-propertize)
  (setq-local font-lock-defaults '(kgp-font-lock-keywords))
  (setq-local indent-line-function #'kgp-indent-line)
  (setq-local indent-tabs-mode nil)
  (setq-local electric-indent-chars (append "{}()" electric-indent-chars))
  (setq-local imenu-generic-expression kgp-imenu-generic-expression))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.kgp\\'" . kgp-mode))

(provide 'kgp-mode)

;;; kgp-mode.el ends here
