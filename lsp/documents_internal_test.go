package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/router/codectx"
)

func at(line, char int) *codectx.Range {
	p := codectx.Position{Line: line, Character: char}
	return &codectx.Range{Start: p, End: p}
}

func TestDocumentUpdateMarksOutOfSyncAndHeals(t *testing.T) {
	const u = "file:///w/a.go"
	cases := []struct {
		name     string
		version  int32
		changes  []change
		wantSync bool
		wantText string
		problem  string
	}{
		{"incremental in range", 2, []change{{rng: at(0, 3), text: "!"}}, true, "one!\n", ""},
		{"range past the end", 2, []change{{rng: at(5, 0), text: "x"}}, false, "one\n", "past the end"},
		{"version not increasing", 1, []change{{rng: at(0, 0), text: "x"}}, false, "one\n", "version went from 1 to 1"},
		{"version backwards, whole text", 0, []change{{text: "two\n"}}, true, "two\n", ""},
		{"bad change then whole text", 2, []change{{rng: at(9, 0), text: "x"}, {text: "three\n"}, {rng: at(0, 0), text: ">"}}, true, ">three\n", ""},
		{"whole text then bad change", 2, []change{{text: "three\n"}, {rng: at(9, 0), text: "x"}}, false, "one\n", "change 1 start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newDocumentStore()
			st.open(Document{URI: u, Path: "/w/a.go", Version: 1, Text: "one\n"})
			d, wasInSync, err := st.update(u, c.version, c.changes)
			if !wasInSync {
				t.Error("wasInSync false for a document in sync")
			}
			if (err == nil) != c.wantSync || d.OutOfSync == c.wantSync {
				t.Fatalf("err %v, OutOfSync %v; want in sync %v", err, d.OutOfSync, c.wantSync)
			}
			if err != nil && !strings.Contains(err.Error(), c.problem) {
				t.Errorf("problem %q, want %q", err, c.problem)
			}
			if d.Text != c.wantText || d.Version != c.version {
				t.Errorf("text %q version %d, want %q %d", d.Text, d.Version, c.wantText, c.version)
			}
			// Out of sync stays so under incremental changes, until a whole text.
			if !c.wantSync {
				if _, was, err := st.update(u, c.version+1, []change{{rng: at(0, 0), text: "y"}}); err == nil || was {
					t.Errorf("incremental change healed an out-of-sync document")
				}
				if d, was, err := st.update(u, c.version+2, []change{{text: "healed\n"}}); err != nil || was || d.OutOfSync || d.Text != "healed\n" {
					t.Errorf("whole text did not heal: %v %+v", err, d)
				}
			}
		})
	}
}

func TestDidChangeForAnUnopenedDocumentIsOutOfSync(t *testing.T) {
	st := newDocumentStore()
	d, _, err := st.update("file:///w/b.go", 3, []change{{rng: at(0, 0), text: "x"}})
	if err == nil || !d.OutOfSync {
		t.Fatalf("%v %+v", err, d)
	}
	if got := outOfSyncError(d).Error(); got != "/w/b.go is out of sync with the editor: save or reopen it, then try again" {
		t.Errorf("message %q", got)
	}
}

func TestEditTargetNeverLetsAnOpenDocumentGoUnversioned(t *testing.T) {
	s := newServer(Options{})
	s.docs.open(Document{URI: pathToURI("/w/a.go"), Path: "/w/a.go", Version: 4, Text: "x"})
	for _, c := range []struct {
		path    string
		version int32
		ok      bool
	}{
		{"/w/a.go", 4, true},
		{"/w/a.go", -1, false}, // computed from disk while the editor has it open
		{"/w/a.go", 3, false},
		{"/w/closed.go", -1, true},
		{"/w/closed.go", 2, false},
	} {
		d, open, err := s.editTarget(c.path, c.version)
		if (err == nil) != c.ok {
			t.Errorf("%s v%d: err %v, want ok %v", c.path, c.version, err, c.ok)
		}
		if err == nil && open && d.Version != c.version {
			t.Errorf("%s: version %d", c.path, d.Version)
		}
	}
	s.docs.markOutOfSync(pathToURI("/w/a.go"), "lost")
	if _, _, err := s.editTarget("/w/a.go", 4); err == nil || !strings.Contains(err.Error(), "out of sync") {
		t.Errorf("edit to an out-of-sync document: %v", err)
	}
}

func TestSplitWaitOption(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{`{"executeCommandWaits":true,"services":{}}`, `{"services":{}}`},
		{`{"lsp-router":{"executeCommandWaits":true,"services":{}}}`, `{"lsp-router":{"services":{}}}`},
		{`{"services":{}}`, `{"services":{}}`},
		{`"not an object"`, `"not an object"`},
	} {
		out, waits := splitWaitOption(protocol.LSPAny(c.in))
		if string(out) != c.out || waits != strings.Contains(c.in, "Waits\":true") {
			t.Errorf("%s: %s %v", c.in, out, waits)
		}
	}
}
