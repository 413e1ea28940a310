package configs

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a configuration file, placed at the line that
// holds it (or, for a missing key, at the mapping that should hold it).
type Error struct {
	File   string
	Line   int
	Column int
	Key    string // dotted path, e.g. kiosk.printer.port
	Msg    string
}

func (e *Error) Error() string {
	key := e.Key
	if key == "" {
		key = "(top level)"
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, key, e.Msg)
}

// Errors is every problem found in one file, in file order. A technician
// fixes them all in one pass instead of one per run.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// decoder turns a YAML node tree into Go values without yaml's own
// reflection, so that every mistake can be reported with its file, line,
// key path and what was expected, and so that all of them are reported.
type decoder struct {
	file  string
	errs  Errors
	nodes map[string]*yaml.Node // key path → the value node, for later checks
	bad   map[string]bool       // key paths whose value could not be decoded
}

// parseYAML reads one YAML document and decodes it into v (a pointer to a
// struct already holding defaults). It returns the decoder so the caller can
// add semantic checks placed at the right lines.
func parseYAML(file string, data []byte, v any) *decoder {
	d := &decoder{file: file, nodes: map[string]*yaml.Node{}, bad: map[string]bool{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.syntaxError(err)
		return d
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.bad[""] = true
		d.add(1, 1, "", "the file is empty; expected a mapping of settings (see configs/reference.yaml)")
		return d
	}
	root := doc.Content[0]
	d.decode(root, reflect.ValueOf(v).Elem(), "")
	return d
}

// syntaxError places yaml's own message ("yaml: line 4: ...") at its line.
func (d *decoder) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	d.bad[""] = true
	d.add(line, 1, "", "YAML syntax: "+msg)
}

func (d *decoder) add(line, col int, key, msg string) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Key: key, Msg: msg})
}

func (d *decoder) errorAt(n *yaml.Node, key, format string, args ...any) {
	d.bad[key] = true
	d.add(n.Line, n.Column, key, fmt.Sprintf(format, args...))
}

// errorf reports a problem with the value at path. If the key is absent
// from the file, the problem is placed at the nearest enclosing key that is
// present. A value that already failed to decode is not reported again.
func (d *decoder) errorf(path, format string, args ...any) {
	if d.bad[""] {
		return // the file as a whole is unreadable; one error says so
	}
	for p := path; p != ""; p = parentPath(p) {
		if d.bad[p] {
			return
		}
	}
	for p := path; ; p = parentPath(p) {
		if n, ok := d.nodes[p]; ok {
			d.errorAt(n, path, format, args...)
			return
		}
		if p == "" {
			d.add(1, 1, path, fmt.Sprintf(format, args...))
			return
		}
	}
}

// present reports whether path was written in the file.
func (d *decoder) present(path string) bool {
	_, ok := d.nodes[path]
	return ok
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	sort.SliceStable(d.errs, func(i, j int) bool {
		if d.errs[i].Line != d.errs[j].Line {
			return d.errs[i].Line < d.errs[j].Line
		}
		return d.errs[i].Column < d.errs[j].Column
	})
	return d.errs
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// defaulter is implemented by list elements that need defaults before the
// file's keys are laid over them.
type defaulter interface{ setDefaults() }

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.nodes[path] = n
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "key:" with nothing after it keeps the default
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			d.errorAt(n, path, "expected a single value, got %s", describe(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.errorAt(n, path, "%v", err)
		}
		return
	}
	if v.Type() == durationType {
		d.decodeDuration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.errorAt(n, path, "expected text, got %s; put it in quotes if you mean the text %q", describe(n), n.Value)
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.errorAt(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v.OverflowInt(i) {
			d.errorAt(n, path, "expected a whole number, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorAt(n, path, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		// A programming error in the config types, not in the file.
		panic(fmt.Sprintf("configs: unsupported field type %s at %s", v.Type(), path))
	}
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorAt(n, path, "expected a duration like 10s, 1m30s or 500ms, got %s", describe(n))
		return
	}
	if n.ShortTag() == "!!int" && n.Value == "0" {
		v.SetInt(0)
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorAt(n, path, "expected a duration like 10s, 1m30s or 500ms, got %q", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, path, "expected a mapping of keys (key: value on separate lines), got %s", describe(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := kn.Value
		kp := joinPath(path, key)
		if key == "<<" {
			d.errorAt(kn, kp, "YAML merge keys are not supported; write the settings out")
			continue
		}
		if seen[key] {
			d.errorAt(kn, kp, "key is set twice in the same mapping")
			continue
		}
		seen[key] = true
		idx, ok := fields[key]
		if !ok {
			hint := ""
			if n.Style&yaml.FlowStyle != 0 && strings.ContainsAny(key, " .") {
				// {uk: Так, звісно, en: Yes} reads "звісно" as a key.
				hint = "; in {…} a comma ends a value: put a text with commas in quotes"
			}
			d.errorAt(kn, kp, "unknown key; %s%s", expectedKeys(key, fields), hint)
			continue
		}
		d.decode(vn, v.Field(idx), kp)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorAt(n, path, "expected a list (lines starting with \"- \" or [a, b]), got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		v.SetZero() // "[]" and an absent key mean the same
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, en := range n.Content {
		ev := s.Index(i)
		if df, ok := ev.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.decode(en, ev, fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("configs: map key type %s at %s", v.Type().Key(), path))
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		kp := joinPath(path, kn.Value)
		k := reflect.New(v.Type().Key()).Elem()
		k.SetString(kn.Value)
		if m.MapIndex(k).IsValid() {
			d.errorAt(kn, kp, "key is set twice in the same mapping")
			continue
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(vn, ev, kp)
		m.SetMapIndex(k, ev)
	}
	v.Set(m)
}

// structFields maps yaml keys to field indexes. Every exported field must
// carry a yaml tag: a key in the file is a promise in the reference.
func structFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" {
			panic(fmt.Sprintf("configs: field %s.%s has no yaml tag", t.Name(), f.Name))
		}
		if name == "-" {
			continue
		}
		m[name] = i
	}
	return m
}

func expectedKeys(got string, fields map[string]int) string {
	keys := make([]string, 0, len(fields))
	best, bestDist := "", 3
	for k := range fields {
		keys = append(keys, k)
		if dist := editDistance(got, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	sort.Strings(keys)
	msg := "expected one of: " + strings.Join(keys, ", ")
	if best != "" {
		msg = fmt.Sprintf("did you mean %q? %s", best, msg)
	}
	return msg
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		kind := map[string]string{
			"!!str": "text", "!!int": "a whole number", "!!float": "a number",
			"!!bool": "true/false", "!!null": "nothing", "!!timestamp": "a date",
		}[n.ShortTag()]
		if kind == "" {
			kind = n.ShortTag()
		}
		return fmt.Sprintf("%s %q", kind, n.Value)
	}
	return "an unexpected YAML node"
}

// editDistance is the Levenshtein distance, for "did you mean" hints.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// oneOf is the shared UnmarshalText body of the enumerated settings.
func oneOf(text []byte, allowed ...string) (string, error) {
	s := string(text)
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", fmt.Errorf("got %q, expected one of: %s", s, strings.Join(allowed, ", "))
}
