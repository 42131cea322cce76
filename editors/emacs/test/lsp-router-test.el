;;; lsp-router-test.el --- headless test of lsp-router.el with lsp-mode  -*- lexical-binding: t; -*-

;; Run through editors/emacs/test/run.sh, which builds the binary, starts
;; the Ollama double and sets LSP_ROUTER_BIN, LSP_ROUTER_TEST_URL,
;; LSP_ROUTER_TEST_WS and LSP_ROUTER_TEST_TMP.

;;; Code:

(require 'ert)
(require 'package)

;; Debian's elpa-* packages live in /usr/share/emacs/site-lisp/elpa; -Q
;; skips the site start-up that activates them.
(let ((tmp (getenv "LSP_ROUTER_TEST_TMP")))
  (setq package-user-dir (expand-file-name "elpa" tmp)
        user-emacs-directory (file-name-as-directory (expand-file-name "emacs.d" tmp))
        package-directory-list '("/usr/share/emacs/site-lisp/elpa")))
(package-initialize)
(require 'lsp-mode)
(require 'go-mode)

(defvar lrt-tmp (getenv "LSP_ROUTER_TEST_TMP"))
(defvar lrt-ws (getenv "LSP_ROUTER_TEST_WS"))
(defvar lrt-errors nil "Failures lsp-router.el reported, newest first.")

(setq lsp-session-file (expand-file-name "lsp-session" lrt-tmp)
      lsp-server-install-dir (expand-file-name "lsp-servers" lrt-tmp)
      lsp-auto-guess-root nil
      lsp-restart 'ignore
      lsp-keep-workspace-alive nil
      lsp-enable-file-watchers nil
      lsp-enable-snippet nil
      lsp-headerline-breadcrumb-enable nil
      lsp-modeline-code-actions-enable nil
      lsp-modeline-diagnostics-enable nil
      lsp-lens-enable nil
      lsp-diagnostics-provider :none
      lsp-log-io nil
      lsp-response-timeout 30
      ;; gopls from PATH (run.sh puts $(go env GOPATH)/bin on it).
      lsp-go-gopls-server-path (or (executable-find "gopls") "gopls"))

(defun lrt-options (url)
  "Settings with the Ollama double at URL as the only service, no Serena."
  `(:services (:ollama (:endpoint ,url)
               ,@(apply #'append
                        (mapcar (lambda (k) (list (intern (concat ":" k)) '(:enabled :json-false)))
                                '("lmstudio" "jan" "openwebui" "localai" "vllm" "llamacpp"
                                  "koboldcpp" "gpt4all" "textgenwebui" "tgi" "sglang"))))
    :serena (:enabled :json-false)
    :security (:audit_log_path ,(expand-file-name "audit.log" lrt-tmp))))

(setq lsp-router-executable (getenv "LSP_ROUTER_BIN")
      lsp-router-server-args (list "serve" "--log-level" "debug"
                                   "--log-file" (expand-file-name "lsp-router.log" lrt-tmp))
      lsp-router-initialization-options (lrt-options (getenv "LSP_ROUTER_TEST_URL")))

(advice-add 'lsp-router--failed :before
            (lambda (action msg) (push (format "%s: %s" action msg) lrt-errors)))

(defun lrt-wait (seconds what pred)
  "Wait up to SECONDS for PRED, failing with WHAT; a reported error ends it early."
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline) (not lrt-errors))
      (accept-process-output nil 0.05))
    (when lrt-errors
      (ert-fail (format "lsp-router reported: %s (while waiting for %s)" (car lrt-errors) what)))
    (unless (funcall pred)
      (ert-fail (format "timed out after %ss waiting for %s\n--- *Messages*:\n%s" seconds what
                        (with-current-buffer (messages-buffer)
                          (buffer-substring-no-properties (max (point-min) (- (point-max) 3000)) (point-max))))))))

(defun lrt-workspace (server-id)
  "The initialized lsp-mode workspace of SERVER-ID in this buffer."
  (cl-find-if (lambda (ws)
                (and (eq (lsp--client-server-id (lsp--workspace-client ws)) server-id)
                     (eq (lsp--workspace-status ws) 'initialized)))
              (lsp-workspaces)))

(defun lrt-goto (needle)
  (goto-char (point-min))
  (search-forward needle)
  (goto-char (match-beginning 0)))

(defun lrt-undo ()
  "One `undo', as the user's first C-/ after the edit."
  (let ((last-command nil))
    (undo)))

(defun lrt-run-edit (what thunk)
  "Run THUNK (an edit command) and wait until the buffer changes."
  (let ((before (buffer-string)))
    (undo-boundary)
    (setq lrt-errors nil)
    (funcall thunk)
    ;; The command returned before the edit came: it did not wait for the
    ;; model (a blocking request would have applied the edit meanwhile).
    (should (equal (buffer-string) before))
    (lrt-wait 60 (concat what " to change the buffer")
              (lambda () (not (equal (buffer-string) before))))
    before))

(ert-deftest lsp-router-beside-gopls ()
  (lsp-router-lsp-mode-setup)
  (lsp-workspace-folders-add lrt-ws)
  (find-file (expand-file-name "greet.go" lrt-ws))
  (should (eq major-mode 'go-mode))
  (lsp)
  (lrt-wait 60 "gopls and lsp-router to initialize"
            (lambda () (and (lrt-workspace 'gopls) (lrt-workspace 'lsp-router))))
  (let ((original (buffer-string)))

    ;; Document: a doc comment replaces the old one; one undo restores.
    (lrt-goto "func Greet")
    (lrt-run-edit "Document" #'lsp-router-document)
    (should (string-match-p "^// Greet returns the greeting for name\\.\nfunc Greet" (buffer-string)))
    (should-not (string-match-p "Ünïcødé" (buffer-string)))
    (should (string-match-p "\treturn \"Hello, \" \\+ name\n" (buffer-string)))
    (lrt-undo)
    (should (equal (buffer-string) original))

    ;; Refactor with the instruction the minibuffer reads.
    (lrt-goto "func Greet")
    (lrt-run-edit "Refactor"
                  (lambda ()
                    ;; Batch Emacs reads the minibuffer from stdin: answer
                    ;; the prompt the command's interactive spec shows.
                    (cl-letf (((symbol-function 'read-string)
                               (lambda (prompt &rest _)
                                 (should (string-prefix-p "Refactor how" prompt))
                                 "build the greeting first")))
                      (call-interactively #'lsp-router-refactor))))
    (should (string-match-p "\tgreeting := \"Hello, \" \\+ name \\+ \"!\"\n\treturn greeting\n}" (buffer-string)))
    (should (string-prefix-p "package greet\n" (buffer-string)))
    (should-not (string-match-p "```" (buffer-string)))
    (lrt-undo)
    (should (equal (buffer-string) original))

    ;; Refactor with an empty instruction and a marker comment: the marker
    ;; goes with the edit, and the same single undo brings it back.
    (lrt-goto "func Greet")
    (insert "// lsp-router: build the greeting first\n")
    (forward-line -1)
    (end-of-line)
    (let ((with-marker (buffer-string)))
      (lrt-run-edit "Refactor from a marker" (lambda () (lsp-router-refactor "")))
      (should (string-match-p "\treturn greeting\n}" (buffer-string)))
      (should-not (string-match-p "lsp-router:" (buffer-string)))
      (lrt-undo)
      (should (equal (buffer-string) with-marker)))
    (lrt-goto "// lsp-router:")
    (delete-region (point) (progn (forward-line 1) (point)))
    (should (equal (buffer-string) original))

    ;; Explain, picked from lsp-mode's code actions (the server's menu):
    ;; the answer opens in *lsp-router* as Markdown.
    (lrt-goto "Greet(name")
    (setq lrt-errors nil)
    (when (get-buffer "*lsp-router*") (kill-buffer "*lsp-router*"))
    (let ((action (cl-find-if (lambda (a) (equal (lsp-router--get a "title") "lsp-router: Explain"))
                              (lsp-code-actions-at-point))))
      (should action)
      (lsp-execute-code-action action))
    (lrt-wait 60 "the answer in *lsp-router*"
              (lambda () (and (get-buffer "*lsp-router*")
                              (with-current-buffer "*lsp-router*"
                                (string-match-p "built in a variable first" (buffer-string))))))
    (with-current-buffer "*lsp-router*"
      (should (string-match-p "^# lsp-router explain (" (buffer-string)))
      (should buffer-read-only))

    ;; gopls still reports diagnostics: an undefined name.  Its copy of the
    ;; text followed every edit and undo above, else this line would not
    ;; be where it is diagnosed (or a syntax error would be reported).
    (goto-char (point-max))
    (insert "\nfunc broken() int { return undefinedThing }\n")
    (lrt-wait 60 "gopls' diagnostic for undefinedThing"
              (lambda ()
                (let ((diags (gethash (lsp--fix-path-casing buffer-file-name) (lsp-diagnostics t))))
                  (and (= (length diags) 1)
                       (string-match-p "undefined: undefinedThing" (lsp-router--get (car diags) "message"))
                       (= (lsp-router--get (lsp-router--get (lsp-router--get (car diags) "range") "start") "line")
                          (- (line-number-at-pos (point-max)) 2))))))
    (should (lrt-workspace 'gopls))

    ;; Cancel with nothing running says so.
    (let ((mark (with-current-buffer (messages-buffer) (point-max))))
      (lsp-router-cancel)
      (lrt-wait 30 "the cancel report"
                (lambda () (with-current-buffer (messages-buffer)
                             (save-excursion (goto-char mark)
                                             (search-forward "lsp-router: cancelled 0 running command(s)" nil t))))))
    (set-buffer-modified-p nil)))

(ert-deftest lsp-router-with-eglot ()
  "eglot with lsp-router in place of gopls: asynchronous commands, answers
in *lsp-router*, an Ask from a marker comment, errors as one line."
  (require 'eglot)
  (setq eglot-confirm-server-initiated-edits nil
        eglot-sync-connect 10)
  (let ((ws (expand-file-name "ws-eglot" lrt-tmp)))
    (copy-directory lrt-ws ws nil nil t)
    (lsp-router-eglot-setup '(go-mode))
    (find-file (expand-file-name "greet.go" ws))
    (when (bound-and-true-p lsp-mode) (lsp-mode -1))
    ;; What `eglot-ensure' does after the next command (batch Emacs runs no
    ;; command loop).
    (apply #'eglot (eglot--guess-contact))
    (lrt-wait 30 "eglot to connect to lsp-router" #'lsp-router--eglot-server)
    (let ((original (buffer-string)))

      ;; Refactor, picked from eglot's code actions as `eglot-code-actions'
      ;; runs it: the instruction is read in the minibuffer, the command
      ;; sent asynchronously, the edit applied by eglot; one undo.
      (lrt-goto "func Greet")
      (let* ((server (lsp-router--eglot-server))
             (action (cl-find-if (lambda (a) (equal (plist-get a :title) "lsp-router: Refactor…"))
                                 (eglot-code-actions (point) (point))))
             (command (plist-get action :command)))
        (should command)
        (lrt-run-edit "Refactor under eglot"
                      (lambda ()
                        (cl-letf (((symbol-function 'read-string)
                                   (lambda (prompt &rest _)
                                     (should (string-prefix-p "Refactor how" prompt))
                                     "build the greeting first")))
                          (eglot-execute-command server (intern (plist-get command :command))
                                                 (plist-get command :arguments))))))
      (should (string-match-p "\treturn greeting\n}" (buffer-string)))
      (lrt-undo)
      (should (equal (buffer-string) original))

      ;; Ask from a marker comment: the answer opens in *lsp-router*.
      (lrt-goto "func Greet")
      (insert "// lsp-router: why a plus and not fmt.Sprintf?\n")
      (forward-line -1)
      (when (get-buffer "*lsp-router*") (kill-buffer "*lsp-router*"))
      (setq lrt-errors nil)
      (lsp-router-ask "")
      (lrt-wait 30 "the Ask answer in *lsp-router*"
                (lambda () (and (get-buffer "*lsp-router*")
                                (with-current-buffer "*lsp-router*"
                                  (string-match-p "^# lsp-router ask (" (buffer-string))))))

      ;; Ask with neither a question nor a marker: one line that says how.
      (goto-char (point-min))
      (let ((mark (with-current-buffer (messages-buffer) (point-max))))
        (lsp-router-ask "")
        (let ((deadline (+ (float-time) 30)) found)
          (while (and (not found) (< (float-time) deadline))
            (accept-process-output nil 0.05)
            (setq found (with-current-buffer (messages-buffer)
                          (save-excursion
                            (goto-char mark)
                            (re-search-forward "no question to ask.*// lsp-router: " nil t)))))
          (should found)
          (with-current-buffer (messages-buffer)
            (should-not (string-match-p "Neovim" (buffer-substring mark (point-max)))))))
      (setq lrt-errors nil)
      (set-buffer-modified-p nil))))

;; Editor-provided context: lsp-router asks Emacs, Emacs asks gopls.

(defun lrt-list-module ()
  "A module holding a copy of $GOROOT/src/container/list/list.go."
  (let* ((goroot (string-trim (shell-command-to-string "go env GOROOT")))
         (src (expand-file-name "src/container/list/list.go" goroot))
         (dir (expand-file-name "listmod" lrt-tmp)))
    (unless (file-readable-p src)
      (ert-skip (format "%s not found" src)))
    (make-directory dir t)
    (with-temp-file (expand-file-name "go.mod" dir)
      (insert "module example.test/list\n\ngo 1.22\n"))
    (copy-file src (expand-file-name "list.go" dir) t)
    dir))

(ert-deftest lsp-router-editor-context ()
  "Explain on a method of container/list sends a prompt with its body, the
hover text of the editor's gopls and its references, while lsp-router
starts no language server of its own."
  (lsp-router-lsp-mode-setup)
  (let* ((dir (lrt-list-module))
         ;; lsp-router's own Go server is a wrapper that leaves a mark
         ;; when started.
         (mark (expand-file-name "own-gopls-started" lrt-tmp))
         (wrapper (expand-file-name "own-gopls.sh" lrt-tmp))
         (lsp-router-initialization-options
          (append (lrt-options (getenv "LSP_ROUTER_TEST_ECHO_URL"))
                  (list :language_servers (list :go (list :command (vector wrapper)))))))
    (with-temp-file wrapper
      (insert "#!/bin/sh\necho started >> " (shell-quote-argument mark) "\nexec gopls \"$@\"\n"))
    (set-file-modes wrapper #o700)
    (lsp-workspace-folders-add dir)
    (find-file (expand-file-name "list.go" dir))
    (lsp)
    (lrt-wait 60 "gopls and lsp-router to initialize"
              (lambda () (and (lrt-workspace 'gopls) (lrt-workspace 'lsp-router))))
    ;; Wait until the editor's gopls has loaded the package.
    (let ((gopls (lrt-workspace 'gopls)))
      (lrt-wait 60 "the editor's gopls to answer documentSymbol"
                (lambda ()
                  (let ((lsp--cur-workspace gopls))
                    (> (length (lsp-request "textDocument/documentSymbol"
                                            (list :textDocument (list :uri (lsp--buffer-uri)))))
                       0)))))
    (lrt-goto "\tif e == at {")
    (when (get-buffer "*lsp-router*") (kill-buffer "*lsp-router*"))
    (setq lrt-errors nil)
    (lsp-router-explain)
    (lrt-wait 90 "the echoed prompt in *lsp-router*"
              (lambda () (and (get-buffer "*lsp-router*")
                              (with-current-buffer "*lsp-router*"
                                (string-match-p "## Task" (buffer-string))))))
    (let ((shown (with-current-buffer "*lsp-router*" (buffer-substring-no-properties (point-min) (point-max)))))
      (cl-flet ((has (what needle)
                  (unless (string-search needle shown)
                    (ert-fail (format "%s: %S not in the prompt:\n%s" what needle shown)))))
        ;; The method and its body, found through the editor's documentSymbol.
        (has "symbol from documentSymbol" "Method `List/move`")
        (has "method body" "func (l *List) move(e, at *Element) {\n\tif e == at {")
        ;; gopls' hover spells the parameters out; the source does not.
        (has "hover section" "## Type information")
        (has "hover text from the editor's gopls" "func (l *List) move(e *Element, at *Element)")
        (has "references section" "## References")
        (has "a reference snippet" "l.move(e, mark.prev)")))
    (should-not (file-exists-p mark))
    (set-buffer-modified-p nil)))

(ert-deftest lsp-router-context-unknown-file ()
  "A context request about a file no buffer visits is answered with null."
  (let ((answer 'none)
        (params (list :textDocument (list :uri (concat "file://" (expand-file-name "not-open.go" lrt-tmp)))
                      :position (list :line 0 :character 0))))
    (funcall (lsp-router--lsp-context-handler "lsp-router/context/hover") nil params
             (lambda (r) (setq answer r)))
    (should (null answer))
    (funcall (lsp-router--lsp-context-handler "lsp-router/context/diagnostics") nil params
             (lambda (r) (setq answer r)))
    (should (null answer))))

(ert-deftest lsp-router-context-first-non-empty-in-order ()
  "The first server's answer wins even when a later one answers first;
empty answers are skipped; a result list goes out as an array."
  (should-not (lsp-router--context-decided-p (vector 'pending "b")))
  (should (lsp-router--context-decided-p (vector nil [] "b" 'pending)))
  (should (lsp-router--context-decided-p (vector nil (make-hash-table))))
  (should (lsp-router--empty-p []))
  (should-not (lsp-router--empty-p (vector 1)))
  (should (equal (lsp-router--json-value (list 1 2)) [1 2]))
  (should (equal (lsp-router--json-value '(:a 1)) '(:a 1))))

;;; lsp-router-test.el ends here
