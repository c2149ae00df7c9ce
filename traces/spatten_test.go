package traces

import (
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

const spattenRef = "../../shared/reference/spatten/"

// Facts from shared/reference/README.md: 32 iterations × 12 layers × 12
// heads = 4,608 rows; keys kept 27.6%, values 5.5%, LSB refetch in 323 rows.
func TestReadSpAttenTraces(t *testing.T) {
	w, err := ReadSpAttenTrace(spattenRef + "summary-gpt2-small-wikitext2-per8.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Attention) != 4608 {
		t.Fatalf("%d rows, want 4608", len(w.Attention))
	}
	var keys, vals, ctx, requant int
	for _, r := range w.Attention {
		keys += r.KeyFetch
		vals += r.ValueFetch
		ctx += r.Context
		requant += r.RequantQueries
		if r.KeyBits != 6 || r.QueryBits != 16 || r.ValueBits != 6 || r.Threshold != 0.05 {
			t.Fatalf("row %+v", r)
		}
	}
	if requant != 323 {
		t.Errorf("%d rows refetch LSBs, want 323", requant)
	}
	if k, v := float64(keys)/float64(ctx), float64(vals)/float64(ctx); k < 0.2755 || k > 0.2765 || v < 0.0545 || v > 0.0555 {
		t.Errorf("keys kept %.4f, values %.4f; want 27.6%% and 5.5%%", k, v)
	}
	if !strings.Contains(w.Source, "yml") {
		t.Errorf("footer not kept as the source note: %s", w.Source)
	}
	base, err := ReadSpAttenTrace(spattenRef + "summary-gpt2-small-wikitext2-per8-step1+dedic.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range base.Attention {
		if r.KeyFetch != r.Context || r.ValueFetch != r.Context || r.KeyBits != 0 || r.RequantQueries != 0 {
			t.Fatalf("baseline row %+v is pruned or quantized", r)
		}
	}
	if w, err := ReadSpAttenTrace(spattenRef + "small.csv"); err != nil || len(w.Attention) != 1 {
		t.Errorf("small.csv: %v", err)
	}
	if !IsSpAttenTrace(spattenRef+"small.csv") || IsSpAttenTrace(ref+"gpt2.csv") {
		t.Error("trace detection")
	}
}

func TestSpAttenTraceErrors(t *testing.T) {
	head := strings.Join(spattenColumns, ",") + "\n"
	good := "0,0,0,64.0,993,993,6,16,0.05,True,4,204,6,True,False,False,-1\n"
	for _, tc := range []struct{ text, want string }{
		{head + "0,0,0,64.0,993,993,6,16,0.05,Maybe,4,204,6,True,False,False,-1\n", "t.csv:2: field if_requant: expected True or False"},
		{head + good + "0,0,1,64.0,993,994,6,16,0.05,True,4,204,6,True,False,False,-1\n", "t.csv:3: field key_fetch_num"},
		{head + "0,0,0,64.0,993,993,0,16,0.05,True,4,204,6,True,False,False,-1\n", "t.csv:2: field quant_key_bit"},
		{head + "0,0,0,64.5,993,993,6,16,0.05,True,4,204,6,True,False,False,-1\n", "t.csv:2: field embedding_length_D"},
		{head + "0,0,0,64.0,993\n", "t.csv:2: 5 fields, want 17"},
		{"iteration_id,layer_id\n", "t.csv:1: SpAtten trace header has 2 columns"},
		{head, "t.csv: no trace rows"},
		{head + good + "cfg.yml,,,,,,,,,,,,,,,,\n" + good, "t.csv:4: row after the trace's config footer"},
		{head + "0,0,0,64.0,993,993,6,16,0.05,True,4,204,6,True,False,True,zero\n", "t.csv:2: field topk"},
	} {
		_, err := parseSpAttenTrace("t.csv", strings.NewReader(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !usererr.Is(err) {
			t.Errorf("got %v, want a user error containing %q", err, tc.want)
		}
	}
}
