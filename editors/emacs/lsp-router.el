;;; lsp-router.el --- AI code actions from local LLM servers, beside your language server  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: languages, tools
;; URL: see the lsp-router repository (editors/emacs)

;;; Commentary:

;; lsp-router is a language server that routes AI code actions (Explain,
;; Refactor, Document, Fix, Write tests, Ask) to LLM servers on your own
;; network.  This package connects it to Emacs:
;;
;; - lsp-mode (recommended): `lsp-router-lsp-mode-setup' registers
;;   lsp-router as an ADD-ON server.  lsp-mode then runs it beside gopls,
;;   pyright... in the same buffer: completion, hover, definitions and
;;   diagnostics still come from your language server.  lsp-router's
;;   code context (symbols, hover, references, definitions, diagnostics)
;;   comes from those servers too, asked through lsp-mode, so lsp-router
;;   starts no language server of its own.
;;
;; - eglot: eglot runs ONE server per major mode, so lsp-router can only
;;   take the place of gopls there (no completion, hover, definitions or
;;   diagnostics from gopls while it runs).  `lsp-router-eglot-setup' does
;;   that explicitly, for the modes you name.  To keep gopls under eglot,
;;   put both behind an LSP multiplexer (one process that eglot starts,
;;   which starts gopls and `lsp-router serve' and merges their answers)
;;   and give eglot the multiplexer's command instead; or use lsp-mode.
;;   A second eglot connection for the same buffer is not possible: eglot
;;   keys its servers by project and major mode.
;;
;; Both ways, the commands below run asynchronously (Emacs never waits for a
;; model), edits arrive as ordinary LSP edits (one `undo' reverts one), and
;; answers (Explain, Ask, tests the editor could not write) open in the
;; Markdown buffer *lsp-router*, not the echo area.
;;
;;   M-x lsp-router-explain    explain the symbol or region
;;   M-x lsp-router-refactor   rewrite it; the instruction is read in the minibuffer
;;   M-x lsp-router-document   write its doc comment
;;   M-x lsp-router-fix        fix the diagnostics at point
;;   M-x lsp-router-tests      write tests for it
;;   M-x lsp-router-ask        ask a question about it (read in the minibuffer)
;;   M-x lsp-router-cancel     cancel what runs
;;
;; An empty instruction or question is fine when the code has a marker
;; comment on the line at point or just above it, e.g.
;;   // lsp-router: use slices.Reverse
;; lsp-router then takes the instruction from it and a refactor deletes it.
;; The code actions the server offers (`lsp-execute-code-action',
;; `eglot-code-actions') run through the same asynchronous path.

;;; Code:

(require 'cl-lib)
(require 'eieio)
(require 'seq)
(require 'url-parse)
(require 'url-util)
(require 'subr-x)

(declare-function lsp-register-client "lsp-mode")
(declare-function make-lsp-client "lsp-mode")
(declare-function lsp-stdio-connection "lsp-mode")
(declare-function lsp-request-async "lsp-mode")
(declare-function lsp--workspace-diagnostics "lsp-mode")
(declare-function lsp--uri-to-path "lsp-mode")
(declare-function lsp-workspaces "lsp-mode")
(declare-function lsp--workspace-client "lsp-mode")
(declare-function lsp--client-server-id "lsp-mode")
(declare-function lsp--apply-workspace-edit "lsp-mode")
(declare-function lsp--buffer-uri "lsp-mode")
(declare-function lsp-diagnostics "lsp-mode")
(declare-function lsp--fix-path-casing "lsp-mode")
(declare-function eglot-current-server "eglot")
(declare-function gfm-view-mode "markdown-mode")
(declare-function lsp-router-eglot-server--eieio-childp "lsp-router")
(declare-function eglot--path-to-uri "eglot")
(declare-function eglot--uri-to-path "eglot")
(declare-function eglot--signal-textDocument/didChange "eglot")
(declare-function jsonrpc-async-request "jsonrpc")
(defvar lsp--cur-version)
(defvar lsp--cur-workspace)
(defvar lsp--buffer-workspaces)
(defvar lsp-language-id-configuration)
(defvar eglot--versioned-identifier)
(defvar eglot-server-programs)

(defgroup lsp-router nil
  "AI code actions from local LLM servers through lsp-router."
  :group 'tools
  :prefix "lsp-router-")

(defcustom lsp-router-executable "lsp-router"
  "The lsp-router program: a name found on `exec-path', or a full path."
  :type 'string)

(defcustom lsp-router-server-args '("serve")
  "Arguments that start lsp-router as a language server."
  :type '(repeat string))

(defcustom lsp-router-initialization-options nil
  "Settings sent as initializationOptions: the TOML configuration's structure.
A plist, e.g.
  (:services (:ollama (:endpoint \"http://127.0.0.1:11434\"))
   :security (:allow_external :json-false))
nil sends none: lsp-router then reads its configuration file."
  :type 'sexp)

(defcustom lsp-router-major-modes
  '(go-mode go-ts-mode python-mode python-ts-mode
    typescript-mode typescript-ts-mode tsx-ts-mode js-mode js-ts-mode)
  "Major modes in which lsp-router runs."
  :type '(repeat symbol))

(defcustom lsp-router-eglot-program nil
  "The command eglot starts for lsp-router, as a list of strings.
nil: `lsp-router-executable' with `lsp-router-server-args'.  Set it to an
LSP multiplexer's command to keep the usual server beside lsp-router, e.g.
  (\"rass\" \"--\" \"gopls\" \"--\" \"lsp-router\" \"serve\")"
  :type '(choice (const :tag "lsp-router alone" nil) (repeat string)))

(defcustom lsp-router-context-timeout 1.8
"Seconds to wait for the buffer's other language servers when lsp-router
asks for context (lsp-mode only).  Below the server's default
context.editor_timeout (2 s), so that the answer still arrives in time."
  :type 'number)

(defcustom lsp-router-answer-buffer "*lsp-router*"
  "Name of the buffer that shows the answers."
  :type 'string)

(defconst lsp-router--language-ids
  '((go-mode . "go") (go-ts-mode . "go")
    (python-mode . "python") (python-ts-mode . "python")
    (typescript-mode . "typescript") (typescript-ts-mode . "typescript")
    (tsx-ts-mode . "typescriptreact")
    (js-mode . "javascript") (js-ts-mode . "javascript"))
  "LSP language IDs of the default modes (lsp-mode 8 lacks the -ts- ones).")

(defconst lsp-router--actions
  '("explain" "refactor" "document" "fix" "tests" "ask")
  "The action commands the server offers, as lsp-router.<action>.")

;;;; Positions and arguments

(defun lsp-router--utf16-column (pos)
  "Column of POS in UTF-16 code units, as LSP counts them."
  (save-excursion
    (goto-char pos)
    (/ (length (encode-coding-string
                (buffer-substring-no-properties (line-beginning-position) pos)
                'utf-16le t))
       2)))

(defun lsp-router--position (pos)
  "LSP position of POS (0-based line, UTF-16 column)."
  (save-restriction
    (widen)
    (list :line (1- (line-number-at-pos pos t))
          :character (lsp-router--utf16-column pos))))

(defun lsp-router--range ()
  "The region when active, else an empty range at point."
  (if (use-region-p)
      (list :start (lsp-router--position (region-beginning))
            :end (lsp-router--position (region-end)))
    (let ((p (lsp-router--position (point))))
      (list :start p :end p))))

(defun lsp-router--get (obj key)
  "Field KEY (a string) of OBJ: a plist, an alist or a hash table."
  (cond ((hash-table-p obj) (gethash key obj))
        ((and (consp obj) (keywordp (car obj))) (plist-get obj (intern (concat ":" key))))
        ((consp obj) (cdr (assoc-string key obj)))))

;;;; The answer buffer

(defvar-local lsp-router--answer-buffer-p nil
  "Non-nil in the answer buffer once it is set up.")

(defvar lsp-router-answer-map
  (let ((m (make-sparse-keymap)))
    (define-key m (kbd "q") #'quit-window)
    m)
  "Keys of the answer buffer, above the Markdown mode's.")

(defun lsp-router--setup-answer-buffer ()
  "Render the current buffer as read-only Markdown: gfm-view-mode when
markdown-mode is installed, else `special-mode'.  `q' closes its window."
  (cond ((or (fboundp 'gfm-view-mode) (require 'markdown-mode nil t))
         (gfm-view-mode))
        (t (special-mode)))
  (use-local-map (make-composed-keymap lsp-router-answer-map (current-local-map)))
  (setq buffer-read-only t
        lsp-router--answer-buffer-p t))


(defun lsp-router--show-answer (title markdown)
  "Append the answer MARKDOWN under TITLE to the answer buffer and show it."
  (let ((buf (get-buffer-create lsp-router-answer-buffer))
        start)
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (unless lsp-router--answer-buffer-p
          (lsp-router--setup-answer-buffer))
        (goto-char (point-max))
        (unless (bobp) (insert "\n\n---\n\n"))
        (setq start (point))
        (insert "# " (or title "lsp-router") "\n\n"
                (string-trim (or markdown "")) "\n")
        (when (fboundp 'font-lock-ensure) (font-lock-ensure)))
      (set-buffer-modified-p nil)
      (goto-char start))
    (let ((win (display-buffer buf '((display-buffer-reuse-window display-buffer-pop-up-window)
                                     (inhibit-same-window . t)))))
      (when win (set-window-point win start) (set-window-start win start)))
    (message "%s: the answer is in %s" (or title "lsp-router") lsp-router-answer-buffer)
    buf))

;;;; Talking to the server: lsp-mode or eglot

(defun lsp-router--lsp-mode-workspace ()
  "The lsp-mode workspace of lsp-router in this buffer, or nil."
  (when (and (bound-and-true-p lsp-mode) (fboundp 'lsp-workspaces))
    (cl-find-if (lambda (ws) (eq (lsp--client-server-id (lsp--workspace-client ws)) 'lsp-router))
                (lsp-workspaces))))

(defun lsp-router--eglot-server ()
  "The eglot connection to lsp-router in this buffer, or nil."
  (when (and (fboundp 'eglot-current-server) (featurep 'eglot))
    (let ((s (eglot-current-server)))
      (and s (object-of-class-p s 'lsp-router-eglot-server) s))))

(defun lsp-router--diagnostics-at-point ()
  "LSP diagnostics (as the server sent them) on the line at point, for Fix."
  (let ((line (1- (line-number-at-pos (point) t))))
    (cond
     ((lsp-router--lsp-mode-workspace)
      (let ((all (gethash (lsp--fix-path-casing buffer-file-name) (lsp-diagnostics t))))
        (apply #'vector
               (cl-remove-if-not
                (lambda (d)
                  (let* ((range (lsp-router--get d "range"))
                         (start (lsp-router--get (lsp-router--get range "start") "line"))
                         (end (lsp-router--get (lsp-router--get range "end") "line")))
                    (and start end (<= start line end))))
                all))))
     (t
      ;; eglot keeps the server's diagnostic in the Flymake diagnostic's data.
      (apply #'vector
             (delq nil (mapcar (lambda (d)
                                 (and (fboundp 'flymake-diagnostic-data)
                                      (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))))
                               (and (fboundp 'flymake-diagnostics)
                                    (flymake-diagnostics (line-beginning-position) (line-end-position))))))))))

(defun lsp-router--arguments (action instruction)
  "The argument object of lsp-router.ACTION at point, with INSTRUCTION."
  (let ((args (list :uri (if (lsp-router--lsp-mode-workspace)
                             (lsp--buffer-uri)
                           (eglot--path-to-uri buffer-file-name))
                    :range (lsp-router--range))))
    (let ((version (cond ((lsp-router--lsp-mode-workspace) (bound-and-true-p lsp--cur-version))
                         ((lsp-router--eglot-server) (bound-and-true-p eglot--versioned-identifier)))))
      (when (integerp version)
        (setq args (append args (list :version version)))))
    (when (and instruction (not (string-empty-p (string-trim instruction))))
      (setq args (append args (list :instruction (string-trim instruction)))))
    (when (equal action "fix")
      (let ((diags (lsp-router--diagnostics-at-point)))
        (when (> (length diags) 0)
          (setq args (append args (list :diagnostics diags))))))
    args))

(defun lsp-router--done (action result)
  "Report the response RESULT of lsp-router.ACTION.
The outcome itself comes as an edit, an lsp-router/answer notification or
a message: a server that answers at once says only that it started, so
nothing here depends on the response carrying the result."
  (let ((notes (lsp-router--get result "notes"))
        (applied (lsp-router--get result "applied")))
    (cond
     ((numberp (lsp-router--get result "cancelled"))
      (message "lsp-router: cancelled %d running command(s)" (lsp-router--get result "cancelled")))
     ((lsp-router--get result "started")
      (message "lsp-router %s: started (progress in the mode line)" action))
     ((and notes (> (length notes) 0))
      (message "lsp-router %s: %s" action (mapconcat #'identity notes "; ")))
     ((eq applied :json-false)
      (message "lsp-router %s: the edit was not applied" action)))))

(defun lsp-router--failed (action message-text)
  "Report that lsp-router.ACTION failed with MESSAGE-TEXT."
  (message "%s" (propertize (format "lsp-router %s: %s" action message-text) 'face 'error)))

(defun lsp-router--error-message (err)
  "The message of a JSON-RPC error ERR, in the shape either client gives."
  (or (lsp-router--get err "message")
      (and (consp err) (plist-get err :message))
      (format "%S" err)))

(defun lsp-router--execute (command args)
  "Send workspace/executeCommand COMMAND with ARGS to lsp-router, asynchronously."
  (let ((action (string-remove-prefix "lsp-router." command))
        (params (list :command command :arguments (if args (vector args) []))))
    (cond
     ((lsp-router--lsp-mode-workspace)
      (let ((ws (lsp-router--lsp-mode-workspace)))
        (let ((lsp--cur-workspace ws))
          (lsp-request-async "workspace/executeCommand" params
                             (lambda (result) (lsp-router--done action result))
                             :error-handler (lambda (err) (lsp-router--failed action (lsp-router--error-message err)))
                             :mode 'detached))))
     ((lsp-router--eglot-server)
      (let ((server (lsp-router--eglot-server)))
        ;; eglot sends buffer changes after an idle delay: send them now,
        ;; so the server works on the text the user sees.
        (eglot--signal-textDocument/didChange)
        (jsonrpc-async-request server :workspace/executeCommand params
                               :success-fn (lambda (result) (lsp-router--done action result))
                               :error-fn (lambda (err) (lsp-router--failed action (lsp-router--error-message err)))
                               ;; A model may take minutes; eglot's own
                               ;; executeCommand would give up after 10 s.
                               :timeout nil)))
     (t (user-error "lsp-router is not running in this buffer: M-x lsp (lsp-mode) or M-x eglot, see lsp-router-lsp-mode-setup")))))

(defun lsp-router--run (action &optional instruction)
  "Run lsp-router.ACTION at point with INSTRUCTION."
  (unless buffer-file-name
    (user-error "lsp-router works on files: save this buffer first"))
  (lsp-router--execute (concat "lsp-router." action) (lsp-router--arguments action instruction)))

(defun lsp-router--read-instruction (prompt)
  "Read an instruction with PROMPT; empty means the marker comment."
  (read-string (concat prompt " (empty: a `lsp-router:' comment at point): ")
               nil 'lsp-router--instruction-history))

(defvar lsp-router--instruction-history nil)

;;;; Commands

;;;###autoload
(defun lsp-router-explain ()
  "Explain the symbol at point or the region."
  (interactive)
  (lsp-router--run "explain"))

;;;###autoload
(defun lsp-router-refactor (instruction)
  "Rewrite the symbol at point or the region following INSTRUCTION."
  (interactive (list (lsp-router--read-instruction "Refactor how")))
  (lsp-router--run "refactor" instruction))

;;;###autoload
(defun lsp-router-document ()
  "Write the doc comment of the symbol at point."
  (interactive)
  (lsp-router--run "document"))

;;;###autoload
(defun lsp-router-fix ()
  "Fix the diagnostics on the line at point."
  (interactive)
  (lsp-router--run "fix"))

;;;###autoload
(defun lsp-router-tests ()
  "Write tests for the symbol at point."
  (interactive)
  (lsp-router--run "tests"))

;;;###autoload
(defun lsp-router-ask (question)
  "Ask QUESTION about the symbol at point or the region."
  (interactive (list (lsp-router--read-instruction "Ask lsp-router")))
  (lsp-router--run "ask" question))

(defvar lsp-router-command-map
  (let ((m (make-sparse-keymap)))
    (define-key m "e" #'lsp-router-explain)
    (define-key m "r" #'lsp-router-refactor)
    (define-key m "d" #'lsp-router-document)
    (define-key m "f" #'lsp-router-fix)
    (define-key m "t" #'lsp-router-tests)
    (define-key m "a" #'lsp-router-ask)
    (define-key m "c" #'lsp-router-cancel)
    m)
  "lsp-router's commands on one key each; bind it to a prefix, e.g.
  (global-set-key (kbd \"C-c r\") lsp-router-command-map)")
(fset 'lsp-router-command-map lsp-router-command-map)

;;;###autoload
(defun lsp-router-cancel ()
  "Cancel every command lsp-router runs for this editor."
  (interactive)
  (lsp-router--execute "lsp-router.cancel" nil))

(defun lsp-router--code-action-command (command args)
  "Run COMMAND of a code action with its ARGS object, prompting when needed."
  (let* ((action (string-remove-prefix "lsp-router." command))
         (instruction (and (member action '("refactor" "ask"))
                           (string-empty-p (or (lsp-router--get args "instruction") ""))
                           (lsp-router--read-instruction
                            (if (equal action "ask") "Ask lsp-router" "Refactor how")))))
    (lsp-router--execute
     command
     (let ((plist (lsp-router--to-plist args)))
       (if (and instruction (not (string-empty-p (string-trim instruction))))
           (plist-put plist :instruction (string-trim instruction))
         plist)))))

(defun lsp-router--to-plist (obj)
  "OBJ (a hash table from lsp-mode or a plist from eglot) as a plist."
  (if (hash-table-p obj)
      (let (out)
        (maphash (lambda (k v) (setq out (append out (list (intern (concat ":" k)) v)))) obj)
        out)
    (copy-sequence obj)))

;;;; Edits from the server

(defun lsp-router--edit-buffers (edit)
  "Live buffers visiting the files that EDIT (a WorkspaceEdit) changes."
  (let (uris)
    (seq-doseq (dc (or (lsp-router--get edit "documentChanges") []))
      (let ((td (lsp-router--get dc "textDocument")))
        (when td (push (lsp-router--get td "uri") uris))))
    (let ((changes (lsp-router--get edit "changes")))
      (when (hash-table-p changes)
        (maphash (lambda (k _) (push k uris)) changes)))
    (delq nil (mapcar (lambda (u) (and u (find-buffer-visiting (lsp-router--uri-to-path u)))) uris))))

(defun lsp-router--uri-to-path (uri)
  "The local file name of a file:// URI."
  (let ((path (url-unhex-string (url-filename (url-generic-parse-url uri)))))
    (decode-coding-string path 'utf-8)))

(defmacro lsp-router--one-undo-step (edit &rest body)
  "Run BODY, which applies EDIT (a WorkspaceEdit), as one undo step.
The edit arrives between commands, so no command loop closes the undo
group before it: without these boundaries the first \[undo] would take
back the user's previous change together with it."
  (declare (indent 1))
  (let ((bufs (make-symbol "bufs")))
    `(let ((,bufs (lsp-router--edit-buffers ,edit)))
       (dolist (b ,bufs) (with-current-buffer b (undo-boundary)))
       (unwind-protect (progn ,@body)
         (dolist (b ,bufs) (when (buffer-live-p b) (with-current-buffer b (undo-boundary))))))))

;;;; Context for lsp-router from the buffer's other language servers

(defconst lsp-router--context-methods
  '(("lsp-router/context/documentSymbol" . "textDocument/documentSymbol")
    ("lsp-router/context/hover" . "textDocument/hover")
    ("lsp-router/context/references" . "textDocument/references")
    ("lsp-router/context/definition" . "textDocument/definition"))
  "lsp-router's context requests and the standard request each stands for.
With lsp-mode, lsp-router runs beside gopls, pyright...: it asks the
editor (server -> client requests, see docs/protocol.md) and the editor
asks those servers, so lsp-router need not start its own.")

(defun lsp-router--context-buffer (params)
  "The live buffer visiting the document of PARAMS, or nil.
Context is only asked about open files; any other answer is null."
  (let* ((td (lsp-router--get params "textDocument"))
         (uri (and td (lsp-router--get td "uri"))))
    (and (stringp uri) (string-prefix-p "file://" uri)
         (find-buffer-visiting (lsp-router--uri-to-path uri)))))

(defun lsp-router--other-workspaces (buffer)
  "BUFFER's lsp-mode workspaces other than lsp-router's, oldest first."
  (with-current-buffer buffer
    (cl-remove-if (lambda (ws) (eq (lsp--client-server-id (lsp--workspace-client ws)) 'lsp-router))
                  (reverse (bound-and-true-p lsp--buffer-workspaces)))))

(defun lsp-router--empty-p (result)
  "Non-nil when RESULT says nothing: null, [] or {}."
  (or (null result)
      (and (vectorp result) (= (length result) 0))
      (and (hash-table-p result) (= (hash-table-count result) 0))))

(defun lsp-router--json-value (result)
  "RESULT as lsp-mode serializes it: a list of objects becomes an array."
  (if (and (consp result) (not (keywordp (car result))))
      (apply #'vector result)
    result))

(defun lsp-router--context-diagnostics (buffer)
  "What the other servers of BUFFER diagnose in it, as a Diagnostic[]."
  (let ((path (lsp--fix-path-casing (buffer-file-name buffer))))
    (apply #'vector
           (apply #'append
                  (mapcar (lambda (ws) (copy-sequence (gethash path (lsp--workspace-diagnostics ws))))
                          (lsp-router--other-workspaces buffer))))))

(defun lsp-router--context-decided-p (answers)
  "Non-nil when ANSWERS (a vector, `pending' where none came yet) decide
the reply: a non-empty answer with only empty ones before it, or all in."
  (catch 'decided
    (seq-doseq (a answers)
      (cond ((eq a 'pending) (throw 'decided nil))
            ((not (lsp-router--empty-p a)) (throw 'decided t))))
    t))

(defun lsp-router--context-ask (buffer method params respond)
  "Ask BUFFER's other servers METHOD with PARAMS, all at once; RESPOND with
the first non-empty answer in server order, or null when none answers
within `lsp-router-context-timeout'."
  (let* ((workspaces (lsp-router--other-workspaces buffer))
         (answers (make-vector (length workspaces) 'pending))
         done timer)
    (cl-labels ((finish ()
                  (unless done
                    (setq done t)
                    (when timer (cancel-timer timer))
                    (funcall respond
                             (lsp-router--json-value
                              (seq-find (lambda (a) (not (or (eq a 'pending) (lsp-router--empty-p a))))
                                        answers)))))
                (answered (i result)
                  (unless done
                    (aset answers i result)
                    ;; An earlier server's answer wins: a later server
                    ;; that answers first waits for it.
                    (when (lsp-router--context-decided-p answers)
                      (finish)))))
      (with-current-buffer buffer
        (cl-loop for ws in workspaces
                 for i from 0
                 do (let ((i i))
                      (condition-case nil
                          (let ((lsp--cur-workspace ws))
                            (lsp-request-async method params
                                               (lambda (results) (answered i (cdr (car results))))
                                               :error-handler (lambda (_err) (answered i nil))
                                               :mode 'detached
                                               :no-merge t))
                        ;; This server lacks METHOD: it has nothing to say.
                        (error (answered i nil))))))
      (if (lsp-router--context-decided-p answers)
          (finish)
        (setq timer (run-at-time lsp-router-context-timeout nil #'finish))))))

(defun lsp-router--lsp-context-handler (method)
  "lsp-mode async request handler of lsp-router's context request METHOD."
  (lambda (_workspace params respond)
    (let ((buffer (lsp-router--context-buffer params)))
      (cond
       ((not buffer) (funcall respond nil))
       ((equal method "lsp-router/context/diagnostics")
        (funcall respond (lsp-router--context-diagnostics buffer)))
       (t (lsp-router--context-ask buffer (cdr (assoc method lsp-router--context-methods))
                                   params respond))))))

;;;; lsp-mode

(defun lsp-router--lsp-answer (_workspace params)
  "Handle lsp-router/answer from lsp-mode: PARAMS has title and markdown."
  (lsp-router--show-answer (lsp-router--get params "title") (lsp-router--get params "markdown")))

(defun lsp-router--lsp-apply-edit (_workspace params)
  "Apply the workspace/applyEdit PARAMS as one undo step per buffer,
telling every language server of the buffer about it."
  (let ((edit (lsp-router--get params "edit")))
    (condition-case err
        (prog1 (list :applied t)
          (lsp-router--one-undo-step edit
            ;; lsp-mode handles server requests with `lsp--cur-workspace'
            ;; bound to the requesting server, so the buffer changes would
            ;; reach only lsp-router: gopls would keep the old text, and
            ;; the next change (an undo) would garble its copy.  Unbound,
            ;; every server of the buffer hears of the edit.
            (let ((lsp--cur-workspace nil))
              (lsp--apply-workspace-edit edit 'server-requested))))
      (error
       (message "lsp-router: the edit was not applied: %s" (error-message-string err))
       (list :applied :json-false :failureReason (error-message-string err))))))

(defun lsp-router--lsp-action-handler (command)
  "lsp-mode action handler: run the code action's COMMAND asynchronously."
  (let ((args (lsp-router--get command "arguments")))
    (lsp-router--code-action-command (lsp-router--get command "command")
                                     (and args (> (length args) 0) (elt args 0)))))

(defun lsp-router--lsp-connection ()
  "A stdio connection whose process is not named after the server id:
lsp-mode would call its process buffer *lsp-router*, the answer buffer."
  (let* ((conn (lsp-stdio-connection
                (lambda () (cons lsp-router-executable lsp-router-server-args))))
         (connect (plist-get conn :connect)))
    (plist-put conn :connect
               (lambda (filter sentinel _name environment-fn)
                 (funcall connect filter sentinel "lsp-router-server" environment-fn)))))

;;;###autoload
(defun lsp-router-lsp-mode-setup ()
  "Register lsp-router with lsp-mode as an add-on server.
lsp-mode then starts it beside the buffer's language server (gopls,
pyright...) in `lsp-router-major-modes'; start both with \\[lsp]."
  (require 'lsp-mode)
  (dolist (m lsp-router--language-ids)
    (unless (assq (car m) lsp-language-id-configuration)
      (add-to-list 'lsp-language-id-configuration m t)))
  (let ((actions (make-hash-table :test 'equal))
        (notifications (make-hash-table :test 'equal))
        (requests (make-hash-table :test 'equal))
        (async-requests (make-hash-table :test 'equal)))
    (dolist (a lsp-router--actions)
      (puthash (concat "lsp-router." a) #'lsp-router--lsp-action-handler actions))
    (puthash "lsp-router/answer" #'lsp-router--lsp-answer notifications)
    (puthash "lsp-router/status" #'ignore notifications)
    (puthash "workspace/applyEdit" #'lsp-router--lsp-apply-edit requests)
    (dolist (m (cons "lsp-router/context/diagnostics" (mapcar #'car lsp-router--context-methods)))
      (puthash m (lsp-router--lsp-context-handler m) async-requests))
    (lsp-register-client
     (make-lsp-client
      :new-connection (lsp-router--lsp-connection)
      :activation-fn (lambda (&rest _) (memq major-mode lsp-router-major-modes))
      :add-on? t
      :priority -2
      :server-id 'lsp-router
      :initialization-options (lambda () lsp-router-initialization-options)
      ;; We render lsp-router/answer in *lsp-router*: the server then
      ;; neither opens a document nor sends the answer as a message.
      ;; We also answer its context requests from the buffer's other
      ;; servers (gopls...), so it starts no language server of its own.
      :custom-capabilities '((experimental . ((lspRouterAnswers . t) (lspRouterContext . t))))
      :notification-handlers notifications
      :request-handlers requests
      :async-request-handlers async-requests
      :action-handlers actions))))

;;;; eglot

(with-eval-after-load 'eglot
  (defclass lsp-router-eglot-server (eglot-lsp-server) ()
    "An eglot connection to lsp-router.")

  ;; No lspRouterContext here: under eglot lsp-router takes gopls' place,
  ;; so no other server of the buffer could answer its context requests;
  ;; it asks its own language servers instead.
  (cl-defmethod eglot-client-capabilities ((_s lsp-router-eglot-server))
    (let ((caps (copy-sequence (cl-call-next-method))))
      (plist-put caps :experimental '(:lspRouterAnswers t))))

  (cl-defmethod eglot-handle-notification
    ((_s lsp-router-eglot-server) (_m (eql lsp-router/answer)) &key title markdown &allow-other-keys)
    (lsp-router--show-answer title markdown))

  (cl-defmethod eglot-handle-notification
    ((_s lsp-router-eglot-server) (_m (eql lsp-router/status)) &rest _)
    nil)

  (cl-defmethod eglot-handle-request :around
    ((_s lsp-router-eglot-server) (_m (eql workspace/applyEdit)) &key edit &allow-other-keys)
    (lsp-router--one-undo-step edit
      (cl-call-next-method)))

  ;; eglot 1.9 waits for executeCommand (and gives up after 10 s): our
  ;; commands go out asynchronously instead.
  (cl-defmethod eglot-execute-command ((_s lsp-router-eglot-server) command arguments)
    (let ((name (format "%s" command)))
      (if (string-prefix-p "lsp-router." name)
          (lsp-router--code-action-command
           name (and arguments (> (length arguments) 0) (elt arguments 0)))
        (cl-call-next-method)))))

;;;###autoload
(defun lsp-router-eglot-setup (&optional modes)
  "Make eglot use lsp-router INSTEAD of the usual server in MODES.
MODES defaults to `lsp-router-major-modes'.  eglot runs one server per
major mode: in these modes completion, hover, definitions and diagnostics
no longer come from gopls, pyright...  (lsp-router still runs them for its
own code context).  Use lsp-mode (`lsp-router-lsp-mode-setup') or an LSP
multiplexer to keep both."
  (require 'eglot)
  (let ((modes (or modes lsp-router-major-modes)))
    (add-to-list 'eglot-server-programs
                 (cons modes
                       (lambda (&rest _)
                         `(lsp-router-eglot-server
                           ,@(or lsp-router-eglot-program
                                 (cons lsp-router-executable lsp-router-server-args))
                           ,@(when lsp-router-initialization-options
                               (list :initializationOptions lsp-router-initialization-options))))))
    (message "lsp-router replaces the usual eglot server in: %s" (mapconcat #'symbol-name modes " "))))

(provide 'lsp-router)
;;; lsp-router.el ends here
