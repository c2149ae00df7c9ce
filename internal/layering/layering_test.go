package layering

import (
	"bufio"
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/sparsesim/sparsesim/"

// allowed parses the package table of docs/architecture.md: package → the
// module packages it may import (nil: any, for the command).
func allowed(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]bool{}
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "layering: the test in internal/layering parses this table") {
			in = true
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if len(out) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("architecture.md: table row %q has %d cells, want 3", line, len(cells))
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if name == "package" || strings.HasPrefix(name, "---") {
			continue
		}
		may := strings.TrimSpace(cells[2])
		if may == "any package above" {
			out[name] = nil
			continue
		}
		set := map[string]bool{}
		for _, p := range strings.Split(may, ",") {
			if p = strings.Trim(strings.TrimSpace(p), "`"); p != "" {
				set[p] = true
			}
		}
		out[name] = set
	}
	if len(out) == 0 {
		t.Fatal("architecture.md: no package table after the layering marker")
	}
	return out
}

// packages lists the module's packages (directories with non-test Go
// files) relative to root, with their module imports.
func packages(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		base := d.Name()
		if path != root && (strings.HasPrefix(base, ".") || base == "testdata" || base == "bin" || base == "docs") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(root, path)
		var imps []string
		for _, i := range p.Imports {
			if strings.HasPrefix(i, module) {
				imps = append(imps, strings.TrimPrefix(i, module))
			}
		}
		out[filepath.ToSlash(rel)] = imps
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportsFollowTheMap(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	may := allowed(t, root)
	pkgs := packages(t, root)
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		set, ok := may[p]
		if !ok {
			t.Errorf("package %s is not in docs/architecture.md's table: add its one idea and what it may import", p)
			continue
		}
		if set == nil {
			continue
		}
		for _, i := range pkgs[p] {
			if !set[i] {
				t.Errorf("%s imports %s, which docs/architecture.md does not allow", p, i)
			}
		}
	}
	for p := range may {
		if _, ok := pkgs[p]; !ok {
			t.Errorf("docs/architecture.md lists %s, which is not a package", p)
		}
	}
}

// The workloads rule in words, so a table edit cannot quietly drop it.
func TestWorkloadsImportNoLowerLayer(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for p, imps := range packages(t, root) {
		for _, i := range imps {
			switch {
			case strings.HasPrefix(p, "workloads") && (i == "memory" || i == "configs" || strings.HasPrefix(i, "arch") || strings.HasPrefix(i, "inference")):
				t.Errorf("%s imports %s: workloads describe work, the layers above lower it", p, i)
			case strings.HasPrefix(p, "internal/") && !strings.HasPrefix(i, "internal/"):
				t.Errorf("%s imports %s: internal/ holds helpers with no domain knowledge", p, i)
			}
		}
	}
}
