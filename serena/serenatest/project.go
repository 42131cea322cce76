package serenatest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Symbol is a symbol of the fake project. Lines are 0-based and inclusive,
// as Serena reports them; StartCol is where the declaration starts.
type Symbol struct {
	NamePath  string
	Kind      string
	StartLine int
	StartCol  int
	EndLine   int
	Info      string
	Children  []*Symbol
}

// Name is the last element of the name path.
func (s *Symbol) Name() string {
	if i := strings.LastIndex(s.NamePath, "/"); i >= 0 {
		return s.NamePath[i+1:]
	}
	return s.NamePath
}

// File is a file of the fake project.
type File struct {
	Text    string
	Symbols []*Symbol
}

// Reference is one use of Target (a name path in TargetFile) on Line of
// File, inside the symbol Container of kind ContainerKind.
type Reference struct {
	Target, TargetFile     string
	File                   string
	Line                   int
	Container, ContainerKd string
}

// Diagnostic is a diagnostic of the fake project; Owner is a name path or
// "<file>".
type Diagnostic struct {
	File, Severity, Owner, Message string
	StartLine, StartChar           int
	EndLine, EndChar               int
	Code                           any // string, int or nil
	Source                         string
}

// Project is the fake project the double answers about. It is safe for
// concurrent use; edits change it.
type Project struct {
	mu    sync.Mutex
	Files map[string]*File
	Refs  []Reference
	Diags []Diagnostic
}

// ServicesPy is test_repo/services.py of DefaultProject, the reference
// sheet's example.
const ServicesPy = `"""User services."""

from test_repo.models import User


class UserService:
    """Keeps users in memory."""

    def __init__(self):
        self.users = {}

    def create_user(self, name: str) -> User:
        """Create and store a user named ` + "`name`" + `."""

        def validate(n):
            return bool(n.strip())

        if not validate(name):
            raise ValueError("empty name: café")
        user = User(name)
        self.users[name] = user
        return user


def make_service() -> UserService:
    return UserService()
`

// AppPy is test_repo/app.py of DefaultProject.
const AppPy = `from test_repo.services import make_service


def main():
    service = make_service()
    admin = service.create_user("admin")
    guest = service.create_user("guest")
    return admin, guest


class Seeder:
    def seed(self, service):
        return service.create_user("seed")
`

// DefaultProject is a small Python project shaped like the reference
// sheet's example: UserService/create_user spans lines 11..21, has a nested
// function, a local variable and three references in another file.
//
// The symbols are what Serena reports with pyright behind it: the symbol
// tree of LanguageServerSymbol (src/serena/symbol.py at 7fcbca7e), kinds
// as SymbolKind names, pyright putting a function's locals among its
// children, and hover texts as pyright formats them ("(method) def ...")
// after Serena's _request_info strips the markdown value.
func DefaultProject() *Project {
	createUser := &Symbol{NamePath: "UserService/create_user", Kind: "Method", StartLine: 11, StartCol: 4, EndLine: 21,
		Info: "(method) def create_user(self: Self@UserService, name: str) -> User\n\nCreate and store a user named `name`.",
		Children: []*Symbol{{NamePath: "UserService/create_user/validate", Kind: "Function", StartLine: 14, StartCol: 8, EndLine: 15,
			Info: "(function) def validate(n) -> bool"},
			{NamePath: "UserService/create_user/user", Kind: "Variable", StartLine: 19, StartCol: 8, EndLine: 19,
				Info: "(variable) user: User"}}}
	return &Project{
		Files: map[string]*File{
			"test_repo/services.py": {Text: ServicesPy, Symbols: []*Symbol{
				{NamePath: "UserService", Kind: "Class", StartLine: 5, EndLine: 21, Info: "(class) UserService\n\nKeeps users in memory.",
					Children: []*Symbol{
						{NamePath: "UserService/__init__", Kind: "Constructor", StartLine: 8, StartCol: 4, EndLine: 9, Info: "(method) def __init__(self: Self@UserService) -> None"},
						createUser,
					}},
				{NamePath: "make_service", Kind: "Function", StartLine: 24, EndLine: 25, Info: "(function) def make_service() -> UserService"},
			}},
			"test_repo/app.py": {Text: AppPy, Symbols: []*Symbol{
				{NamePath: "main", Kind: "Function", StartLine: 3, EndLine: 7, Info: "(function) def main() -> tuple[User, User]"},
				{NamePath: "Seeder", Kind: "Class", StartLine: 10, EndLine: 12, Info: "(class) Seeder", Children: []*Symbol{
					{NamePath: "Seeder/seed", Kind: "Method", StartLine: 11, StartCol: 4, EndLine: 12, Info: "(method) def seed(self, service)"}}},
			}},
		},
		Refs: []Reference{
			{Target: "UserService/create_user", TargetFile: "test_repo/services.py", File: "test_repo/app.py", Line: 5, Container: "main", ContainerKd: "Function"},
			{Target: "UserService/create_user", TargetFile: "test_repo/services.py", File: "test_repo/app.py", Line: 6, Container: "main", ContainerKd: "Function"},
			{Target: "UserService/create_user", TargetFile: "test_repo/services.py", File: "test_repo/app.py", Line: 12, Container: "Seeder/seed", ContainerKd: "Method"},
			{Target: "make_service", TargetFile: "test_repo/services.py", File: "test_repo/app.py", Line: 4, Container: "main", ContainerKd: "Function"},
		},
		Diags: []Diagnostic{
			{File: "test_repo/services.py", Severity: "Warning", Owner: "UserService/create_user", Message: `"user" is shadowed`,
				StartLine: 19, StartChar: 8, EndLine: 19, EndChar: 12, Code: "reportRedeclaration", Source: "Pyright"},
			{File: "test_repo/services.py", Severity: "Error", Owner: "<file>", Message: `Import "test_repo.models" could not be resolved`,
				StartLine: 2, StartChar: 5, EndLine: 2, EndChar: 21, Code: 2001, Source: "Pyright"},
		},
	}
}

// UsersGo is users.go of GoProject.
const UsersGo = `package users

import "errors"

// User is a registered user.
type User struct {
	Name string
}

// UserService keeps users in memory.
type UserService struct {
	users map[string]*User
	limit int
}

// NewUserService returns an empty service.
func NewUserService(limit int) *UserService {
	return &UserService{users: map[string]*User{}, limit: limit}
}

// CreateUser stores a new user named name.
func (s *UserService) CreateUser(name string) (*User, error) {
	if name == "" {
		return nil, errors.New("empty name")
	}
	if len(s.users) >= s.limit {
		return nil, errors.New("too many users")
	}
	u := &User{Name: name}
	s.users[name] = u
	return u, nil
}

// Count is the number of users.
func (s *UserService) Count() int {
	return len(s.users)
}
`

// SeedGo is seed.go of GoProject: two calls of CreateUser, on lines 4 and
// 7 (0-based).
const SeedGo = `package users

// Seed adds the default users.
func Seed(s *UserService) error {
	if _, err := s.CreateUser("admin"); err != nil {
		return err
	}
	_, err := s.CreateUser("guest")
	return err
}
`

// GoModGo is go.mod of GoProject.
const GoModGo = "module users\n\ngo 1.22\n"

// GoProject is a small Go package as Serena reports it with gopls behind
// it:
//   - gopls's DocumentSymbols (gopls/internal/golang/symbols.go): methods
//     are top-level symbols named "(*UserService).CreateUser" of kind
//     Method, structs have their fields as Field children, and functions
//     have no children (no locals);
//   - Serena's gopls adapter (src/solidlsp/language_servers/gopls.py at
//     7fcbca7e): _normalize_symbol_name keeps what follows the last ".",
//     so the method's name path is "CreateUser", and a type's range is
//     extended back to its "type" keyword;
//   - hover texts are gopls's markdown as Serena's _request_info strips it
//     (the documentation link line gopls appends is left out).
//
// CreateUser (lines 21..31) is called twice in seed.go.
func GoProject() *Project {
	return &Project{
		Files: map[string]*File{
			"go.mod": {Text: GoModGo},
			"users.go": {Text: UsersGo, Symbols: []*Symbol{
				{NamePath: "User", Kind: "Struct", StartLine: 5, EndLine: 7,
					Info:     "```go\ntype User struct { // size=16 (0x10)\n\tName string\n}\n```\n\nUser is a registered user.",
					Children: []*Symbol{{NamePath: "User/Name", Kind: "Field", StartLine: 6, StartCol: 1, EndLine: 6}}},
				{NamePath: "UserService", Kind: "Struct", StartLine: 10, EndLine: 13,
					Info: "```go\ntype UserService struct { // size=16 (0x10)\n\tusers map[string]*User\n\tlimit int\n}\n```\n\nUserService keeps users in memory.",
					Children: []*Symbol{
						{NamePath: "UserService/users", Kind: "Field", StartLine: 11, StartCol: 1, EndLine: 11},
						{NamePath: "UserService/limit", Kind: "Field", StartLine: 12, StartCol: 1, EndLine: 12},
					}},
				{NamePath: "NewUserService", Kind: "Function", StartLine: 16, EndLine: 18,
					Info: "```go\nfunc NewUserService(limit int) *UserService\n```\n\nNewUserService returns an empty service."},
				{NamePath: "CreateUser", Kind: "Method", StartLine: 21, EndLine: 31,
					Info: "```go\nfunc (s *UserService) CreateUser(name string) (*User, error)\n```\n\nCreateUser stores a new user named name."},
				{NamePath: "Count", Kind: "Method", StartLine: 34, EndLine: 36,
					Info: "```go\nfunc (s *UserService) Count() int\n```\n\nCount is the number of users."},
			}},
			"seed.go": {Text: SeedGo, Symbols: []*Symbol{
				{NamePath: "Seed", Kind: "Function", StartLine: 3, EndLine: 9,
					Info: "```go\nfunc Seed(s *UserService) error\n```\n\nSeed adds the default users."},
			}},
		},
		Refs: []Reference{
			{Target: "CreateUser", TargetFile: "users.go", File: "seed.go", Line: 4, Container: "Seed", ContainerKd: "Function"},
			{Target: "CreateUser", TargetFile: "users.go", File: "seed.go", Line: 7, Container: "Seed", ContainerKd: "Function"},
		},
	}
}

// WriteFiles writes the project's files under dir.
func (p *Project) WriteFiles(dir string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for rel, f := range p.Files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(f.Text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// FileText returns the current text of a file (edits change it).
func (p *Project) FileText(rel string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.Files[rel]; f != nil {
		return f.Text
	}
	return ""
}

func (p *Project) sortedFiles() []string {
	var out []string
	for k := range p.Files {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lines returns the lines of a file.
func lines(text string) []string {
	ls := strings.Split(text, "\n")
	if len(ls) > 1 && ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// body is the symbol's text from its start column (Serena's "body": its
// first line is not indented).
func body(text string, s *Symbol) string {
	ls := lines(text)
	if s.EndLine >= len(ls) {
		return ""
	}
	parts := append([]string{ls[s.StartLine][min(s.StartCol, len(ls[s.StartLine])):]}, ls[s.StartLine+1:s.EndLine+1]...)
	return strings.Join(parts, "\n")
}

// contentAround renders Serena's content_around_reference
// (MatchedConsecutiveLines.from_file_contents with one line of context and
// TextLine.format_line, src/serena/util/text_utils.py at 7fcbca7e and the
// same in v0.1.4): the line with a "  >" marker and one line on each side
// marked "...", each with its 0-based line number right-aligned to width 4.
func contentAround(text string, line int) string {
	ls := lines(text)
	var out []string
	for l := max(line-1, 0); l <= min(line+1, len(ls)-1); l++ {
		prefix := "..."
		if l == line {
			prefix = "  >"
		}
		out = append(out, fmt.Sprintf("%s%4d:%s", prefix, l, ls[l]))
	}
	return strings.Join(out, "\n")
}

// walk calls fn for every symbol of f, depth first.
func walk(syms []*Symbol, fn func(*Symbol)) {
	for _, s := range syms {
		fn(s)
		walk(s.Children, fn)
	}
}
