package configs

import (
	"reflect"
	"strings"
	"testing"
)

// Integers are integers: yaml.v3 alone would truncate 40.7 into a 40-row
// array, from a file or from --set.
func TestIntegerFieldsAreStrict(t *testing.T) {
	for _, bad := range []string{"40.7", "1e3", "0.5", "true", "64x"} {
		_, err := Load(DefaultName, []string{"pe_array.rows=" + bad})
		if err == nil || !strings.Contains(err.Error(), "pe_array.rows: expected an integer") {
			t.Errorf("--set pe_array.rows=%s: %v", bad, err)
		}
		_, err = Load(writeTemp(t, "pe_array:\n  rows: "+bad+"\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "arch.yaml:2: field pe_array.rows: expected an integer") {
			t.Errorf("rows: %s in a file: %v", bad, err)
		}
	}
	c, err := Load(DefaultName, []string{"pe_array.rows=0x10", "pe_array.cols=40"})
	if err != nil || c.PEArray.Rows != 16 || c.PEArray.Cols != 40 {
		t.Errorf("YAML integers: %+v %v", c.PEArray, err)
	}
}

// "--set key=" sets an empty value, never YAML's null: a required field
// is refused naming the key instead of silently keeping its default; an
// optional path may be emptied.
func TestEmptySetValueIsNotIgnored(t *testing.T) {
	for _, key := range []string{"dataflow", "pe_array.rows", "moe.routing", "attention.decode_on_engine", "kv_sparsity.method"} {
		if _, err := Load(DefaultName, []string{key + "="}); err == nil || !strings.Contains(err.Error(), "field "+key) {
			t.Errorf("--set %s=: %v, want an error naming the field", key, err)
		}
	}
	if c, err := Load(DefaultName, []string{"moe.trace="}); err != nil || c.MoE.Trace != "" {
		t.Errorf("--set moe.trace=: %v", err)
	}
}

func TestEmptyAndBinaryConfigsRefused(t *testing.T) {
	for name, text := range map[string]string{"empty": "", "comments only": "# nothing\n", "null": "~\n"} {
		_, err := Load(writeTemp(t, text), nil)
		if err == nil || !strings.Contains(err.Error(), "empty config") {
			t.Errorf("%s file: %v", name, err)
		}
	}
	elf := "\x7fELF\x02\x01\x01\x00\x00\x00name: x\n"
	_, err := Load(writeTemp(t, elf), nil)
	if err == nil || strings.ContainsAny(err.Error(), "\x00\x7f\n") || !strings.Contains(err.Error(), "binary data at byte 0") {
		t.Errorf("ELF file: %q", err)
	}
	_, err = Load(writeTemp(t, "name: \xff\xfe\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "binary data at byte 6") {
		t.Errorf("invalid UTF-8: %q", err)
	}
}

func TestFieldPathsAreSettable(t *testing.T) {
	paths := FieldPaths()
	if len(paths) < 20 {
		t.Fatalf("only %d paths", len(paths))
	}
	for _, p := range paths {
		if strings.HasSuffix(p, ".") {
			continue
		}
		if err := checkPath(reflect.TypeOf(Config{}), strings.Split(p, "."), ""); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// The spatten engine has its own attention units: the systolic array's
// unit count and weight registers are refused there, not ignored.
func TestSystolicArrayKeysRefusedOnSpatten(t *testing.T) {
	for _, set := range []string{"pe_array.units=4", "pe_array.weight_buffers=2"} {
		if _, err := Load("spatten", []string{set}); err == nil || !strings.Contains(err.Error(), "read by the systolic engine") {
			t.Errorf("spatten --set %s: %v", set, err)
		}
	}
}
