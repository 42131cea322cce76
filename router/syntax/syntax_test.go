package syntax

import (
	"strings"
	"testing"
)

// lines splits a test source without its final newline.
func lines(src string) []string {
	return strings.Split(strings.TrimSuffix(src, "\n"), "\n")
}

func TestDefsPython(t *testing.T) {
	src := lines(`class A:
    x = """
not a def
"""

    @staticmethod
    # comment
    def m(a,
          b):
        return (a +
b)

def top(): return 1
`)
	defs := PythonDefs(src)
	if len(defs) != 3 {
		t.Fatalf("got %+v", defs)
	}
	m := defs[1]
	if m.Name != "m" || m.Container != "A" || m.Attach != 5 || m.Start != 7 || m.End != 10 || !m.Complete {
		t.Fatalf("method: %+v", m)
	}
	if top := defs[2]; top.Name != "top" || top.End != 12 || top.Container != "" {
		t.Fatalf("top: %+v", top)
	}
}

func TestDefsTypeScript(t *testing.T) {
	src := lines(`/** Doc. */
@Component({ selector: "x" })
export class Widget {
  private s = "{";
  render(): string {
    return "}";
  }
  onClick = (e: Event) => {
    console.log(e);
  };
}
export type Id = string;
`)
	defs := braceDefs(src, tsHeaders)
	names := map[string]Def{}
	for _, d := range defs {
		names[d.Path()] = d
	}
	w := names["Widget"]
	if w.Attach != 0 || w.DocFrom != 0 || w.DocTo != 1 || w.End != 10 {
		t.Fatalf("class: %+v", w)
	}
	if r := names["Widget/render"]; r.Start != 4 || r.End != 6 {
		t.Fatalf("render: %+v (all %v)", r, names)
	}
	if o := names["Widget/onClick"]; o.Start != 7 || o.End != 9 {
		t.Fatalf("onClick: %+v", o)
	}
	if id := names["Id"]; id.Start != 11 || id.End != 11 {
		t.Fatalf("Id: %+v", id)
	}
}
