package configs

import (
	"embed"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

//go:embed *.yaml
var embedded embed.FS

// DefaultName is the architecture `sparsesim run` uses without --config.
const DefaultName = "systolic-32x32"

// Embedded lists the shipped architecture names, sorted.
func Embedded() []string {
	ents, _ := embedded.ReadDir(".")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// EmbeddedSource returns the YAML text of a shipped architecture.
func EmbeddedSource(name string) ([]byte, bool) {
	b, err := embedded.ReadFile(name + ".yaml")
	return b, err == nil
}

// Load resolves ref (an embedded name, a YAML path or a SCALE-Sim .cfg
// path), applies the --set overrides in order and validates the result.
func Load(ref string, sets []string) (*Config, error) {
	if ref == "" {
		ref = DefaultName
	}
	if strings.HasSuffix(strings.ToLower(ref), ".cfg") {
		return loadScaleSim(ref, sets)
	}
	if b, ok := EmbeddedSource(ref); ok {
		return Parse("configs/"+ref+".yaml", b, sets)
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		if os.IsNotExist(err) && !strings.ContainsAny(ref, "/.") {
			return nil, usererr.New("--config %s: no such file and no embedded config of that name (embedded: %s)", ref, strings.Join(Embedded(), ", "))
		}
		return nil, usererr.New("--config %s: %v", ref, err)
	}
	if llm.LooksLikeHFConfig(b) {
		// JSON is YAML: it would be refused at its first key
		// (model_type) as an unknown field, which says nothing of the
		// mix-up.
		return nil, usererr.New("--config %s: this looks like a model (Hugging Face config.json); use --workload %s (with --phase prefill, decode or generate)", ref, ref)
	}
	return Parse(ref, b, sets)
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// Parse decodes YAML text named file, applies overrides and validates.
func Parse(file string, text []byte, sets []string) (*Config, error) {
	return parse(file, text, sets, nil)
}

// unmarshalYAML parses text from file into a node tree; a syntax error
// names the file and line.
func unmarshalYAML(file string, text []byte) (yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return doc, usererr.New("%s:%s: malformed YAML: %s", file, m[1], m[2])
		}
		return doc, usererr.New("%s: malformed YAML: %s", file, msg)
	}
	return doc, nil
}

// parse is Parse with, for non-YAML sources, a map from field path to the
// line of the original file that set it.
func parse(file string, text []byte, sets []string, lines map[string]int) (*Config, error) {
	if bad := binaryAt(text); bad >= 0 {
		return nil, usererr.New("%s: not a YAML config: binary data at byte %d", file, bad)
	}
	doc, err := unmarshalYAML(file, text)
	if err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
		// An empty file is almost always a mistake (a truncated write,
		// the wrong path); running the defaults under a custom name
		// would hide it.
		return nil, usererr.New("%s: empty config: no fields set (start from 'sparsesim configs --show %s')", file, DefaultName)
	}
	root := doc.Content[0]
	loc := locator{file: file, sets: sets, lines: lines, explicit: map[string]bool{}}
	for i, s := range sets {
		if err := applySet(root, s, -(i + 1)); err != nil {
			return nil, usererr.New("--set %s: %v", s, err)
		}
	}
	cfg := defaults()
	if err := decodeNode(root, reflect.ValueOf(&cfg).Elem(), "", loc); err != nil {
		return nil, err
	}
	cfg.explicit = loc.explicit
	if cfg.Mapping.File != "" {
		ls, err := loadLayerMappings(cfg.Mapping.File)
		if err != nil {
			return nil, err
		}
		cfg.Mapping.Layers = append(cfg.Mapping.Layers, ls...)
	}
	if errs := cfg.validate(); len(errs) > 0 {
		e := errs[0]
		err := usererr.New("%s: field %s: %s", loc.atPath(root, e.path), e.path, e.msg)
		if e.notRead {
			err = NotRead(err)
		}
		return nil, err
	}
	return &cfg, nil
}

// locator turns node lines into "file:line" or "--set expr" (overrides get
// negative lines).
type locator struct {
	file string
	sets []string
	// lines maps a field path to a source line for inputs that are not
	// YAML (SCALE-Sim .cfg files).
	lines map[string]int
	// explicit collects the field paths the source or a --set gave
	// (Config.Explicit); nil where nobody asks (mapping files).
	explicit map[string]bool
}

// given reports whether the key node k with value val at path was
// written by the user: any key of a YAML file, but of a re-encoded
// SCALE-Sim .cfg only the keys its lines map and the --set overrides
// (negative lines), since the re-encoding writes every field.
func (l locator) given(path string, k, val *yaml.Node) bool {
	return l.lines == nil || k.Line < 0 || val.Line < 0 || l.lines[path] != 0
}

// atPath locates the value of a field path.
func (l locator) atPath(root *yaml.Node, path string) string {
	line := findLine(root, path)
	if line >= 0 && l.lines != nil {
		line = l.lines[path]
	}
	return l.at(line)
}

func (l locator) at(line int) string {
	switch {
	case line < 0:
		return "--set " + l.sets[-line-1]
	case line == 0:
		return l.file
	}
	return fmt.Sprintf("%s:%d", l.file, line)
}

func yamlKey(f reflect.StructField) string { return strings.Split(f.Tag.Get("yaml"), ",")[0] }

// decodeNode decodes n into v strictly: unknown fields and type mismatches
// are errors naming the line and the full field path.
func decodeNode(n *yaml.Node, v reflect.Value, path string, loc locator) error {
	if v.Kind() == reflect.Struct {
		if n.Kind != yaml.MappingNode {
			return usererr.New("%s: field %s: expected a mapping of %s", loc.at(n.Line), orRoot(path), strings.Join(fieldNames(v.Type()), ", "))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			full := joinPath(path, k.Value)
			if seen[k.Value] {
				return usererr.New("%s: field %s: given twice", loc.at(k.Line), full)
			}
			seen[k.Value] = true
			idx := -1
			for j := 0; j < v.NumField(); j++ {
				if f := v.Type().Field(j); f.IsExported() && yamlKey(f) == k.Value {
					idx = j
				}
			}
			if idx < 0 {
				return usererr.New("%s: unknown field %s (allowed in %s: %s)", loc.at(k.Line), full, orRoot(path), strings.Join(fieldNames(v.Type()), ", "))
			}
			if loc.explicit != nil && loc.given(full, k, val) {
				loc.explicit[full] = true
			}
			if err := decodeNode(val, v.Field(idx), full, loc); err != nil {
				return err
			}
		}
		return nil
	}
	if v.Kind() == reflect.Slice {
		return decodeList(n, v, path, loc)
	}
	if v.Kind() == reflect.Map {
		if n.Kind != yaml.MappingNode {
			return usererr.New("%s: field %s: expected a mapping of names to values", loc.at(n.Line), path)
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeNode(val, elem, joinPath(path, k.Value), loc); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
		v.Set(m)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return usererr.New("%s: field %s: expected a single %s value, got a list or mapping", loc.at(n.Line), path, typeWord(v.Type()))
	}
	if v.Kind() == reflect.Int && !isYAMLInt(n) {
		return usererr.New("%s: field %s: expected an integer, got %q", loc.at(n.Line), path, n.Value)
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return usererr.New("%s: field %s: expected %s, got %q", loc.at(n.Line), path, typeWord(v.Type()), n.Value)
	}
	return nil
}

// decodeList reads a YAML sequence of scalars, or (from --set) one scalar
// holding a comma-separated list.
func decodeList(n *yaml.Node, v reflect.Value, path string, loc locator) error {
	var items []*yaml.Node
	switch {
	case n.Kind == yaml.SequenceNode:
		items = n.Content
	case n.Kind == yaml.ScalarNode && n.Value != "":
		for _, part := range strings.Split(n.Value, ",") {
			items = append(items, &yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(part), Line: n.Line})
		}
	case n.Kind == yaml.ScalarNode:
	default:
		return usererr.New("%s: field %s: expected a list", loc.at(n.Line), path)
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		if err := decodeNode(it, out.Index(i), fmt.Sprintf("%s[%d]", path, i), loc); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

// isYAMLInt reports whether a scalar resolves to a YAML integer; yaml.v3
// would otherwise truncate 40.7 or 1e3 into an int field without a word.
func isYAMLInt(n *yaml.Node) bool { return n.ShortTag() == "!!int" }

// binaryAt returns the offset of the first byte that cannot start a text
// file (NUL or other C0 control apart from tab, newline, carriage return),
// or -1. YAML error messages would otherwise echo raw bytes back.
func binaryAt(b []byte) int {
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return i
		}
	}
	if !utf8.Valid(b) {
		for i := 0; i < len(b); {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return i
			}
			i += n
		}
	}
	return -1
}

// FieldPaths lists every dotted path --set accepts (map sections as
// "section."), in schema order, for shell completion and error messages.
func FieldPaths() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue // not a key (Config.explicit)
			}
			p := joinPath(prefix, yamlKey(f))
			switch f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, p)
			case reflect.Map:
				out = append(out, p+".")
			default:
				out = append(out, p)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	return out
}

func orRoot(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func typeWord(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		return typeWord(t.Elem()) // an optional value: unset is nil
	}
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a string"
}

func fieldNames(t reflect.Type) []string {
	var s []string
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			s = append(s, yamlKey(t.Field(i)))
		}
	}
	return s
}

// applySet sets the scalar at a dotted path, creating mappings on the way.
// The new nodes carry line (negative) so errors point at the --set flag.
func applySet(root *yaml.Node, expr string, line int) error {
	key, val, ok := strings.Cut(expr, "=")
	if !ok || key == "" {
		return fmt.Errorf("expected key=value with a dotted YAML path, e.g. pe_array.rows=64")
	}
	if err := checkPath(reflect.TypeOf(Config{}), strings.Split(key, "."), ""); err != nil {
		return err
	}
	n := root
	parts := strings.Split(key, ".")
	for i, p := range parts {
		var child *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == p {
				child = n.Content[j+1]
			}
		}
		last := i == len(parts)-1
		if child == nil {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p, Line: line}, child)
		}
		if last {
			*child = yaml.Node{Kind: yaml.ScalarNode, Value: val, Line: line}
			if val == "" {
				// "key=" is an empty string, not YAML's null (which
				// would leave the default in place, silently).
				child.Tag = "!!str"
			}
		} else if child.Kind != yaml.MappingNode {
			*child = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
		}
		n = child
	}
	return nil
}

// CheckSetPath checks that key names a field --set can override, so a
// sweep axis with a typo is refused before any point runs.
func CheckSetPath(key string) error {
	if err := checkPath(reflect.TypeOf(Config{}), strings.Split(key, "."), ""); err != nil {
		return usererr.New("%v", err)
	}
	return nil
}

// checkPath rejects --set paths that name no field, listing what exists.
func checkPath(t reflect.Type, parts []string, prefix string) error {
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("%s is a value, it has no field %s", prefix, parts[0])
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() && yamlKey(t.Field(i)) == parts[0] {
			if t.Field(i).Type.Kind() == reflect.Map && len(parts) == 2 {
				return nil // a map entry, e.g. energy.overrides.mac_int8
			}
			if len(parts) == 1 {
				if t.Field(i).Type.Kind() == reflect.Struct {
					return fmt.Errorf("%s is a section; set one of its fields: %s", joinPath(prefix, parts[0]), strings.Join(fieldNames(t.Field(i).Type), ", "))
				}
				return nil
			}
			return checkPath(t.Field(i).Type, parts[1:], joinPath(prefix, parts[0]))
		}
	}
	return fmt.Errorf("unknown field %s (allowed in %s: %s)", joinPath(prefix, parts[0]), orRoot(prefix), strings.Join(fieldNames(t), ", "))
}

// findLine returns the line of the value at a dotted path, 0 if absent.
func findLine(root *yaml.Node, path string) int {
	n := root
	for _, p := range strings.Split(path, ".") {
		var next *yaml.Node
		for j := 0; n != nil && j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == p {
				next = n.Content[j+1]
			}
		}
		if next == nil {
			return 0
		}
		n = next
	}
	return n.Line
}

// loadLayerMappings reads a mapping file: a YAML list of layer mappings
// (layer, order, time_tile, dataflow), each checked here so an error
// names the file's own line.
func loadLayerMappings(path string) ([]LayerMapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usererr.New("mapping.file %s: %v", path, err)
	}
	doc, err := unmarshalYAML(path, b)
	if err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, usererr.New("%s: a mapping file is a YAML list of {layer, order, time_tile, dataflow}", path)
	}
	loc := locator{file: path}
	var out []LayerMapping
	seen := map[string]bool{}
	for i, n := range doc.Content[0].Content {
		var e LayerMapping
		if err := decodeNode(n, reflect.ValueOf(&e).Elem(), fmt.Sprintf("[%d]", i), loc); err != nil {
			return nil, err
		}
		if p := e.problems(); len(p) > 0 {
			return nil, usererr.New("%s: entry %d: %s", loc.at(n.Line), i, p[0])
		}
		if seen[e.Layer] {
			return nil, usererr.New("%s: entry %d: layer %q has two mappings", loc.at(n.Line), i, e.Layer)
		}
		seen[e.Layer] = true
		out = append(out, e)
	}
	return out, nil
}
