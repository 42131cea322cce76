// Command structure lists the functions that break the project's size
// limits: cyclomatic complexity above -cyclo (counted as gocyclo counts it:
// 1 + each if, for, range, non-default case and comm clause, && and ||,
// closures included in their enclosing function) and non-test functions
// longer than -lines lines. It exits 1 when any function is over a limit,
// so it can gate CI once the remaining offenders are split.
//
// Usage: go run ./tools/structure [-cyclo 20] [-lines 80] [dir ...]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// fn is one function declaration and its measures.
type fn struct {
	Pos   string // file:line
	Name  string // Recv.Name or Name
	Cyclo int
	Lines int
	Test  bool
}

func main() {
	maxCyclo := flag.Int("cyclo", 20, "report functions whose cyclomatic complexity exceeds this")
	maxLines := flag.Int("lines", 80, "report non-test functions longer than this many lines")
	flag.Parse()
	dirs := flag.Args()
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	var all []fn
	for _, d := range dirs {
		fns, err := scan(d)
		if err != nil {
			fmt.Fprintln(os.Stderr, "structure:", err)
			os.Exit(2)
		}
		all = append(all, fns...)
	}
	if report(os.Stdout, all, *maxCyclo, *maxLines) > 0 {
		os.Exit(1)
	}
}

// report prints both lists, worst first, and returns how many functions
// are over at least one limit.
func report(w io.Writer, all []fn, maxCyclo, maxLines int) int {
	var cyc, long []fn
	over := map[string]bool{}
	for _, f := range all {
		if f.Cyclo > maxCyclo {
			cyc = append(cyc, f)
			over[f.Pos] = true
		}
		if !f.Test && f.Lines > maxLines {
			long = append(long, f)
			over[f.Pos] = true
		}
	}
	sort.SliceStable(cyc, func(i, j int) bool { return cyc[i].Cyclo > cyc[j].Cyclo })
	sort.SliceStable(long, func(i, j int) bool { return long[i].Lines > long[j].Lines })
	tests := 0
	for _, f := range cyc {
		if f.Test {
			tests++
		}
	}
	fmt.Fprintf(w, "cyclomatic complexity > %d: %d functions (%d non-test, %d test)\n", maxCyclo, len(cyc), len(cyc)-tests, tests)
	for _, f := range cyc {
		fmt.Fprintf(w, "  %4d  %s  %s\n", f.Cyclo, f.Name, f.Pos)
	}
	fmt.Fprintf(w, "non-test functions > %d lines: %d functions\n", maxLines, len(long))
	for _, f := range long {
		fmt.Fprintf(w, "  %4d  %s  %s\n", f.Lines, f.Name, f.Pos)
	}
	return len(over)
}

// scan parses every .go file under root, skipping vendor, testdata,
// node_modules and hidden directories.
func scan(root string) ([]fn, error) {
	var out []fn
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "vendor" || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, measure(fset, f, strings.HasSuffix(path, "_test.go"))...)
		return nil
	})
	return out, err
}

// measure returns the measures of each function declared in f.
func measure(fset *token.FileSet, f *ast.File, test bool) []fn {
	var out []fn
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
		out = append(out, fn{
			Pos:   fmt.Sprintf("%s:%d", start.Filename, start.Line),
			Name:  funcName(fd),
			Cyclo: complexity(fd),
			Lines: end.Line - start.Line + 1,
			Test:  test,
		})
	}
	return out
}

// funcName is "Recv.Name" for methods (pointer receivers without the star)
// and "Name" for functions.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// complexity counts decision points as gocyclo does.
func complexity(n ast.Node) int {
	c := 1
	ast.Inspect(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if x.List != nil {
				c++
			}
		case *ast.CommClause:
			if x.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if x.Op == token.LAND || x.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}
