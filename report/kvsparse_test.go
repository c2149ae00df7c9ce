package report

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestKVSparsityJSONConfidence: confidence widths are written as numbers,
// and as null when undefined (one sample).
func TestKVSparsityJSONConfidence(t *testing.T) {
	b, err := json.Marshal(KVSparsity{Method: "quest", MassRecallCI95: 0.25, OutputRelErrorCI95: math.NaN()})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, `"mass_recall_ci95":0.25`) || !strings.Contains(s, `"output_rel_error_ci95":null`) || strings.Count(s, "mass_recall_ci95") != 1 {
		t.Errorf("JSON %s", s)
	}
}
