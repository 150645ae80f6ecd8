;;; kgp-mode-tests.el --- ERT tests of kgp-mode  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run from the repository's root:
;;
;;   emacs -Q --batch -L editors/emacs -l kgp-mode-tests.el \
;;     -f ert-run-tests-batch-and-exit
;;
;; The tests fontify and indent `kgp-test-sample', a spec with every
;; construct of the language, and check faces at given places, the
;; C blocks' syntax and the indentation.

;;; Code:

(require 'ert)
(require 'kgp-mode)

(defconst kgp-test-sample
  "# A spec with every construct, indented as kgp-mode indents it.
patch cve-2024-26581 {
    description \"A \\\"quoted\\\" word\\n, and a bad \\q escape\"
    reference cve \"CVE-2024-26581\"
    author \"Jane Hacker <jane@example.org>\"
    cumulative
}

target {
    release \"6.1.0-*-cloud-amd64\" \"6.1.0-*-amd64\"
    arch x86_64
    version 6.1
    build_id \"0123456789abcdef\"
}

import std/shadow_lock
import \"common.kgp\"
include <linux/seq_file.h>
fix \"0001-fs-proc-fix.patch\"
fix \"\"\"
--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -7,1 +7,1 @@ { # not a comment, \"not\" a string
-\tseq_putc(m, '\\n');
\"\"\"

data {
    #define PERIOD 4
    static const char *open = \"{\";
    static char close = '}';
    struct dummy {
        int patch, data;
    };
}

shadow leak for struct dummy like lock {
    id 0x10
    gfp GFP_NOWAIT | __GFP_NOWARN
    keep
    payload {
        int *leak;
    }
    ctor {
        return 0;
    }
    dtor {
        kfree(shadow->leak);
    }
}

template counter {
    gfp GFP_ATOMIC
}

state fix_state {
    id 0x5eed
    version 2
}

helper static unsigned long count_call(void) {
    return 0;
}

requires CONFIG_BT else skip

object vmlinux {
    requires CONFIG_PROC_FS
    extern char *saved_command_line;
    extern int some_static_function(int arg) sympos 2;

    replace static int cmdline_proc_show(struct seq_file *m,
                                         void *v) in \"fs/proc/cmdline.c\" {
        char brace = '}';   /* } */

        /*
         * Braces in strings, characters and comments do not count: {
         */
        if (m) {
            seq_printf(m, \"%s\\n\", \"patched {\");
        } else if (!v)
            return -EINVAL;
        else
            return -ENOENT;
        return 0;
    }

    replace int meminfo_proc_show(struct seq_file *m, void *v) sympos 1 body \"fix.c\"

    replace stripe_io_hints in \"drivers/md/dm-stripe.c\" fix \"\"\"
    @@ -456,1 +456,1 @@ {
    -\tx = 1;
      }
    \"\"\"

    pre_patch {
        return 0;
    }
    post_patch {
    }
    pre_unpatch {
    }
    post_unpatch {
    }
}

api states since 5.5

test {
    load \"../target-modules/livepatch-shadow-mod\"
    patch_first \"cumulative-v1.kgp\"
    fixed \"cat /proc/cmdline\" contains \"patched\"
    always \"cat /proc/version\" contains \"Linux\"
    file \"tools/run.sh\"
    program \"probe.c\"
    setup \"mkdir -p /tmp/x\"
    reload \"../target-modules/livepatch-shadow-mod\"
    always \"probe\" exits 0 lacks \"EINVAL\"
    dmesg loaded \"livepatch: enabling patch 'livepatch_sample'\"
    dmesg unloaded \"post_unpatch: vmlinux\"
    refused \"not compatible\"
    workload \"while :; do cat /proc/cmdline; done\"
}
"
  "A spec with every construct of the language.")

(defmacro kgp-test-with-sample (&rest body)
  "Run BODY in a fontified `kgp-mode' buffer holding `kgp-test-sample'."
  (declare (indent 0) (debug t))
  `(with-temp-buffer
     (insert kgp-test-sample)
     (kgp-mode)
     (font-lock-ensure)
     (goto-char (point-min))
     ,@body))

(defun kgp-test-position (line-regexp text)
  "The position of TEXT in the first line that matches LINE-REGEXP."
  (save-excursion
    (goto-char (point-min))
    (unless (re-search-forward line-regexp nil t)
      (error "No line matches %S" line-regexp))
    (beginning-of-line)
    (unless (search-forward text (line-end-position) t)
      (error "No %S on line %d" text (line-number-at-pos)))
    (match-beginning 0)))

(defun kgp-test-faces (line-regexp text)
  "The faces at TEXT in the first line matching LINE-REGEXP, as a list."
  (let ((face (get-text-property (kgp-test-position line-regexp text) 'face)))
    (if (listp face) face (list face))))

(defconst kgp-test-expected-faces
  '(("^# A spec" "#" font-lock-comment-delimiter-face)
    ("^# A spec" "spec" font-lock-comment-face)
    ("^patch" "patch" font-lock-keyword-face)
    ("^patch" "cve-2024-26581" font-lock-constant-face)
    ("description" "description" font-lock-keyword-face)
    ("description" "\"A" font-lock-string-face)
    ("description" "\\\"" font-lock-constant-face)
    ("description" "\\n" font-lock-constant-face)
    ("description" "\\q" font-lock-warning-face)
    ("reference" "reference" font-lock-keyword-face)
    ("reference" "cve" font-lock-constant-face)
    ("author" "author" font-lock-keyword-face)
    ("cumulative" "cumulative" font-lock-keyword-face)
    ("^target" "target" font-lock-keyword-face)
    ("release" "release" font-lock-keyword-face)
    ("arch" "arch" font-lock-keyword-face)
    ("arch" "x86_64" font-lock-constant-face)
    ("version 6" "version" font-lock-keyword-face)
    ("version 6" "6.1" font-lock-constant-face)
    ("build_id" "build_id" font-lock-keyword-face)
    ("^import std" "import" font-lock-keyword-face)
    ("^import std" "std/shadow_lock" font-lock-constant-face)
    ("^import \"" "\"common" font-lock-string-face)
    ("^include" "include" font-lock-keyword-face)
    ("^include" "<linux" font-lock-string-face)
    ("^fix" "fix" font-lock-keyword-face)
    ("^fix" "\"0001" font-lock-string-face)
    ("^data" "data" font-lock-keyword-face)
    ("#define" "#define" font-lock-preprocessor-face)
    ("open = " "static" font-lock-keyword-face)
    ("open = " "char" font-lock-type-face)
    ("open = " "\"{\"" font-lock-string-face)
    ("close = " "'}'" font-lock-string-face)
    ("^shadow" "shadow" font-lock-keyword-face)
    ("^shadow" "leak" font-lock-type-face)
    ("^shadow" "for" font-lock-keyword-face)
    ("^shadow" "struct" font-lock-type-face)
    ("^shadow" "like" font-lock-keyword-face)
    ("^shadow" "lock" font-lock-type-face)
    ("id 0x10" "id" font-lock-keyword-face)
    ("id 0x10" "0x10" font-lock-constant-face)
    ("gfp GFP_NOWAIT" "gfp" font-lock-keyword-face)
    ("^ *keep" "keep" font-lock-keyword-face)
    ("payload" "payload" font-lock-keyword-face)
    ("ctor" "ctor" font-lock-keyword-face)
    ("dtor" "dtor" font-lock-keyword-face)
    ("^template" "template" font-lock-keyword-face)
    ("^template" "counter" font-lock-type-face)
    ("^state" "state" font-lock-keyword-face)
    ("^helper" "helper" font-lock-keyword-face)
    ("^helper" "count_call" font-lock-function-name-face)
    ("^object" "object" font-lock-keyword-face)
    ("^object" "vmlinux" font-lock-constant-face)
    ("saved_command_line" "extern" font-lock-keyword-face)
    ("some_static_function" "sympos" font-lock-keyword-face)
    ("some_static_function" "2" font-lock-constant-face)
    ("cmdline_proc_show" "replace" font-lock-keyword-face)
    ("cmdline_proc_show" "cmdline_proc_show" font-lock-function-name-face)
    ("void \\*v) in" "in" font-lock-keyword-face)
    ("void \\*v) in" "\"fs/" font-lock-string-face)
    ("brace = " "/*" font-lock-comment-face)
    ("seq_printf" "\"%s" font-lock-string-face)
    ("} else if" "else" font-lock-keyword-face)
    ("return -EINVAL" "return" font-lock-keyword-face)
    ("meminfo_proc_show" "body" font-lock-keyword-face)
    ("stripe_io_hints" "fix" font-lock-keyword-face)
    ("^@@ -7" "# not" font-lock-string-face)
    ("^@@ -7" "\"not" font-lock-string-face)
    ("x = 1" "x" font-lock-string-face)
    ("pre_patch" "pre_patch" font-lock-keyword-face)
    ("post_patch" "post_patch" font-lock-keyword-face)
    ("pre_unpatch" "pre_unpatch" font-lock-keyword-face)
    ("post_unpatch" "post_unpatch" font-lock-keyword-face)
    ("^api" "api" font-lock-keyword-face)
    ("^api" "states" font-lock-constant-face)
    ("^api" "since" font-lock-keyword-face)
    ("^api" "5.5" font-lock-constant-face)
    ("^test" "test" font-lock-keyword-face)
    ("^ *load" "load" font-lock-keyword-face)
    ("patch_first" "patch_first" font-lock-keyword-face)
    ("^ *fixed" "fixed" font-lock-keyword-face)
    ("^ *fixed" "contains" font-lock-keyword-face)
    ("^ *always" "always" font-lock-keyword-face)
    ("^ *file" "file" font-lock-keyword-face)
    ("^ *program" "program" font-lock-keyword-face)
    ("^ *setup" "setup" font-lock-keyword-face)
    ("^ *reload" "reload" font-lock-keyword-face)
    ("exits 0" "exits" font-lock-keyword-face)
    ("exits 0" "lacks" font-lock-keyword-face)
    ("dmesg loaded" "dmesg" font-lock-keyword-face)
    ("dmesg loaded" "loaded" font-lock-keyword-face)
    ("dmesg loaded" "'livepatch_sample'" font-lock-string-face)
    ("dmesg unloaded" "unloaded" font-lock-keyword-face)
    ("refused" "refused" font-lock-keyword-face)
    ("^ *workload" "workload" font-lock-keyword-face)
    ("^requires CONFIG_BT" "requires" font-lock-keyword-face)
    ("^requires CONFIG_BT" "CONFIG_BT" font-lock-constant-face)
    ("^requires CONFIG_BT" "else" font-lock-keyword-face)
    ("^requires CONFIG_BT" "skip" font-lock-keyword-face)
    ("CONFIG_PROC_FS" "requires" font-lock-keyword-face))
  "Places of `kgp-test-sample' and their faces: line regexp, text, face.")

(ert-deftest kgp-mode-compiles-without-warnings ()
  (let* ((source (locate-library "kgp-mode.el" t))
         (dest (make-temp-file "kgp-mode" nil ".elc"))
         (byte-compile-dest-file-function (lambda (_) dest))
         (byte-compile-error-on-warn t))
    (unwind-protect
        (should (byte-compile-file source))
      (delete-file dest))))

(ert-deftest kgp-mode-opens-kgp-files ()
  (should (eq (assoc-default "/tmp/fix.kgp" auto-mode-alist #'string-match)
              'kgp-mode)))

(ert-deftest kgp-mode-faces ()
  (kgp-test-with-sample
    (dolist (check kgp-test-expected-faces)
      (pcase-let ((`(,line ,text ,face) check))
        (should (equal (list line text
                             (car (memq face (kgp-test-faces line text))))
                       (list line text face)))))))

(ert-deftest kgp-mode-c-blocks-are-c ()
  (kgp-test-with-sample
    ;; A # in a C block is the preprocessor's, not a spec comment.
    (let ((define (kgp-test-position "#define" "PERIOD")))
      (should-not (nth 4 (syntax-ppss define)))
      (should (kgp--in-c-block-p (syntax-ppss define))))
    ;; Spec keywords are not highlighted in C blocks.
    (should-not (memq 'font-lock-keyword-face
                      (kgp-test-faces "int patch, data" "patch")))
    (should-not (memq 'font-lock-keyword-face
                      (kgp-test-faces "int patch, data" "data")))
    ;; Braces in C strings, characters and comments do not count: the
    ;; blocks end where they should.
    (should (= 0 (car (syntax-ppss (kgp-test-position "^shadow" "shadow")))))
    (should (= 1 (car (syntax-ppss (kgp-test-position "meminfo" "replace")))))
    (should (= 0 (car (syntax-ppss (kgp-test-position "^api" "api")))))
    ;; A text block is text: its braces, quotes and #s do not count.
    (should (= 0 (car (syntax-ppss (kgp-test-position "^data" "data")))))
    (should (nth 3 (syntax-ppss (kgp-test-position "^@@ -7" "# not"))))
    (should-not (nth 4 (syntax-ppss (kgp-test-position "^@@ -7" "# not"))))
    (should (= 1 (car (syntax-ppss (kgp-test-position "pre_patch" "pre_patch")))))
    ;; Spec blocks are not C blocks; their C blocks are.
    (should-not (kgp--in-c-block-p
                 (syntax-ppss (kgp-test-position "id 0x10" "id"))))
    (should (kgp--in-c-block-p
             (syntax-ppss (kgp-test-position "int \\*leak" "int"))))
    (should-not (kgp--in-c-block-p
                 (syntax-ppss (kgp-test-position "void \\*v) in" "void"))))))

(ert-deftest kgp-mode-comments ()
  (kgp-test-with-sample
    (should (equal comment-start "# "))
    (goto-char (kgp-test-position "^api" "api"))
    (comment-region (point) (line-end-position))
    (should (looking-at "# api states since 5.5$"))))

(ert-deftest kgp-mode-indents-the-sample ()
  (with-temp-buffer
    (insert kgp-test-sample)
    (kgp-mode)
    (goto-char (point-min))
    ;; The lines of a text block keep their indentation, which is text.
    (while (re-search-forward "^[ \t]+" nil t)
      (unless (save-match-data
                (nth 3 (save-excursion (syntax-ppss (match-beginning 0)))))
        (replace-match "")))
    (indent-region (point-min) (point-max))
    (let ((expected (split-string kgp-test-sample "\n"))
          (got (split-string (buffer-string) "\n")))
      (should (equal (length got) (length expected)))
      (dotimes (i (length expected))
        (should (equal (list (1+ i) (nth i got))
                       (list (1+ i) (nth i expected))))))))

(ert-deftest kgp-mode-indents-a-new-line ()
  (with-temp-buffer
    (kgp-mode)
    (insert "object vmlinux {\npre_patch {\nreturn 0;\n}")
    (indent-region (point-min) (point-max))
    (should (equal (buffer-string)
                   "object vmlinux {\n    pre_patch {\n        return 0;\n    }"))
    (insert "\n}")
    (kgp-indent-line)
    (should (equal (buffer-substring (line-beginning-position) (point)) "}"))))

(provide 'kgp-mode-tests)

;;; kgp-mode-tests.el ends here
