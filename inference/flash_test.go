package inference

import (
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/workloads/llm"
)

// attnRecords sums layer 0's attention-class records of the prefill
// (step -1) or of decode step 1: the array's attention operators only.
func layer0Attention(r *LLMResult, step int) (cycles, bytes int64, names []string) {
	for _, op := range r.Ops {
		if op.Step == step && op.Class == "attention" && strings.HasPrefix(op.Name, "L0.") {
			cycles += op.Cycles
			bytes += op.Bytes.Total()
			names = append(names, op.Name)
		}
	}
	return cycles, bytes, names
}

func runRecorded(t *testing.T, m llm.Model, o LLMOptions, sets ...string) *LLMResult {
	t.Helper()
	o.RecordOps = true
	r, err := SimulateLLM(loadCfg(t, "llm-128x128", sets...), m, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFusedAttentionBytes: one layer's fused attention moves Q, K and V in
// and O out, each once — counted here from the model's dimensions — and
// the unfused attention moves at least the scores out and back on top.
func TestFusedAttentionBytes(t *testing.T) {
	m := zooModel(t, "llama-3.2-1b")
	const batch, prompt, elem = 2, 256, 2 // bf16 activations and cache
	heads, kv, hd := int64(m.NumAttentionHeads), int64(m.KVHeads()), int64(m.HeadSize())
	B, S, L := int64(batch), int64(prompt), int64(prompt)
	q := B * heads * S * hd * elem
	o := q
	kvBytes := 2 * B * kv * L * hd * elem
	want := q + kvBytes + o
	scores := 2 * B * heads * S * L * elem // written by Q·Kᵀ, read by P·V
	opts := LLMOptions{Phase: PhasePrefill, Prompt: prompt, Batch: batch}
	fused := runRecorded(t, m, opts)
	_, got, names := layer0Attention(fused, -1)
	if len(names) != 1 || names[0] != "L0.attn_fused" {
		t.Fatalf("fused prefill's layer-0 attention operators: %v, want one L0.attn_fused", names)
	}
	// Every row a group touches (Q, K, V, O) is whole 64 B requests
	// (head_dim × 2 B = 128 B at 128 B offsets): allow one request per row
	// segment of rounding anyway.
	slack := B * kv * (2*int64(m.QueryGroup())*S + 2*L) * 64
	if got < want || got > want+slack {
		t.Errorf("fused attention moved %d B, want Q+K+V+O = %d B (+ up to %d of request rounding)", got, want, slack)
	}
	unfused := runRecorded(t, m, opts, "attention.fused=false")
	_, ub, _ := layer0Attention(unfused, -1)
	if ub-got < scores {
		t.Errorf("unfused attention moved %d B, fused %d B: the difference should be at least the scores' 2·S·L·bytes = %d B", ub, got, scores)
	}
	if fused.Prefill.Attention != "fused" || !fused.Prefill.AttentionFused || unfused.Prefill.AttentionFused {
		t.Errorf("phase says fused %q/%v, unfused %q/%v", fused.Prefill.Attention, fused.Prefill.AttentionFused, unfused.Prefill.Attention, unfused.Prefill.AttentionFused)
	}
}

// TestFusedAttentionMACBound: a fused attention takes at least its two
// products' MACs over the array's PEs, in prefill and in decode. Decode
// lays two 64-wide heads side by side on the 128-wide array (each head's
// queries zero in the other's columns), so it does twice the MACs.
func TestFusedAttentionMACBound(t *testing.T) {
	m := zooModel(t, "llama-3.2-1b")
	cfg := loadCfg(t, "llm-128x128")
	pes := int64(cfg.PEArray.Rows * cfg.PEArray.Cols)
	heads, hd := int64(m.NumAttentionHeads), int64(m.HeadSize())
	const batch, prompt = 2, 300
	r := runRecorded(t, m, LLMOptions{Phase: PhaseGenerate, Prompt: prompt, Gen: 2, Batch: batch})
	for _, c := range []struct {
		step       int
		new, l     int64
		headsSided int64
	}{{-1, prompt, prompt, 1}, {1, 1, prompt + 1, int64(cfg.PEArray.Cols) / hd}} {
		macs := 2 * batch * heads * c.new * c.l * hd * c.headsSided // Q·Kᵀ and P·V
		var cycles, did int64
		for _, op := range r.Ops {
			if op.Step == c.step && (op.Name == "L0.attn_fused" || op.Name == "L0.attn_fused_tail") {
				cycles += op.Cycles
				did += op.Stats.MACs
			}
		}
		if did != macs {
			t.Errorf("step %d: fused attention did %d MACs, want %d", c.step, did, macs)
		}
		if bound := macs / pes; cycles < bound {
			t.Errorf("step %d: fused attention took %d cycles, under the array's MAC bound %d", c.step, cycles, bound)
		}
	}
}

// TestFusedPrefillNoWorse: a small prefill, whose queries fit one tile
// per group, is no slower and moves fewer bytes fused.
func TestFusedPrefillNoWorse(t *testing.T) {
	m := zooModel(t, "llama-3.2-1b")
	o := LLMOptions{Phase: PhasePrefill, Prompt: 128, Batch: 1}
	f := runRecorded(t, m, o)
	u := runRecorded(t, m, o, "attention.fused=false")
	if f.Prefill.Cycles > u.Prefill.Cycles || f.Prefill.Bytes.Total() >= u.Prefill.Bytes.Total() {
		t.Errorf("fused prefill %d cycles, %d B; unfused %d cycles, %d B", f.Prefill.Cycles, f.Prefill.Bytes.Total(), u.Prefill.Cycles, u.Prefill.Bytes.Total())
	}
}

// TestUnfusedUnchanged: attention.fused=false gives the numbers the code
// gave before fused attention existed (llama-3.2-1b 200 + 4, batch 2,
// measured with the previous commit's sparsesim run -f json).
func TestUnfusedUnchanged(t *testing.T) {
	m := zooModel(t, "llama-3.2-1b")
	r := runRecorded(t, m, LLMOptions{Phase: PhaseGenerate, Prompt: 200, Gen: 4, Batch: 2}, "attention.fused=false")
	want := []struct {
		ph     *PhaseStats
		cycles int64
		bytes  Bytes
		attn   int64 // the attention class's cycles
	}{{r.Prefill, 54494674, Bytes{Weights: 2471493632, KV: 26214400, Activations: 688649216}, 1228416},
		{r.Decode, 88180070, Bytes{Weights: 7414480896, KV: 39911424, Activations: 12696576}, 1227888}}
	for i, w := range want {
		if w.ph.Cycles != w.cycles || w.ph.Bytes != w.bytes || w.ph.Classes[classIndex("attention")].Cycles != w.attn {
			t.Errorf("phase %d: %d cycles, %+v, attention %d cycles; before: %d, %+v, %d", i, w.ph.Cycles, w.ph.Bytes,
				w.ph.Classes[classIndex("attention")].Cycles, w.cycles, w.bytes, w.attn)
		}
	}
	for i, c := range []int64{29393346, 29393362, 29393362} {
		if r.Steps[i].Cycles != c {
			t.Errorf("decode step %d: %d cycles, before %d", i+1, r.Steps[i].Cycles, c)
		}
	}
}

// TestFusedRefusals: attention.fused=true is refused where nothing reads
// it.
func TestFusedRefusals(t *testing.T) {
	m := zooModel(t, "llama-3.2-1b")
	cfg := loadCfg(t, "llm-128x128", "attention.fused=true", "attention.decode_on_engine=true")
	err := CheckLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 64, Gen: 2, Batch: 1})
	if err == nil || !strings.Contains(err.Error(), "attention.fused") {
		t.Errorf("decode on the engine with attention.fused=true: %v", err)
	}
	if err := CheckLLM(cfg, m, LLMOptions{Phase: PhaseGenerate, Prompt: 64, Gen: 2, Batch: 1}); err != nil {
		t.Errorf("generate on the engine with attention.fused=true (prefill reads it): %v", err)
	}
}
