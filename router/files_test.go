package router

import (
	"testing"

	"github.com/lsp-router/lsp-router/router/codectx"
)

func TestModuleImportFollowsTheSourceModuleStyle(t *testing.T) {
	for _, c := range []struct {
		name, text, sym, want string
	}{
		{"esm named", "export function add(a: number, b: number) { return a + b }\n", "add", `import { add } from "./math";`},
		{"esm list", "function add(a, b) { return a + b }\nexport { add, sub };\n", "add", `import { add } from "./math";`},
		{"esm default", "export default class Calc {}\n", "Calc/add", `import Calc from "./math";`},
		{"commonjs", "function add(a, b) { return a + b }\nmodule.exports = { add };\n", "add", `const { add } = require("./math");`},
		{"not exported", "function add(a, b) { return a + b }\n", "add", ""},
	} {
		got := moduleImport("/ws/src/math.ts", c.text, &codectx.Symbol{Name: c.sym, NamePath: c.sym})
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if got := moduleImport("/ws/m.ts", "export const x = 1", nil); got != "" {
		t.Errorf("no symbol: %q", got)
	}
}

func TestReadFromDiskStaysInTheWorkspace(t *testing.T) {
	ws, outside := t.TempDir(), t.TempDir()
	if _, _, exists, err := ReadFromDisk(ws+"/missing_test.go", ws); exists || err != nil {
		t.Errorf("a missing file is no error: %v %v", exists, err)
	}
	if _, _, _, err := ReadFromDisk(outside+"/x.go", ws); err == nil {
		t.Error("read outside the workspace")
	}
	if _, _, _, err := ReadFromDisk("/dev/zero", ws); err == nil {
		t.Error("read /dev/zero")
	}
}
